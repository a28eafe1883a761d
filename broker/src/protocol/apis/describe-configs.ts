import { defineApi } from "../api";

export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;
/** DescribeConfigs v1+ config_source values. */
export const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  source: number;
}
export interface DescribeConfigsRequest {
  resources: { type: number; name: string; keys: string[] | null }[];
  includeSynonyms: boolean;
}
export interface DescribeConfigsResponse {
  results: { errorCode: number; errorMessage: string | null; type: number; name: string; configs: ConfigEntry[] }[];
}

export const DescribeConfigs = defineApi<DescribeConfigsRequest, DescribeConfigsResponse>({
  key: 32,
  name: "DescribeConfigs",
  minVersion: 0,
  maxVersion: 2,
  decode(r, v) {
    const resources = r.array((r) => ({ type: r.int8(), name: r.string(), keys: r.nullableArray((r) => r.string()) }));
    return { resources, includeSynonyms: v >= 1 ? r.boolean() : false };
  },
  encode(w, v, res) {
    w.int32(0);
    w.array(res.results, (w, r) => {
      w.int16(r.errorCode).nullableString(r.errorMessage).int8(r.type).string(r.name);
      w.array(r.configs, (w, c) => {
        w.string(c.name).nullableString(c.value).boolean(c.readOnly);
        if (v === 0) w.boolean(c.isDefault);
        else w.int8(c.source);
        w.boolean(false); // is_sensitive
        if (v >= 1) w.array([] as number[], () => undefined); // synonyms
      });
    });
  },
});
