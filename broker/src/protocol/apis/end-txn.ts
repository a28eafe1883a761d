import { defineApi } from "../api";
import type { TxnProducer } from "./add-partitions-to-txn";

export const EndTxn = defineApi<TxnProducer & { committed: boolean }, { errorCode: number }>({
  key: 26,
  name: "EndTxn",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({ transactionalId: r.string(), producerId: r.int64(), producerEpoch: r.int16(), committed: r.boolean() }),
  encode(w, _v, res) {
    w.int32(0).int16(res.errorCode);
  },
});
