import { ErrorCode, KafkaError } from "../protocol/errors";

/**
 * Per-topic configs the broker honours, with Kafka's names and defaults. Values are kept
 * as strings (as on the wire) and parsed where used.
 */
export const TOPIC_CONFIG_DEFAULTS: Record<string, string> = {
  "cleanup.policy": "delete",
  "retention.ms": "604800000",
  "retention.bytes": "-1",
  "segment.bytes": "1073741824",
  "segment.ms": "604800000",
  "delete.retention.ms": "86400000",
  "min.compaction.lag.ms": "0",
  "max.compaction.lag.ms": "9223372036854775807",
  "min.cleanable.dirty.ratio": "0.5",
  "max.message.bytes": "1048588",
  "message.timestamp.type": "CreateTime",
  "segment.index.bytes": "10485760",
  "index.interval.bytes": "4096",
  "compression.type": "producer",
  "min.insync.replicas": "1",
};

const NUMERIC = new Set([
  "retention.ms",
  "retention.bytes",
  "segment.bytes",
  "segment.ms",
  "delete.retention.ms",
  "min.compaction.lag.ms",
  "max.compaction.lag.ms",
  "min.cleanable.dirty.ratio",
  "max.message.bytes",
  "segment.index.bytes",
  "index.interval.bytes",
  "min.insync.replicas",
]);

/** Throws INVALID_CONFIG for unknown names or unparseable values. */
export function validateTopicConfig(name: string, value: string | null): void {
  if (!(name in TOPIC_CONFIG_DEFAULTS)) {
    throw new KafkaError(ErrorCode.INVALID_CONFIG, `unknown topic config ${name}`);
  }
  if (value === null) return;
  if (NUMERIC.has(name) && !Number.isFinite(Number(value))) {
    throw new KafkaError(ErrorCode.INVALID_CONFIG, `${name} must be a number, got ${value}`);
  }
  if (name === "cleanup.policy") {
    const parts = value.split(",").map((s) => s.trim());
    if (!parts.every((p) => p === "delete" || p === "compact")) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `cleanup.policy must be delete and/or compact, got ${value}`);
    }
  }
  if (name === "segment.bytes" && Number(value) < 14) {
    throw new KafkaError(ErrorCode.INVALID_CONFIG, "segment.bytes too small");
  }
}

export class TopicConfig {
  constructor(readonly overrides: Record<string, string> = {}) {}
  get(name: string): string {
    return this.overrides[name] ?? TOPIC_CONFIG_DEFAULTS[name];
  }
  num(name: string): number {
    return Number(this.get(name));
  }
  get compact(): boolean {
    return this.get("cleanup.policy").includes("compact");
  }
  get deleteByRetention(): boolean {
    return this.get("cleanup.policy").includes("delete");
  }
  isDefault(name: string): boolean {
    return !(name in this.overrides);
  }
}
