import { defineApi } from "../api";

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: { name: string; partitions: { index: number; fetchOffset: number; partitionMaxBytes: number }[] }[];
}
export interface FetchPartitionResult {
  index: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  aborted: { producerId: number; firstOffset: number }[] | null;
  records: Buffer[];
}
export interface FetchResponse {
  errorCode: number;
  topics: { name: string; partitions: FetchPartitionResult[] }[];
}

/**
 * v4+ (isolation level and aborted transactions exist from v4). Fetch sessions (v7+) are
 * answered session-less (id 0), which the protocol allows: clients send full requests.
 */
export const Fetch = defineApi<FetchRequest, FetchResponse>({
  key: 1,
  name: "Fetch",
  minVersion: 4,
  maxVersion: 11,
  decode(r, v) {
    r.int32(); // replica_id
    const maxWaitMs = r.int32();
    const minBytes = r.int32();
    const maxBytes = r.int32();
    const isolationLevel = r.int8();
    const sessionId = v >= 7 ? r.int32() : 0;
    const sessionEpoch = v >= 7 ? r.int32() : -1;
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32();
        if (v >= 9) r.int32(); // current_leader_epoch
        const fetchOffset = r.int64();
        if (v >= 5) r.int64(); // log_start_offset (followers only)
        return { index, fetchOffset, partitionMaxBytes: r.int32() };
      }),
    }));
    if (v >= 7) r.array((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }));
    if (v >= 11) r.string();
    return { maxWaitMs, minBytes, maxBytes, isolationLevel, sessionId, sessionEpoch, topics };
  },
  encode(w, v, res) {
    w.int32(0);
    if (v >= 7) w.int16(res.errorCode).int32(0);
    w.array(res.topics, (w, t) => {
      w.string(t.name);
      w.array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.highWatermark).int64(p.lastStableOffset);
        if (v >= 5) w.int64(p.logStartOffset);
        w.nullableArray(p.aborted, (w, a) => w.int64(a.producerId).int64(a.firstOffset));
        if (v >= 11) w.int32(-1);
        const size = p.records.reduce((n, b) => n + b.length, 0);
        w.int32(size);
        for (const b of p.records) w.rawRef(b);
      });
    });
  },
});
