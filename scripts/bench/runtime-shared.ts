/** The records, schemas, pipeline and hand-written transform the runtime bench and its hand-written loop share. */

export function record(i: number, sentAt = 0) {
  return JSON.stringify({
    event_id: `evt-${(1_000_000 + i).toString(36)}`, user_id: `user-${i % 10_007}`, country: ["US", "FR", "DE", "JP"][i % 4],
    device: ["ios", "android", "web"][i % 3], amount: Math.round(((i * 7919) % 10_000) / 3) / 100, status: i % 11 === 0 ? 500 : 200,
    sent_at: sentAt, page: `/products/item-${i % 1000}`, referrer: "https://shop.example.com/search?q=shoes",
  });
}
export const schema = [
  { name: "event_id", type: "string" }, { name: "user_id", type: "string" }, { name: "country", type: "string" }, { name: "device", type: "string" },
  { name: "amount", type: "float" }, { name: "status", type: "int" }, { name: "sent_at", type: "timestamp" }, { name: "page", type: "string" }, { name: "referrer", type: "string" },
];
export const sinkSchema = [{ name: "event_id", type: "string" }, { name: "user", type: "string" }, { name: "cents", type: "int" }, { name: "country", type: "string" }, { name: "sent_at", type: "timestamp" }];
export const pipelineDef = (src: string, sink: string) => ({
  version: 1,
  nodes: [
    { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
    { id: "ok", type: "filter", config: { predicate: "status == 200 && amount > 1.0" }, position: { x: 1, y: 0 } },
    { id: "shape", type: "projection", config: { fields: [{ name: "event_id", from: "event_id" }, { name: "user", from: "user_id" }, { name: "cents", expr: "int(amount * 100.0)" }, { name: "country", from: "country" }, { name: "sent_at", from: "sent_at" }] }, position: { x: 2, y: 0 } },
    { id: "out", type: "sink", config: { stream: sink }, position: { x: 3, y: 0 } },
  ],
  edges: [{ source: "src", target: "ok" }, { source: "ok", target: "shape" }, { source: "shape", target: "out" }],
});
/** The same work written by hand. */
export function handTransform(v: Buffer): Buffer | null {
  const r = JSON.parse(v.toString()) as { status: number; amount: number; event_id: string; user_id: string; country: string; sent_at: number };
  if (!(r.status === 200 && r.amount > 1.0)) return null;
  return Buffer.from(JSON.stringify({ event_id: r.event_id, user: r.user_id, cents: Math.trunc(r.amount * 100), country: r.country, sent_at: r.sent_at }));
}
