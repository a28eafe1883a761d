import { defineApi } from "../api";
import { type PartitionErrors, encodePartitionErrors } from "./offset-commit";

export interface TxnProducer {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

export const AddPartitionsToTxn = defineApi<TxnProducer & { topics: { name: string; partitions: number[] }[] }, PartitionErrors>({
  key: 24,
  name: "AddPartitionsToTxn",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({
    transactionalId: r.string(),
    producerId: r.int64(),
    producerEpoch: r.int16(),
    topics: r.array((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) })),
  }),
  encode(w, _v, res) {
    w.int32(0);
    encodePartitionErrors(w, res);
  },
});
