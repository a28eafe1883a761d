import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode, KafkaError } from "../protocol/errors";
import { mkdirPrivate } from "./data-dir";
import type { Durability } from "./durability";
import { PartitionLog } from "./partition-log";
import { writeFileDurable } from "./segment";
import { TopicConfig, validateTopicConfig } from "./topic-config";

export interface TopicState {
  name: string;
  internal: boolean;
  config: TopicConfig;
  partitions: PartitionLog[];
}

interface TopicsFile {
  topics: Record<string, { partitions: number; configs: Record<string, string>; internal?: boolean }>;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const META_FILE = "topics.json";

/** The topic catalog: which topics exist, their partitions and config overrides, persisted as one file. */
export class LogManager {
  readonly topics = new Map<string, TopicState>();

  constructor(
    readonly dataDir: string,
    private readonly durability: Durability,
    private readonly log: Logger,
  ) {}

  private partitionDir(topic: string, partition: number): string {
    return path.join(this.dataDir, "logs", `${topic}-${partition}`);
  }

  async load(): Promise<void> {
    mkdirPrivate(path.join(this.dataDir, "logs"));
    let file: TopicsFile = { topics: {} };
    try {
      file = JSON.parse(fs.readFileSync(path.join(this.dataDir, META_FILE), "utf8")) as TopicsFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    for (const [name, t] of Object.entries(file.topics)) {
      const config = new TopicConfig(t.configs);
      const partitions: PartitionLog[] = [];
      for (let i = 0; i < t.partitions; i++) {
        partitions.push(await PartitionLog.open(this.partitionDir(name, i), name, i, config, this.durability, this.log));
      }
      this.topics.set(name, { name, internal: t.internal ?? false, config, partitions });
    }
    this.log.info({ topics: this.topics.size }, "loaded topics");
  }

  private persist(): void {
    const file: TopicsFile = { topics: {} };
    for (const t of this.topics.values()) {
      file.topics[t.name] = { partitions: t.partitions.length, configs: t.config.overrides, internal: t.internal };
    }
    writeFileDurable(path.join(this.dataDir, META_FILE), JSON.stringify(file, null, 1));
  }

  get(topic: string): TopicState | undefined {
    return this.topics.get(topic);
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  validateCreate(name: string, partitions: number, configs: Record<string, string>): void {
    if (!TOPIC_NAME.test(name) || name === "." || name === "..") {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name "${name}"`);
    }
    if (this.topics.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${name} already exists`);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `partitions must be 1..10000, got ${partitions}`);
    }
    for (const [k, v] of Object.entries(configs)) validateTopicConfig(k, v);
  }

  async create(name: string, partitions: number, configs: Record<string, string>, internal = false): Promise<TopicState> {
    this.validateCreate(name, partitions, configs);
    const config = new TopicConfig(configs);
    const logs: PartitionLog[] = [];
    for (let i = 0; i < partitions; i++) {
      const dir = this.partitionDir(name, i);
      // A leftover directory from a topic deleted before a crash must not resurrect its data.
      fs.rmSync(dir, { recursive: true, force: true });
      logs.push(await PartitionLog.open(dir, name, i, config, this.durability, this.log));
    }
    const t: TopicState = { name, internal, config, partitions: logs };
    this.topics.set(name, t);
    this.persist();
    this.log.info({ topic: name, partitions }, "created topic");
    return t;
  }

  async delete(name: string): Promise<void> {
    const t = this.topics.get(name);
    if (!t || t.internal) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    this.topics.delete(name);
    this.persist();
    for (const p of t.partitions) {
      // Close after in-flight reads finish; the directory goes now (open fds keep the inodes alive).
      setTimeout(() => p.close(), 5_000).unref();
      fs.rmSync(p.dir, { recursive: true, force: true });
    }
    this.log.info({ topic: name }, "deleted topic");
  }

  async addPartitions(name: string, count: number): Promise<void> {
    const t = this.topics.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    if (count <= t.partitions.length) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `topic ${name} has ${t.partitions.length} partitions; new count must be larger`);
    }
    for (let i = t.partitions.length; i < count; i++) {
      const dir = this.partitionDir(name, i);
      fs.rmSync(dir, { recursive: true, force: true });
      t.partitions.push(await PartitionLog.open(dir, name, i, t.config, this.durability, this.log));
    }
    this.persist();
  }

  /** AlterConfigs is a full replacement of the topic's overrides (the non-incremental API). */
  setConfigs(name: string, configs: Record<string, string>): void {
    const t = this.topics.get(name);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    for (const [k, v] of Object.entries(configs)) validateTopicConfig(k, v);
    t.config = new TopicConfig(configs);
    for (const p of t.partitions) p.config = t.config;
    this.persist();
  }

  allPartitions(): PartitionLog[] {
    return [...this.topics.values()].flatMap((t) => t.partitions);
  }

  close(): void {
    for (const p of this.allPartitions()) p.close();
  }
}
