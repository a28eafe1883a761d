import { defineApi } from "../api";

export interface SaslAuthenticateResponse {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
}

export const SaslAuthenticate = defineApi<{ authBytes: Buffer }, SaslAuthenticateResponse>({
  key: 36,
  name: "SaslAuthenticate",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({ authBytes: r.bytes() }),
  encode(w, v, res) {
    w.int16(res.errorCode);
    w.nullableString(res.errorMessage);
    w.bytes(res.authBytes);
    // session_lifetime_ms 0: no re-authentication (KIP-368) is required on this broker.
    if (v >= 1) w.int64(0);
  },
});
