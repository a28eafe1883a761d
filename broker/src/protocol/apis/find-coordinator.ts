import { defineApi, throttle } from "../api";

export interface FindCoordinatorRequest {
  key: string;
  /** 0 = consumer group, 1 = transactional id. */
  keyType: number;
}
export interface FindCoordinatorResponse {
  errorCode: number;
  nodeId: number;
  host: string;
  port: number;
}

export const FindCoordinator = defineApi<FindCoordinatorRequest, FindCoordinatorResponse>({
  key: 10,
  name: "FindCoordinator",
  minVersion: 0,
  maxVersion: 2,
  decode: (r, v) => ({ key: r.string(), keyType: v >= 1 ? r.int8() : 0 }),
  encode(w, v, res) {
    throttle(w, v, 1);
    w.int16(res.errorCode);
    if (v >= 1) w.nullableString(null);
    w.int32(res.nodeId).string(res.host).int32(res.port);
  },
});
