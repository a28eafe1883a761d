import { defineApi, throttle } from "../api";

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}

export const Heartbeat = defineApi<HeartbeatRequest, { errorCode: number }>({
  key: 12,
  name: "Heartbeat",
  minVersion: 0,
  maxVersion: 3,
  decode(r, v) {
    const req = { groupId: r.string(), generationId: r.int32(), memberId: r.string() };
    if (v >= 3) r.nullableString();
    return req;
  },
  encode(w, v, res) {
    throttle(w, v, 1);
    w.int16(res.errorCode);
  },
});
