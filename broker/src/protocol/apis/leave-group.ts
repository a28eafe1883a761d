import { defineApi, throttle } from "../api";

export const LeaveGroup = defineApi<{ groupId: string; memberId: string }, { errorCode: number }>({
  key: 13,
  name: "LeaveGroup",
  minVersion: 0,
  maxVersion: 2,
  decode: (r) => ({ groupId: r.string(), memberId: r.string() }),
  encode(w, v, res) {
    throttle(w, v, 1);
    w.int16(res.errorCode);
  },
});
