import type { Reader } from "./reader";
import type { Writer } from "./writer";

/** One Kafka API: its key, the versions we implement, and its wire codecs. */
export interface ApiSpec<Req, Res> {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  decode(r: Reader, version: number): Req;
  encode(w: Writer, version: number, res: Res): void;
}

export function defineApi<Req, Res>(spec: ApiSpec<Req, Res>): ApiSpec<Req, Res> {
  return spec;
}

/** Most responses since v1/v2 open with throttle_time_ms; we never throttle. */
export function throttle(w: Writer, version: number, since: number): void {
  if (version >= since) w.int32(0);
}
