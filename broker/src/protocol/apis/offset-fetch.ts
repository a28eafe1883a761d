import { defineApi, throttle } from "../api";

export interface OffsetFetchRequest {
  groupId: string;
  /** null: every partition the group has committed. */
  topics: { name: string; partitions: number[] }[] | null;
}
export interface OffsetFetchResponse {
  errorCode: number;
  topics: { name: string; partitions: { index: number; offset: number; metadata: string | null; errorCode: number }[] }[];
}

export const OffsetFetch = defineApi<OffsetFetchRequest, OffsetFetchResponse>({
  key: 9,
  name: "OffsetFetch",
  minVersion: 1,
  maxVersion: 5,
  decode: (r) => ({
    groupId: r.string(),
    topics: r.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) })),
  }),
  encode(w, v, res) {
    throttle(w, v, 3);
    w.array(res.topics, (w, t) => {
      w.string(t.name);
      w.array(t.partitions, (w, p) => {
        w.int32(p.index).int64(p.offset);
        if (v >= 5) w.int32(-1);
        w.nullableString(p.metadata).int16(p.errorCode);
      });
    });
    if (v >= 2) w.int16(res.errorCode);
  },
});
