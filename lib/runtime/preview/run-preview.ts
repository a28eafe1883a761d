import type { Redis } from "ioredis";
import { prisma } from "@/lib/db/prisma";
import type { PartitionReader, ReadRecord } from "@/lib/kafka/partition-reader";
import { kafkaAdmin, partitionReader } from "@/lib/kafka/shared";
import { compilePipeline, PARTIAL_GRAPH_CODES, type NodeCounts, type PartitionId, type Plan, type PlanResult } from "@/lib/compiler";
import { sourcePartitionId } from "../source-progress";
import { loadTeamCatalog } from "@/lib/pipelines/catalog-context";
import { checkPipeline } from "@/lib/pipelines/pipelines";
import { redisKeys, type RunPreviewPayload } from "@/lib/queue/contracts";
import type { PreviewEvent, PreviewRecordError } from "./events";

/** Records per plan call: small, so the first rows reach the browser at once. */
const PREVIEW_BATCH = 50;
/** How often a running preview looks for its cancel key and its deadline. */
const WATCH_MS = 250;
/** A tail preview may run this much longer than the `seconds` it asked for (reads, flush). */
const TAIL_GRACE_MS = 5_000;

/** Longest a sample preview may run (PREVIEW_MAX_SECONDS, 30 s by default). */
function sampleDeadlineMs(): number {
  const s = Number(process.env.PREVIEW_MAX_SECONDS);
  return (Number.isFinite(s) && s > 0 ? s : 30) * 1000;
}

interface Meta {
  topic: string;
  partition: number;
  offset: string;
}

/** The newest `limit` committed records of a topic across its partitions, oldest first. */
async function newestRecords(reader: PartitionReader, topic: string, limit: number): Promise<ReadRecord[]> {
  const admin = await kafkaAdmin();
  const watermarks = await admin.fetchTopicOffsets(topic);
  const out: ReadRecord[] = [];
  for (const w of watermarks) {
    out.push(...(await reader.newest(topic, w.partition, BigInt(w.low), BigInt(w.high), limit)).records);
  }
  return out.sort((a, b) => a.timestamp - b.timestamp).slice(-limit);
}

/**
 * Runs a preview job: the (unsaved) pipeline on a sample of its sources,
 * never writing anywhere — Sink nodes' rows are shown as their output. Events
 * are published as each small batch completes, so first rows arrive fast.
 */
