import { defineApi, throttle } from "../api";

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  topics: { name: string; partitions: { index: number; offset: number; metadata: string | null }[] }[];
}
export interface PartitionErrors {
  topics: { name: string; partitions: { index: number; errorCode: number }[] }[];
}

export const OffsetCommit = defineApi<OffsetCommitRequest, PartitionErrors>({
  key: 8,
  name: "OffsetCommit",
  minVersion: 2,
  maxVersion: 7,
  decode(r, v) {
    const groupId = r.string();
    const generationId = r.int32();
    const memberId = r.string();
    if (v >= 7) r.nullableString(); // group_instance_id
    if (v <= 4) r.int64(); // retention_time_ms: offsets live until the group is deleted
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32();
        const offset = r.int64();
        if (v >= 6) r.int32(); // committed_leader_epoch
        return { index, offset, metadata: r.nullableString() };
      }),
    }));
    return { groupId, generationId, memberId, topics };
  },
  encode(w, v, res) {
    throttle(w, v, 3);
    encodePartitionErrors(w, res);
  },
});

export function encodePartitionErrors(w: import("../writer").Writer, res: PartitionErrors): void {
  w.array(res.topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.index).int16(p.errorCode));
  });
}
