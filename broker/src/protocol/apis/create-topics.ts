import { defineApi, throttle } from "../api";

export interface CreateTopicsRequest {
  topics: {
    name: string;
    numPartitions: number;
    replicationFactor: number;
    assignments: { index: number; brokers: number[] }[];
    configs: { name: string; value: string | null }[];
  }[];
  timeoutMs: number;
  validateOnly: boolean;
}
export interface TopicResults {
  topics: { name: string; errorCode: number; errorMessage: string | null }[];
}

export const CreateTopics = defineApi<CreateTopicsRequest, TopicResults>({
  key: 19,
  name: "CreateTopics",
  minVersion: 0,
  maxVersion: 4,
  decode(r, v) {
    const topics = r.array((r) => ({
      name: r.string(),
      numPartitions: r.int32(),
      replicationFactor: r.int16(),
      assignments: r.array((r) => ({ index: r.int32(), brokers: r.array((r) => r.int32()) })),
      configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
    }));
    const timeoutMs = r.int32();
    const validateOnly = v >= 1 ? r.boolean() : false;
    return { topics, timeoutMs, validateOnly };
  },
  encode(w, v, res) {
    throttle(w, v, 2);
    w.array(res.topics, (w, t) => {
      w.string(t.name).int16(t.errorCode);
      if (v >= 1) w.nullableString(t.errorMessage);
    });
  },
});
