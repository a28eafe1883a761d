import { TASK_LOCK_MS } from "@/lib/runtime/task-processor";
import { pipelineStatus } from "@/lib/pipelines/status";
import type { Offsets, ProgressMonitor, Reached } from "./monitor";
import { redeploy, rescale, TEAM, type ChaosTeam, type DeployedPipeline } from "./pipelines";
import type { Random } from "./random";
import type { FaultKind, PlannedFault } from "./schedule";
import type { ChaosStack } from "./stack";

/**
 * Injects the scheduled faults into the running stack, each logged with its
 * time, and measures how long until output flows again: the time from the
 * fault until every pipeline has committed everything its sources held when
 * the fault hit (ProgressMonitor). Faults of different kinds may overlap, as
 * in production; two of the same kind never do.
 */
export interface FaultOutcome {
  index: number;
  kind: FaultKind;
  /** Milliseconds after the producer started. */
  atMs: number;
  detail: string;
  /** Seconds from the fault until every pipeline had committed what its sources held at the fault. */
  recoverySeconds?: number;
  recovered: boolean;
  /** The pipeline and source partition that flowed again last. */
  slowest?: string;
  error?: string;
}

/** A fault that has not recovered after this long (from its end: a paused worker resumed, ClickHouse back) did not recover. */
export const RECOVERY_TIMEOUT_MS = 180_000;
/** ClickHouse stays down this long (the 60 s). */
export const CLICKHOUSE_DOWN_MS = 60_000;
/** A paused worker stays stopped this long: well past its task locks (TASK_LOCK_MS) and its consumers' session timeout (6 s). */
export const PAUSE_MS = { min: 3 * TASK_LOCK_MS, max: 5 * TASK_LOCK_MS };
/** A killed worker process is started again this long after (what a supervisor or container restart does). */
export const WORKER_RESTART_DELAY_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultInjector {
  readonly outcomes: FaultOutcome[] = [];
  private readonly busy = new Map<FaultKind, Promise<unknown>>();
  private readonly recoveries: Promise<void>[] = [];
  /** Scale faults so far (they alternate between Window and stateless pipelines). */
  private scales = 0;
  /** Ends of faults that outlast their injection (ClickHouse started again). */
  private readonly endings: Promise<void>[] = [];

  constructor(
    private readonly stack: ChaosStack,
    private readonly team: ChaosTeam,
    private readonly monitor: ProgressMonitor,
    private readonly rnd: Random,
    private readonly t0: number,
    private readonly log: (line: string) => void,
  ) {}

  private stamp(ms = Date.now() - this.t0): string {
    const s = ms / 1000;
    return `+${String(Math.floor(s / 60)).padStart(2, "0")}:${(s % 60).toFixed(1).padStart(4, "0")}`;
  }

  /** Runs the whole schedule; resolves when every fault has been injected and ended (recoveries may still be pending: see settled()). */
  async run(plan: PlannedFault[], stopped: () => boolean): Promise<void> {
    const running: Promise<void>[] = [];
    for (const [i, f] of plan.entries()) {
      const wait = this.t0 + f.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      if (stopped()) break;
      const previous = this.busy.get(f.kind) ?? Promise.resolve();
      const p = previous.then(() => this.inject(f, i + 1, plan.length));
      this.busy.set(f.kind, p.catch(() => {}));
      running.push(p);
    }
    await Promise.all(running);
    await Promise.all(this.endings);
  }

  /** Resolves once every fault's recovery was measured (or timed out). */
  async settled(): Promise<void> {
    await Promise.all(this.recoveries);
  }

  private async inject(f: PlannedFault, index: number, total: number): Promise<void> {
    let startedAt = Date.now();
    const outcome: FaultOutcome = { index, kind: f.kind, atMs: startedAt - this.t0, detail: "", recovered: false };
    const moveClock = () => (outcome.atMs = startedAt - this.t0);
    this.outcomes.push(outcome);
    const say = (what: string) => this.log(`[${this.stamp()}] fault ${index}/${total} ${f.kind}: ${what}`);
    // What the sources hold once the fault is in effect (a worker dead or frozen, a new
    // generation started…): output flows again when every pipeline has committed past it,
    // i.e. processed on every source partition a record that arrived after the fault.
    // Watched from the moment it is taken, so the time it is first reached is the recovery time.
    let flowing: Promise<Reached> | undefined;
    const inEffect = async (clockFromNow = false) => {
      if (flowing) return;
      // A service that takes its time to shut down: the outage starts when it is gone.
      if (clockFromNow) {
        startedAt = Date.now();
        moveClock();
      }
      const target: Offsets = (await this.monitor.sampleNow()).ends;
      flowing = this.monitor.whenCommitted(target, { beyond: true });
    };
    let ended: number;
    try {
      outcome.detail = await this.execute(f.kind, say, inEffect);
      await inEffect();
      ended = Date.now();
    } catch (e) {
      outcome.error = (e as Error).message;
      say(`FAILED to inject: ${outcome.error}`);
      return;
    }
    const recovery = Promise.race([
      flowing!,
      sleep(Math.max(0, ended + RECOVERY_TIMEOUT_MS - Date.now())).then(() => undefined),
    ]).then((reached) => {
      if (reached === undefined) {
        say(`did NOT recover within ${RECOVERY_TIMEOUT_MS / 1000}s of its end`);
        return;
      }
      outcome.recovered = true;
      outcome.recoverySeconds = Math.max(0, (reached.at - startedAt) / 1000);
      outcome.slowest = reached.last;
      say(`recovered: output flowing again after ${outcome.recoverySeconds.toFixed(1)}s (last: ${reached.last})`);
    });
    this.recoveries.push(recovery);
  }

  /** Waits until every task of the pipeline's new generation runs (the old one has stopped by then). */
  private async newGenerationRunning(p: DeployedPipeline, generation: number, say: (what: string) => void): Promise<void> {
    const started = Date.now();
    for (;;) {
      const s = await pipelineStatus(this.team.principal, TEAM, p.spec.name).catch(() => undefined);
      if (s?.deployed && s.generation === generation && s.tasks.length && s.tasks.every((t) => t.state === "running")) break;
      if (Date.now() - started > RECOVERY_TIMEOUT_MS) throw new Error(`generation ${generation} of ${p.spec.name} not running after ${RECOVERY_TIMEOUT_MS / 1000}s`);
      await sleep(250);
    }
    say(`generation ${generation} running after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }

  private async execute(kind: FaultKind, say: (what: string) => void, inEffect: (clockFromNow?: boolean) => Promise<void>): Promise<string> {
    const { stack } = this;
    switch (kind) {
      case "worker-kill": {
        const w = this.rnd.pick(stack.liveWorkers().filter((x) => !x.paused));
        say(`kill -9 worker ${w.name} (pid ${w.child.pid})`);
        w.child.kill("SIGKILL");
        await inEffect();
        await sleep(WORKER_RESTART_DELAY_MS);
        const fresh = stack.startWorker();
        say(`worker ${fresh.name} started in its place`);
        return `kill -9 ${w.name}; ${fresh.name} started ${WORKER_RESTART_DELAY_MS / 1000}s later`;
      }
      case "worker-pause": {
        const w = this.rnd.pick(stack.liveWorkers().filter((x) => !x.paused));
        const ms = this.rnd.int(PAUSE_MS.min, PAUSE_MS.max);
        say(`SIGSTOP worker ${w.name} (pid ${w.child.pid}) for ${(ms / 1000).toFixed(1)}s (task lock ${TASK_LOCK_MS / 1000}s)`);
        w.paused = true;
        w.child.kill("SIGSTOP");
        await inEffect();
        await sleep(ms);
        w.child.kill("SIGCONT");
        w.paused = false;
        say(`SIGCONT worker ${w.name}: it wakes up as a zombie of the tasks taken over meanwhile`);
        return `SIGSTOP ${w.name} for ${(ms / 1000).toFixed(1)}s, then SIGCONT`;
      }
      case "broker-kill": {
        await inEffect(); // nothing can be read or committed until it is back
        say(`kill -9 broker (pid ${stack.services.broker.pid})`);
        await stack.services.broker.kill();
        const t = Date.now();
        await stack.services.broker.start();
        say(`broker restarted on the same data dir (listening after ${((Date.now() - t) / 1000).toFixed(1)}s)`);
        return `kill -9 broker, restarted on the same data dir`;
      }
      case "redis-restart":
      case "postgres-restart": {
        const svc = stack.services[kind === "redis-restart" ? "redis" : "postgres"];
        say(`stopping ${svc.name}`);
        const t = Date.now();
        await svc.stop();
        await inEffect();
        await svc.start();
        say(`${svc.name} back after ${((Date.now() - t) / 1000).toFixed(1)}s`);
        return `${svc.name} stopped and started (down ${((Date.now() - t) / 1000).toFixed(1)}s)`;
      }
      case "clickhouse-stop": {
        say(`stopping ClickHouse for ${CLICKHOUSE_DOWN_MS / 1000}s`);
        const t = Date.now();
        await stack.services.clickhouse.stop();
        await inEffect(true);
        say(`ClickHouse down (its shutdown took ${((Date.now() - t) / 1000).toFixed(1)}s)`);
        // Measured while it is down: pipelines must keep flowing without their metrics store.
        this.endings.push(
          sleep(CLICKHOUSE_DOWN_MS)
            .then(() => stack.services.clickhouse.start())
            .then(() => say("ClickHouse started again"))
            .catch((e) => say(`ClickHouse did not start again: ${(e as Error).message}`)),
        );
        return `ClickHouse stopped for ${CLICKHOUSE_DOWN_MS / 1000}s`;
      }
      case "redeploy": {
        const p = this.rnd.pick(this.team.pipelines);
        const shift = this.rnd.int(10, 90);
        const { what, generation } = await retrying(() => redeploy(this.team, p, shift));
        say(`redeployed ${what}`);
        await this.newGenerationRunning(p, generation, say);
        await inEffect();
        return `redeploy ${what}`;
      }
      case "scale": {
        // Scales take turns: a Window pipeline (keyed scale-out moves its key groups between tasks) first,
        // then a stateless one, so even a short run with one scale rescales window state.
        const keyed = this.scales++ % 2 === 0;
        const candidates = this.team.pipelines.filter((p) => p.spec.stateful === keyed);
        const p = this.rnd.pick(candidates);
        const options = [1, 2, 3].filter((n) => n !== p.parallelism);
        const parallelism = this.rnd.pick(options);
        const { what, generation } = await retrying(() => rescale(this.team, p, parallelism));
        say(`scaled ${what}`);
        await this.newGenerationRunning(p, generation, say);
        await inEffect();
        return `scale ${what}`;
      }
    }
  }
}

/** Control-plane calls during other faults (Postgres restarting) are retried, as an operator would. */
async function retrying<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(1_000);
    }
  }
}
