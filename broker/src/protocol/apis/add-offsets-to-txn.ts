import { defineApi } from "../api";
import type { TxnProducer } from "./add-partitions-to-txn";

export const AddOffsetsToTxn = defineApi<TxnProducer & { groupId: string }, { errorCode: number }>({
  key: 25,
  name: "AddOffsetsToTxn",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({ transactionalId: r.string(), producerId: r.int64(), producerEpoch: r.int16(), groupId: r.string() }),
  encode(w, _v, res) {
    w.int32(0).int16(res.errorCode);
  },
});
