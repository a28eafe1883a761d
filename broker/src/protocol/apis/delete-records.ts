import { defineApi } from "../api";

export const DeleteRecords = defineApi<
  { topics: { name: string; partitions: { index: number; offset: number }[] }[]; timeoutMs: number },
  { topics: { name: string; partitions: { index: number; lowWatermark: number; errorCode: number }[] }[] }
>({
  key: 21,
  name: "DeleteRecords",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({
    topics: r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => ({ index: r.int32(), offset: r.int64() })),
    })),
    timeoutMs: r.int32(),
  }),
  encode(w, _v, res) {
    w.int32(0);
    w.array(res.topics, (w, t) => {
      w.string(t.name);
      w.array(t.partitions, (w, p) => w.int32(p.index).int64(p.lowWatermark).int16(p.errorCode));
    });
  },
});