export async function runPreview(payload: RunPreviewPayload, redis: Redis): Promise<void> {
  const channel = redisKeys.previewChannel(payload.previewId);
  const publish = (e: PreviewEvent) => redis.publish(channel, JSON.stringify(e));
  const started = Date.now();
  const deadline = started + (payload.mode === "tail" ? payload.seconds * 1000 + TAIL_GRACE_MS : sampleDeadlineMs());
  // Stopped when the browser goes away (the web sets the cancel key) or the deadline passes — between
  // batches, and in the middle of one that waits on a UDF: disposing the plan interrupts its isolate.
  const stop = new AbortController();
  let plan: Plan | undefined;
  const watch = setInterval(() => {
    if (stop.signal.aborted) return;
    const timedOut = Date.now() > deadline;
    void (timedOut ? Promise.resolve(1) : redis.exists(redisKeys.previewCancel(payload.previewId)).catch(() => 0)).then((hit) => {
      if (!hit || stop.signal.aborted) return;
      stop.abort(timedOut ? "timeout" : "cancelled");
      plan?.dispose();
    });
  }, WATCH_MS);
  const cancelled = async () => {
    if (!stop.signal.aborted && (await redis.exists(redisKeys.previewCancel(payload.previewId))) === 1) {
      stop.abort("cancelled");
      plan?.dispose();
    }
    return stop.signal.aborted;
  };
  try {
    const team = await prisma().team.findUnique({ where: { id: payload.teamId } });
    if (!team) return void (await publish({ type: "error", message: "The team no longer exists." }));
    // Never trust the queue: validate again with the team's view of the catalog.
    const checked = await checkPipeline(team.id, payload.pipeline);
    const blocking = checked.diagnostics.find((d) => d.severity === "error" && !PARTIAL_GRAPH_CODES.has(d.code));
    if (!checked.pipeline || blocking) return void (await publish({ type: "error", message: `The pipeline has errors: ${blocking?.message ?? "invalid"}` }));
    const catalog = await loadTeamCatalog(team.id);
    // Windows keep a watermark per source partition, as in production, so the sample gives the
    // results a deployment would give on the same records (docs/runtime.md "Live preview").
    plan = compilePipeline(checked.pipeline, catalog.ctx, { partial: true, checkSourceSchema: true, partitionOf: (m) => (m ? sourcePartitionId((m as Meta).topic, (m as Meta).partition) : undefined) });
    const compiled = plan;
    const sources = [...new Set(compiled.sources.values())];
    await publish({ type: "started", previewId: payload.previewId, mode: payload.mode, sources });

    const totals = new Map<string, NodeCounts>();
    const sentRows = new Map<string, number>();
    let sampled = 0;
    let produced = 0;
    let errored = 0;
    const report = async (res: PlanResult) => {
      for (const [nodeId, c] of res.perNode) {
        const t = totals.get(nodeId) ?? { in: 0, out: 0, filtered: 0, errored: 0 };
        t.in += c.in;
        t.out += c.out;
        t.filtered += c.filtered;
        t.errored += c.errored;
        totals.set(nodeId, t);
      }
      for (const rows of res.sinks.values()) produced += rows.length;
      errored += res.errors.length;
      for (const [nodeId, ports] of res.outputs ?? []) {
        if (payload.targetNodeId && nodeId !== payload.targetNodeId) continue;
        for (const [port, rows] of ports) {
          const key = `${nodeId}:${port}`;
          const room = payload.limit - (sentRows.get(key) ?? 0);
          if (room <= 0 || !rows.length) continue;
          const slice = rows.slice(0, room);
          sentRows.set(key, (sentRows.get(key) ?? 0) + slice.length);
          await publish({ type: "rows", nodeId, port, rows: slice });
        }
      }
      if (res.errors.length) {
        const errors: PreviewRecordError[] = res.errors.slice(0, payload.limit).map((e) => ({ nodeId: e.nodeId, reason: e.reason, record: e.record, source: e.meta as Meta | undefined }));
        await publish({ type: "errors", errors });
      }
      await publish({ type: "counts", perNode: Object.fromEntries(totals) });
      await publish({ type: "status", sampled, produced, errored, elapsedMs: Date.now() - started });
    };
    const run = async (stream: string, records: ReadRecord[]) => {
      for (let i = 0; i < records.length; i += PREVIEW_BATCH) {
        if (stop.signal.aborted) return;
        const batch = records.slice(i, i + PREVIEW_BATCH);
        sampled += batch.length;
        let res: PlanResult;
        try {
          res = await compiled.processEncoded(stream, batch.map((r) => r.value), { capture: true, metas: batch.map((r): Meta => ({ topic: r.topic, partition: r.partition, offset: r.offset })) });
        } catch (e) {
          // The plan was disposed under a running UDF: the preview was stopped, not broken.
          if (stop.signal.aborted) return;
          throw e;
        }
        await report(res);
        // A turn of the event loop between batches: the watch above gets to run.
        await new Promise((r) => setImmediate(r));
      }
    };

    // The process's one reader: previews share its broker connections (lib/kafka/shared.ts).
    const reader = await partitionReader();
    let reason: "complete" | "cancelled" | "timeout" | "limit" = "complete";
    const stopped = () => (stop.signal.reason === "timeout" ? "timeout" : "cancelled");
    try {
      if (payload.mode === "sample") {
        // The sample is a bounded replay: every partition it holds records of holds the
        // watermark back until it has delivered them all (records go in append order).
        const samples = new Map<string, ReadRecord[]>();
        for (const stream of sources) samples.set(stream, await newestRecords(reader, catalog.entries.get(stream)!.topic, payload.limit));
        compiled.assignPartitions(new Map([...samples].map(([stream, records]) => [stream, [...new Set(records.map((r) => sourcePartitionId(r.topic, r.partition)))]])), Date.now());
        for (const [stream, records] of samples) {
          if (await cancelled()) break;
          await run(stream, records);
        }
        if (stop.signal.aborted) reason = stopped();
      } else {
        const admin = await kafkaAdmin();
        const positions = new Map<string, Map<number, string>>();
        for (const stream of sources) positions.set(stream, new Map((await admin.fetchTopicOffsets(catalog.entries.get(stream)!.topic)).map((w) => [w.partition, w.high])));
        compiled.assignPartitions(new Map([...positions].map(([stream, parts]) => [stream, [...parts.keys()].map((p) => sourcePartitionId(catalog.entries.get(stream)!.topic, p))])), Date.now());
        const tailEnd = started + payload.seconds * 1000;
        while (Date.now() < tailEnd && sampled < payload.limit) {
          if (await cancelled()) break;
          let got = 0;
          // A source check around each round of fetches, as a task runs it: partitions found
          // at their end and quiet for the idle timeout stop holding watermarks back.
          const check = compiled.beginSourceCheck(Date.now());
          const caughtUp = new Set<PartitionId>();
          for (const [stream, parts] of positions) {
            const topic = catalog.entries.get(stream)!.topic;
            for (const [partition, offset] of parts) {
              const res = await reader.fetch(topic, partition, offset, { maxBytes: 256 * 1024 });
              const take = res.records.slice(0, payload.limit - sampled);
              parts.set(partition, take.length < res.records.length ? (BigInt(take[take.length - 1]?.offset ?? offset) + 1n).toString() : res.nextOffset);
              got += take.length;
              if (take.length) await run(stream, take);
              if (BigInt(parts.get(partition)!) >= BigInt(res.highWatermark)) caughtUp.add(sourcePartitionId(topic, partition));
            }
          }
          if (compiled.stateful) {
            const passed = await compiled.advanceTime(Date.now(), { capture: true, source: { check, caughtUp } });
            if ([...passed.perNode.values()].some((c) => c.out || c.errored)) await report(passed);
          }
          if (!got) await new Promise((r) => setTimeout(r, 200));
        }
        reason = stop.signal.aborted ? stopped() : sampled >= payload.limit ? "limit" : "timeout";
      }
      // Close open windows so the sample shows what they would emit.
      if (compiled.stateful && !stop.signal.aborted) await report(await compiled.flush({ capture: true }));
    } finally {
      compiled.dispose();
    }
    await publish({ type: "done", reason });
  } catch (e) {
    await publish({ type: "error", message: e instanceof Error ? e.message : String(e) });
  } finally {
    clearInterval(watch);
  }
}
