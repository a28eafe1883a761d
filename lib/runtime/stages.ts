import type { KafkaMessage, Message } from "kafkajs";
import type { PlanResult, ValidationContext } from "@/lib/compiler";
import { splitStages, type StagesResult } from "@/lib/compiler/stages";
import type { WatermarkMarker } from "@/lib/operators/window";
import { encodeRecord, type Pipeline } from "@/lib/pipeline";
import { repartitionStreamName } from "./naming";

/**
 * Keyed scale-out in the runtime (docs/runtime.md "Stages"): the stages of a
 * deployed version, and the watermark markers a stage writes into a
 * repartition stream beside the records.
 */

/** A deployment's stages: cut at each Window when it has a max parallelism (its key groups); one stage otherwise (the earlier layout). */
export function deployedStages(pipeline: Pipeline, pipelineId: string, ctx: ValidationContext, maxParallelism: number | null): StagesResult {
  return splitStages(pipeline, ctx, { streamName: (w) => repartitionStreamName(pipelineId, w), cut: maxParallelism !== null });
}

/** Markers carry this header; the Window stage reads them as watermarks, never as records. */
export const WATERMARK_HEADER = "sluice-watermark";

/** One marker per partition of the repartition stream (every key group hears from every upstream task). */
export function markerMessages(marker: WatermarkMarker, partitions: number): Message[] {
  const value = JSON.stringify(marker);
  return Array.from({ length: partitions }, (_, partition) => ({ partition, key: null, value, headers: { [WATERMARK_HEADER]: "1" } }));
}

export const isWatermarkMarker = (m: Pick<KafkaMessage, "headers">) => m.headers?.[WATERMARK_HEADER] !== undefined;

export function parseMarker(m: Pick<KafkaMessage, "value">): WatermarkMarker | undefined {
  try {
    const v = JSON.parse(m.value?.toString("utf8") ?? "") as WatermarkMarker;
    return Number.isInteger(v.generation) && Number.isInteger(v.task) && Number.isInteger(v.tasks) && (v.watermark === null || typeof v.watermark === "number") && typeof v.idle === "boolean" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A batch of a repartition partition as runs of records and the markers between them, in log order. */
export function splitAtMarkers(messages: KafkaMessage[]): ({ records: KafkaMessage[] } | { marker: WatermarkMarker })[] {
  const out: ({ records: KafkaMessage[] } | { marker: WatermarkMarker })[] = [];
  let run: KafkaMessage[] = [];
  for (const m of messages) {
    if (!isWatermarkMarker(m)) {
      run.push(m);
      continue;
    }
    if (run.length) out.push({ records: run });
    run = [];
    const marker = parseMarker(m);
    if (marker) out.push({ marker });
  }
  if (run.length) out.push({ records: run });
  return out;
}

/** The results of one batch's runs as one result (counts added, outputs in order). */
export function mergeResults(parts: PlanResult[]): PlanResult & { encoded?: Map<string, Uint8Array[]> } {
  if (parts.length === 1) return parts[0];
  const out: PlanResult & { encoded: Map<string, Uint8Array[]> } = { sinks: new Map(), sinkMetas: new Map(), perNode: new Map(), errors: [], encoded: new Map() };
  const append = <T,>(m: Map<string, T[]>, k: string, v: readonly T[]) => {
    const l = m.get(k);
    if (l) for (const x of v) l.push(x);
    else m.set(k, [...v]);
  };
  let keyed = false;
  for (const p of parts) {
    for (const [k, rows] of p.sinks) {
      const enc = (p as { encoded?: Map<string, Uint8Array[]> }).encoded?.get(k);
      // Encoded values are what gets written; a part without them is encoded here so the merged result stays whole.
      append(out.encoded, k, enc ?? rows.map(encodeRecord));
      append(out.sinks, k, rows);
      append(out.sinkMetas, k, p.sinkMetas.get(k) ?? []);
    }
    for (const [k, c] of p.perNode) {
      const t = out.perNode.get(k) ?? { in: 0, out: 0, filtered: 0, errored: 0, late: 0 };
      t.in += c.in;
      t.out += c.out;
      t.filtered += c.filtered;
      t.errored += c.errored;
      t.late = (t.late ?? 0) + (c.late ?? 0);
      out.perNode.set(k, t);
    }
    for (const e of p.errors) out.errors.push(e);
    if (p.sinkKeys) keyed = true;
  }
  if (keyed) {
    out.sinkKeys = new Map();
    out.sinkPartitions = new Map();
    for (const p of parts) {
      for (const [k, v] of p.sinkKeys ?? []) append(out.sinkKeys, k, v);
      for (const [k, v] of p.sinkPartitions ?? []) append(out.sinkPartitions, k, v);
    }
  }
  return out;
}
