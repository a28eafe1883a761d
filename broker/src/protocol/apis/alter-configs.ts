import { defineApi } from "../api";

export interface AlterConfigsRequest {
  resources: { type: number; name: string; configs: { name: string; value: string | null }[] }[];
  validateOnly: boolean;
}
export interface AlterConfigsResponse {
  results: { errorCode: number; errorMessage: string | null; type: number; name: string }[];
}

export const AlterConfigs = defineApi<AlterConfigsRequest, AlterConfigsResponse>({
  key: 33,
  name: "AlterConfigs",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({
    resources: r.array((r) => ({
      type: r.int8(),
      name: r.string(),
      configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
    })),
    validateOnly: r.boolean(),
  }),
  encode(w, _v, res) {
    w.int32(0);
    w.array(res.results, (w, r) => w.int16(r.errorCode).nullableString(r.errorMessage).int8(r.type).string(r.name));
  },
});
