import { defineApi } from "../api";

export interface ListOffsetsRequest {
  isolationLevel: number;
  topics: { name: string; partitions: { index: number; timestamp: number }[] }[];
}
export interface ListOffsetsResponse {
  topics: { name: string; partitions: { index: number; errorCode: number; timestamp: number; offset: number }[] }[];
}

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export const ListOffsets = defineApi<ListOffsetsRequest, ListOffsetsResponse>({
  key: 2,
  name: "ListOffsets",
  minVersion: 1,
  maxVersion: 3,
  decode(r, v) {
    r.int32(); // replica_id
    const isolationLevel = v >= 2 ? r.int8() : 0;
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => ({ index: r.int32(), timestamp: r.int64() })),
    }));
    return { isolationLevel, topics };
  },
  encode(w, v, res) {
    if (v >= 2) w.int32(0);
    w.array(res.topics, (w, t) => {
      w.string(t.name);
      w.array(t.partitions, (w, p) => w.int32(p.index).int16(p.errorCode).int64(p.timestamp).int64(p.offset));
    });
  },
});
