import { defineApi } from "../api";

export interface MetadataRequest {
  /** null: all topics. */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}
export interface TopicMetadata {
  errorCode: number;
  name: string;
  isInternal: boolean;
  partitions: { errorCode: number; index: number; leader: number; replicas: number[] }[];
}
export interface MetadataResponse {
  brokers: BrokerInfo[];
  clusterId: string;
  controllerId: number;
  topics: TopicMetadata[];
}

export const Metadata = defineApi<MetadataRequest, MetadataResponse>({
  key: 3,
  name: "Metadata",
  minVersion: 0,
  maxVersion: 6,
  decode(r, v) {
    let topics = r.nullableArray((r) => r.string());
    // v0 has no null array: an empty list meant "all topics".
    if (v === 0 && topics !== null && topics.length === 0) topics = null;
    const allowAutoTopicCreation = v >= 4 ? r.boolean() : true;
    return { topics, allowAutoTopicCreation };
  },
  encode(w, v, res) {
    if (v >= 3) w.int32(0);
    w.array(res.brokers, (w, b) => {
      w.int32(b.nodeId).string(b.host).int32(b.port);
      if (v >= 1) w.nullableString(null);
    });
    if (v >= 2) w.nullableString(res.clusterId);
    if (v >= 1) w.int32(res.controllerId);
    w.array(res.topics, (w, t) => {
      w.int16(t.errorCode).string(t.name);
      if (v >= 1) w.boolean(t.isInternal);
      w.array(t.partitions, (w, p) => {
        w.int16(p.errorCode).int32(p.index).int32(p.leader);
        w.array(p.replicas, (w, n) => w.int32(n));
        w.array(p.replicas, (w, n) => w.int32(n));
        if (v >= 5) w.array([] as number[], (w, n) => w.int32(n));
      });
    });
  },
});
