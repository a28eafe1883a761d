import { defineApi } from "../api";
import type { TopicResults } from "./create-topics";

export const CreatePartitions = defineApi<
  { topics: { name: string; count: number }[]; timeoutMs: number; validateOnly: boolean },
  TopicResults
>({
  key: 37,
  name: "CreatePartitions",
  minVersion: 0,
  maxVersion: 1,
  decode(r) {
    const topics = r.array((r) => {
      const name = r.string();
      const count = r.int32();
      r.nullableArray((r) => r.array((r) => r.int32()));
      return { name, count };
    });
    return { topics, timeoutMs: r.int32(), validateOnly: r.boolean() };
  },
  encode(w, _v, res) {
    w.int32(0);
    w.array(res.topics, (w, t) => w.string(t.name).int16(t.errorCode).nullableString(t.errorMessage));
  },
});
