import type { Broker } from "../broker";
import { AlterConfigs } from "../protocol/apis/alter-configs";
import { CreatePartitions } from "../protocol/apis/create-partitions";
import { CreateTopics, type TopicResults } from "../protocol/apis/create-topics";
import { DeleteRecords } from "../protocol/apis/delete-records";
import { DeleteTopics } from "../protocol/apis/delete-topics";
import { type ConfigEntry, ConfigSource, DescribeConfigs, ResourceType } from "../protocol/apis/describe-configs";
import { ErrorCode, KafkaError } from "../protocol/errors";
import { TOPIC_CONFIG_DEFAULTS, validateTopicConfig } from "../storage/topic-config";
import { assertKnown } from "./data";
import { type Handler, handler } from "./handler";

/** Runs one item of a batch admin request, turning a KafkaError into that item's error code. */
async function attempt(fn: () => Promise<void> | void): Promise<{ errorCode: number; errorMessage: string | null }> {
  try {
    await fn();
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (err) {
    if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: err.message };
    throw err;
  }
}

function toRecord(configs: { name: string; value: string | null }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of configs) {
    validateTopicConfig(c.name, c.value);
    if (c.value !== null) out[c.name] = c.value;
  }
  return out;
}

export function adminHandlers(b: Broker): Handler[] {
  const createTopics = handler(CreateTopics, async (req) => {
    const topics: TopicResults["topics"] = [];
    for (const t of req.topics) {
      const r = await attempt(async () => {
        if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
          throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, "this single-node broker only supports replication factor 1");
        }
        const partitions = t.assignments.length > 0 ? t.assignments.length : t.numPartitions === -1 ? b.config.defaultPartitions : t.numPartitions;
        const configs = toRecord(t.configs);
        if (req.validateOnly) b.logs.validateCreate(t.name, partitions, configs);
        else await b.logs.create(t.name, partitions, configs);
      });
      topics.push({ name: t.name, ...r });
    }
    return { topics };
  });

  const deleteTopics = handler(DeleteTopics, async (req) => {
    const results = [];
    for (const name of req.names) {
      const r = await attempt(async () => {
        await b.logs.delete(name);
        await b.groups.offsets.deleteTopic(name);
      });
      results.push({ name, errorCode: r.errorCode });
    }
    return { results };
  });

  const createPartitions = handler(CreatePartitions, async (req) => {
    const topics: TopicResults["topics"] = [];
    for (const t of req.topics) {
      const r = await attempt(async () => {
        const topic = assertKnown(b, t.name);
        if (t.count <= topic.partitions.length) {
          throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `topic ${t.name} already has ${topic.partitions.length} partitions`);
        }
        if (!req.validateOnly) await b.logs.addPartitions(t.name, t.count);
      });
      topics.push({ name: t.name, ...r });
    }
    return { topics };
  });

  const describeConfigs = handler(DescribeConfigs, (req) => ({
    results: req.resources.map((res) => {
      const pick = (entries: ConfigEntry[]) => (res.keys ? entries.filter((e) => res.keys!.includes(e.name)) : entries);
      if (res.type === ResourceType.TOPIC) {
        const t = b.logs.get(res.name);
        if (!t || t.internal) {
          return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `unknown topic ${res.name}`, type: res.type, name: res.name, configs: [] };
        }
        const entries = Object.keys(TOPIC_CONFIG_DEFAULTS).map((name) => ({
          name,
          value: t.config.get(name),
          readOnly: false,
          isDefault: t.config.isDefault(name),
          source: t.config.isDefault(name) ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG,
        }));
        return { errorCode: ErrorCode.NONE, errorMessage: null, type: res.type, name: res.name, configs: pick(entries) };
      }
      if (res.type === ResourceType.BROKER) {
        const entries = Object.entries(b.brokerConfigs()).map(([name, value]) => ({
          name,
          value,
          readOnly: true,
          isDefault: false,
          source: ConfigSource.STATIC_BROKER_CONFIG,
        }));
        return { errorCode: ErrorCode.NONE, errorMessage: null, type: res.type, name: res.name, configs: pick(entries) };
      }
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unsupported resource type ${res.type}`, type: res.type, name: res.name, configs: [] };
    }),
  }));

  const alterConfigs = handler(AlterConfigs, async (req) => ({
    results: await Promise.all(
      req.resources.map(async (res) => {
        const r = await attempt(() => {
          if (res.type !== ResourceType.TOPIC) {
            throw new KafkaError(ErrorCode.INVALID_REQUEST, "broker configs are static: restart the broker with new flags");
          }
          assertKnown(b, res.name);
          const configs = toRecord(res.configs);
          if (!req.validateOnly) b.logs.setConfigs(res.name, configs);
        });
        return { ...r, type: res.type, name: res.name };
      }),
    ),
  }));

  const deleteRecords = handler(DeleteRecords, (req) => ({
    topics: req.topics.map((t) => {
      const topic = b.logs.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          const log = topic && !topic.internal ? topic.partitions[p.index] : undefined;
          if (!log) return { index: p.index, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          if (p.offset > log.highWatermark || p.offset < -1) {
            return { index: p.index, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
          }
          return { index: p.index, lowWatermark: log.deleteRecordsBefore(p.offset), errorCode: ErrorCode.NONE };
        }),
      };
    }),
  }));

  return [createTopics, deleteTopics, createPartitions, describeConfigs, alterConfigs, deleteRecords];
}
