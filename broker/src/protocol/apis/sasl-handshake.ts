import { defineApi } from "../api";

export interface SaslHandshakeResponse {
  errorCode: number;
  mechanisms: string[];
}

/**
 * After v1 the client sends its tokens in SaslAuthenticate requests; after v0 it sends
 * them as bare size-prefixed frames with no request header (pre-1.0 clients). kafkajs and
 * librdkafka use v1 when SaslAuthenticate is advertised, but librdkafka 2.0 only enables
 * SASL at all when the broker lists v0, so both are implemented.
 */
export const SaslHandshake = defineApi<{ mechanism: string }, SaslHandshakeResponse>({
  key: 17,
  name: "SaslHandshake",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({ mechanism: r.string() }),
  encode(w, _v, res) {
    w.int16(res.errorCode);
    w.array(res.mechanisms, (w, m) => w.string(m));
  },
});
