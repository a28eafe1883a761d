import type { Broker } from "../broker";
import { AddOffsetsToTxn } from "../protocol/apis/add-offsets-to-txn";
import { AddPartitionsToTxn } from "../protocol/apis/add-partitions-to-txn";
import { EndTxn } from "../protocol/apis/end-txn";
import { InitProducerId } from "../protocol/apis/init-producer-id";
import { TxnOffsetCommit } from "../protocol/apis/txn-offset-commit";
import { type Handler, handler } from "./handler";

export function transactionHandlers(b: Broker): Handler[] {
  return [
    handler(InitProducerId, (req) => b.txns.initProducerId(req.transactionalId, req.transactionTimeoutMs)),
    handler(AddPartitionsToTxn, (req) => b.txns.addPartitions(req)),
    handler(AddOffsetsToTxn, async (req) => ({ errorCode: await b.txns.addOffsets(req) })),
    handler(TxnOffsetCommit, (req) => b.txns.txnOffsetCommit(req)),
    handler(EndTxn, async (req) => ({ errorCode: await b.txns.endTxn(req) })),
  ];
}
