import { defineApi } from "../api";

export const InitProducerId = defineApi<
  { transactionalId: string | null; transactionTimeoutMs: number },
  { errorCode: number; producerId: number; producerEpoch: number }
>({
  key: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({ transactionalId: r.nullableString(), transactionTimeoutMs: r.int32() }),
  encode(w, _v, res) {
    w.int32(0).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch);
  },
});
