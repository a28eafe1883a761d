import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/**
 * CPU, memory and event-loop delay of this process between two reads, for the
 * worker heartbeat (fleet page, Prometheus). The event-loop delay is what
 * starves BullMQ lock renewals, so it is the first figure to look at when
 * tasks move between workers for no visible reason.
 */
export class ProcessStats {
  private histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor() {
    this.histogram.enable();
  }

  read(): { cpuPercent: number; rssBytes: number; eventLoopDelayMs: number; eventLoopDelayP99Ms: number } {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Math.max(1, (now - this.lastAt) * 1000);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const h = this.histogram;
    const mean = Number.isFinite(h.mean) ? h.mean / 1e6 : 0;
    const p99 = h.count ? h.percentile(99) / 1e6 : 0;
    h.reset();
    return {
      cpuPercent: Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10,
      rssBytes: process.memoryUsage.rss(),
      eventLoopDelayMs: Math.round(mean * 10) / 10,
      eventLoopDelayP99Ms: Math.round(p99 * 10) / 10,
    };
  }

  stop(): void {
    this.histogram.disable();
  }
}
