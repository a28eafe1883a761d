import type { MetricsResponse, Series } from "./types";

/**
 * Live update: the newest buckets (`since` onwards) replace the tail of what
 * the chart holds, and buckets that slid out of the range are dropped, so a
 * poll moves a few points, not the whole range.
 */
export function mergeMetrics(prev: MetricsResponse, next: MetricsResponse, windowFrom: number): MetricsResponse {
  const cut = next.t.length ? next.t[0] : Infinity;
  const keep = prev.t.map((t, i) => (t >= windowFrom && t < cut ? i : -1)).filter((i) => i >= 0);
  const join = (a: Series | undefined, b: Series | undefined, n: number): Series => [...keep.map((i) => a?.[i] ?? null), ...(b ?? new Array<number | null>(n).fill(null))];
  const n = next.t.length;
  const t = [...keep.map((i) => prev.t[i]), ...next.t];
  const ids = [...new Set([...next.nodes.map((x) => x.id), ...prev.nodes.map((x) => x.id)])];
  const nodes = ids.map((id) => {
    const a = prev.nodes.find((x) => x.id === id);
    const b = next.nodes.find((x) => x.id === id);
    return { id, type: b?.type ?? a!.type, in: join(a?.in, b?.in, n), out: join(a?.out, b?.out, n), filtered: join(a?.filtered, b?.filtered, n), errored: join(a?.errored, b?.errored, n), late: join(a?.late, b?.late, n) };
  });
  const tasks = Object.fromEntries((Object.keys(next.tasks) as (keyof MetricsResponse["tasks"])[]).map((k) => [k, join(prev.tasks[k], next.tasks[k], n)])) as MetricsResponse["tasks"];
  const keys = [...new Set([...next.partitions.map((p) => p.key), ...prev.partitions.map((p) => p.key)])];
  const partitions = keys.map((key) => {
    const a = prev.partitions.find((p) => p.key === key);
    const b = next.partitions.find((p) => p.key === key);
    return { key, stream: (b ?? a)!.stream, partition: (b ?? a)!.partition, lag: join(a?.lag, b?.lag, n) };
  });
  const events = [...prev.events.filter((e) => e.at / 1000 >= windowFrom && e.at / 1000 < cut), ...next.events];
  return { ...next, range: { ...next.range, from: windowFrom }, t, nodes, tasks, partitions, events };
}
