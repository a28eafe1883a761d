import { defineApi, throttle } from "../api";

export const DeleteTopics = defineApi<
  { names: string[]; timeoutMs: number },
  { results: { name: string; errorCode: number }[] }
>({
  key: 20,
  name: "DeleteTopics",
  minVersion: 0,
  maxVersion: 3,
  decode: (r) => ({ names: r.array((r) => r.string()), timeoutMs: r.int32() }),
  encode(w, v, res) {
    throttle(w, v, 1);
    w.array(res.results, (w, t) => w.string(t.name).int16(t.errorCode));
  },
});
