import { defineApi } from "../api";

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: { index: number; records: Buffer | null }[] }[];
}
export interface ProducePartitionResult {
  index: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}
export interface ProduceResponse {
  topics: { name: string; partitions: ProducePartitionResult[] }[];
}

/** v3+ only: earlier versions carry the pre-0.11 message formats, which we do not store. */
export const Produce = defineApi<ProduceRequest, ProduceResponse>({
  key: 0,
  name: "Produce",
  minVersion: 3,
  maxVersion: 7,
  decode(r) {
    return {
      transactionalId: r.nullableString(),
      acks: r.int16(),
      timeoutMs: r.int32(),
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
      })),
    };
  },
  encode(w, v, res) {
    w.array(res.topics, (w, t) => {
      w.string(t.name);
      w.array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(-1);
        if (v >= 5) w.int64(p.logStartOffset);
      });
    });
    w.int32(0);
  },
});
