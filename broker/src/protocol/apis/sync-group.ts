import { defineApi, throttle } from "../api";

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}
export interface SyncGroupResponse {
  errorCode: number;
  assignment: Buffer;
}

export const SyncGroup = defineApi<SyncGroupRequest, SyncGroupResponse>({
  key: 14,
  name: "SyncGroup",
  minVersion: 0,
  maxVersion: 3,
  decode(r, v) {
    const groupId = r.string();
    const generationId = r.int32();
    const memberId = r.string();
    if (v >= 3) r.nullableString();
    const assignments = r.array((r) => ({ memberId: r.string(), assignment: Buffer.from(r.bytes()) }));
    return { groupId, generationId, memberId, assignments };
  },
  encode(w, v, res) {
    throttle(w, v, 1);
    w.int16(res.errorCode).bytes(res.assignment);
  },
});
