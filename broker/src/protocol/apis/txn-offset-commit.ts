import { defineApi } from "../api";
import type { TxnProducer } from "./add-partitions-to-txn";
import { type PartitionErrors, encodePartitionErrors } from "./offset-commit";

export interface TxnOffsetCommitRequest extends TxnProducer {
  groupId: string;
  topics: { name: string; partitions: { index: number; offset: number; metadata: string | null }[] }[];
}

export const TxnOffsetCommit = defineApi<TxnOffsetCommitRequest, PartitionErrors>({
  key: 28,
  name: "TxnOffsetCommit",
  minVersion: 0,
  maxVersion: 2,
  decode(r, v) {
    return {
      transactionalId: r.string(),
      groupId: r.string(),
      producerId: r.int64(),
      producerEpoch: r.int16(),
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => {
          const index = r.int32();
          const offset = r.int64();
          if (v >= 2) r.int32();
          return { index, offset, metadata: r.nullableString() };
        }),
      })),
    };
  },
  encode(w, _v, res) {
    w.int32(0);
    encodePartitionErrors(w, res);
  },
});
