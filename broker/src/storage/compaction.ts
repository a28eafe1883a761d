import type { Logger } from "pino";
import type { PartitionLog } from "./partition-log";

export async function compactLog(_p: PartitionLog, _log: Logger): Promise<void> {}
