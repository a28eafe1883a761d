import { defineApi } from "../api";

export interface ApiVersionsResponse {
  errorCode: number;
  apis: { key: number; min: number; max: number }[];
}

export const ApiVersions = defineApi<Record<string, never>, ApiVersionsResponse>({
  key: 18,
  name: "ApiVersions",
  minVersion: 0,
  maxVersion: 2,
  decode: () => ({}),
  encode(w, v, res) {
    w.int16(res.errorCode);
    w.array(res.apis, (w, a) => w.int16(a.key).int16(a.min).int16(a.max));
    if (v >= 1) w.int32(0);
  },
});
