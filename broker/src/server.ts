import net from "node:net";
import tls from "node:tls";
import type { Logger } from "pino";
import type { Handler } from "./handlers/handler";
import { ApiVersions } from "./protocol/apis/api-versions";
import { SaslAuthenticate } from "./protocol/apis/sasl-authenticate";
import { SaslHandshake } from "./protocol/apis/sasl-handshake";
import { ErrorCode } from "./protocol/errors";
import { MalformedFrameError, Reader } from "./protocol/reader";
import { Writer } from "./protocol/writer";
import { type SaslExchange, SaslAuthenticationError, type SaslMechanism, type SaslUsers } from "./security/sasl";

interface Slot {
  done: boolean;
  /** Size prefix, header and body pieces; null when the protocol sends no response. */
  response: Buffer[] | null;
}

export interface ServerOptions {
  maxRequestBytes: number;
  /** A connection with no request in flight and no bytes either way for this long is closed (Kafka's connections.max.idle.ms). */
  connectionsMaxIdleMs: number;
  /** A request frame must arrive whole within this long of when its first bytes did. */
  requestReadTimeoutMs: number;
  /** TLS handshake and SASL authentication must finish within this long of connecting. */
  authenticationTimeoutMs: number;
  /** A failed SASL authentication is answered after this delay (Kafka's connection.failed.authentication.delay.ms). */
  failedAuthenticationDelayMs: number;
  /** Server key/cert (and client CA) for a TLS listener; null for plaintext. */
  tls: tls.TlsOptions | null;
  /** Users and enabled mechanisms for a SASL listener; null when clients need not authenticate. */
  sasl: { users: SaslUsers; mechanisms: readonly SaslMechanism[] } | null;
}

/** Before SASL completes only these APIs may be used; anything else closes the connection, as in Kafka. */
const PRE_AUTH_APIS = new Set([ApiVersions.key, SaslHandshake.key, SaslAuthenticate.key]);
const MAX_PRE_AUTH_FRAME_BYTES = 524_288;

/**
 * Kafka framing over TCP or TLS: int32 size, request header v1 (api key, version,
 * correlation id, client id), body. Requests on one connection are handled concurrently
 * (so pipelined produces share an fsync round) but answered strictly in request order, as
 * the protocol requires. On a SASL listener a connection must authenticate
 * (SaslHandshake v1 + SaslAuthenticate) before any other request is served.
 */
export class ProtocolServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly handlers = new Map<number, Handler>();

  constructor(
    handlers: Handler[],
    private readonly log: Logger,
    private readonly opts: ServerOptions,
  ) {
    for (const h of handlers) this.handlers.set(h.spec.key, h);
    if (opts.tls) {
      this.server = tls.createServer({ ...opts.tls, handshakeTimeout: opts.authenticationTimeoutMs }, (socket) => this.accept(socket));
      // A plaintext client on the TLS port, an untrusted client certificate, a handshake that
      // stalls: the operator sees why a client could not connect.
      this.server.on("tlsClientError", (err, socket) => {
        this.log.warn({ peer: `${socket.remoteAddress}:${socket.remotePort}`, err: err.message }, "TLS handshake failed");
      });
    } else {
      this.server = net.createServer((socket) => this.accept(socket));
    }
  }

  /** What ApiVersions advertises: exactly the versions implemented, ApiVersions and SASL included. */
  apiVersions(): { key: number; min: number; max: number }[] {
    const list = [...this.handlers.values()].map((h) => ({ key: h.spec.key, min: h.spec.minVersion, max: h.spec.maxVersion }));
    for (const s of [ApiVersions, SaslHandshake, SaslAuthenticate]) list.push({ key: s.key, min: s.minVersion, max: s.maxVersion });
    return list.sort((a, b) => a.key - b.key);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.end();
    setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, 2_000).unref();
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const opts = this.opts;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const clientHost = `/${socket.remoteAddress ?? ""}`;
    const queue: Slot[] = [];
    let chunks: Buffer[] = [];
    let buffered = 0;
    let frameTimer: NodeJS.Timeout | null = null;
    // SASL: "handshake" until SaslHandshake names an enabled mechanism, "authenticate" while
    // tokens are exchanged, "done" once the client proved who it is, "failed" after a
    // failed attempt (the answer is on its way, then the connection closes).
    let saslState: "handshake" | "authenticate" | "done" | "failed" = opts.sasl ? "handshake" : "done";
    let exchange: SaslExchange | null = null;
    // After a v0 SaslHandshake the tokens come as bare size-prefixed frames (no request header).
    let rawTokens = false;
    let mechanism = "";
    let principal = "";
    const authTimer = opts.sasl
      ? setTimeout(() => drop(`not authenticated within ${opts.authenticationTimeoutMs} ms`), opts.authenticationTimeoutMs)
      : null;

    const drop = (reason: string, err?: unknown) => {
      if (socket.destroyed) return;
      this.log.warn({ peer, reason, err, principal: principal || undefined }, "closing connection");
      socket.destroy();
    };
    const flush = () => {
      while (queue.length > 0 && queue[0].done) {
        const slot = queue.shift()!;
        if (slot.response && !socket.destroyed) {
          socket.cork();
          for (const part of slot.response) socket.write(part);
          socket.uncork();
        }
      }
    };

    // Idle: Node's socket timeout fires after this long with no bytes either way. A
    // long-polling fetch is not idle, so it is let be; writing its response re-arms the timer.
    socket.setTimeout(opts.connectionsMaxIdleMs);
    socket.on("timeout", () => {
      if (queue.length === 0) drop(`idle for ${opts.connectionsMaxIdleMs} ms`);
    });

    /** A bare SASL token after a v0 handshake: answered with a bare token; a failure just closes, as in Kafka. */
    const onRawToken = (token: Buffer) => {
      try {
        const step = exchange!.step(token);
        const size = Buffer.allocUnsafe(4);
        size.writeInt32BE(step.challenge.length, 0);
        socket.write(Buffer.concat([size, step.challenge]));
        if (step.done) authenticated(step.principal);
      } catch (err) {
        if (!(err instanceof SaslAuthenticationError)) throw err;
        saslState = "failed";
        this.log.warn({ peer, mechanism, reason: err.detail }, "SASL authentication failed");
        setTimeout(() => socket.destroy(), opts.failedAuthenticationDelayMs).unref();
      }
    };
    const authenticated = (who: string) => {
      saslState = "done";
      principal = who;
      exchange = null;
      rawTokens = false;
      if (authTimer) clearTimeout(authTimer);
      this.log.debug({ peer, principal, mechanism }, "authenticated");
    };

    const onFrame = (frame: Buffer) => {
      if (saslState === "authenticate" && rawTokens) {
        onRawToken(frame);
        return;
      }
      const r = new Reader(frame);
      const apiKey = r.int16();
      const version = r.int16();
      const correlationId = r.int32();
      const clientId = r.nullableString() ?? "";
      if (saslState === "failed") {
        drop("request after a failed SASL authentication");
        return;
      }
      if (saslState !== "done" && !PRE_AUTH_APIS.has(apiKey)) {
        // Kafka closes such a connection too: nothing is answered before authentication.
        drop(`request (api ${apiKey}) before SASL authentication`);
        return;
      }
      const slot: Slot = { done: false, response: null };
      queue.push(slot);
      const respond = (encode: (w: Writer) => void) => {
        const w = new Writer(256);
        w.int32(correlationId);
        encode(w);
        const size = Buffer.allocUnsafe(4);
        size.writeInt32BE(w.length, 0);
        slot.response = [size, ...w.toBuffers()];
        slot.done = true;
        flush();
      };
      if (apiKey === ApiVersions.key) {
        // Newer clients open with a version we may not have; the protocol answers in v0
        // with UNSUPPORTED_VERSION and our list, and the client retries with one we support.
        const supported = version >= ApiVersions.minVersion && version <= ApiVersions.maxVersion;
        respond((w) =>
          ApiVersions.encode(w, supported ? version : 0, {
            errorCode: supported ? ErrorCode.NONE : ErrorCode.UNSUPPORTED_VERSION,
            apis: this.apiVersions(),
          }),
        );
        return;
      }
      if (apiKey === SaslHandshake.key && version >= SaslHandshake.minVersion && version <= SaslHandshake.maxVersion) {
        const { mechanism: wanted } = SaslHandshake.decode(r, version);
        const enabled = opts.sasl ? [...opts.sasl.mechanisms] : [];
        const m = enabled.find((e) => e === wanted.toUpperCase());
        if (!m || !opts.sasl) {
          // Also the answer on a listener without SASL: clients say "mechanism not supported".
          this.log.warn({ peer, mechanism: wanted, enabled }, "SASL mechanism not enabled");
          respond((w) => SaslHandshake.encode(w, version, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled }));
          return;
        }
        if (saslState !== "handshake") {
          // Re-authentication (KIP-368) is not offered: session lifetimes are unlimited.
          respond((w) => SaslHandshake.encode(w, version, { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled }));
          return;
        }
        mechanism = m;
        exchange = opts.sasl.users.exchange(m);
        saslState = "authenticate";
        rawTokens = version === 0;
        respond((w) => SaslHandshake.encode(w, version, { errorCode: ErrorCode.NONE, mechanisms: enabled }));
        return;
      }
      if (apiKey === SaslAuthenticate.key && version >= SaslAuthenticate.minVersion && version <= SaslAuthenticate.maxVersion) {
        const { authBytes } = SaslAuthenticate.decode(r, version);
        if (saslState !== "authenticate" || !exchange) {
          respond((w) => SaslAuthenticate.encode(w, version, { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: "SaslAuthenticate without a SaslHandshake first", authBytes: Buffer.alloc(0) }));
          return;
        }
        try {
          const step = exchange.step(authBytes);
          if (step.done) authenticated(step.principal);
          respond((w) => SaslAuthenticate.encode(w, version, { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.challenge }));
        } catch (err) {
          if (!(err instanceof SaslAuthenticationError)) throw err;
          this.log.warn({ peer, mechanism, reason: err.detail }, "SASL authentication failed");
          exchange = null;
          saslState = "failed";
          // Answer after a delay (slows password guessing), then close: a client gets one try per connection.
          setTimeout(() => {
            respond((w) => SaslAuthenticate.encode(w, version, { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: err.message, authBytes: Buffer.alloc(0) }));
            socket.end();
          }, opts.failedAuthenticationDelayMs).unref();
        }
        return;
      }
      const h = this.handlers.get(apiKey);
      if (!h || version < h.spec.minVersion || version > h.spec.maxVersion) {
        // No response schema exists for an unknown key/version; answer the bare error code
        // so the client fails fast instead of waiting for a response that never comes.
        this.log.warn({ peer, apiKey, version, clientId }, "unsupported api or version");
        respond((w) => w.int16(ErrorCode.UNSUPPORTED_VERSION));
        return;
      }
      const req = h.spec.decode(r, version);
      const ctx = { clientId, clientHost, apiVersion: version };
      Promise.resolve()
        .then(() => h.handle(req, ctx))
        .then(
          (res) => {
            if (res === null) {
              slot.done = true;
              flush();
            } else respond((w) => h.spec.encode(w, version, res));
          },
          (err: unknown) => {
            this.log.error({ err, api: h.spec.name, version, peer }, "request failed");
            drop("handler error");
          },
        );
    };

    socket.on("data", (data: Buffer) => {
      chunks.push(data);
      buffered += data.length;
      try {
        while (buffered >= 4) {
          if (chunks[0].length < 4) {
            chunks = [Buffer.concat(chunks)];
          }
          const size = chunks[0].readInt32BE(0);
          // A request header alone is 10+ bytes; bare SASL tokens (v0) can be shorter.
          const minSize = rawTokens && saslState === "authenticate" ? 0 : 12;
          // Until a client has authenticated it gets Kafka's sasl.server.max.receive.size, not 100 MB.
          const maxSize = saslState === "done" ? opts.maxRequestBytes : MAX_PRE_AUTH_FRAME_BYTES;
          if (size < minSize || size > maxSize) {
            drop(`invalid frame size ${size}`);
            return;
          }
          if (buffered < 4 + size) break;
          const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          const frame = all.subarray(4, 4 + size);
          const rest = all.subarray(4 + size);
          chunks = rest.length > 0 ? [rest] : [];
          buffered = rest.length;
          if (frameTimer) {
            clearTimeout(frameTimer);
            frameTimer = null;
          }
          onFrame(frame);
          if (socket.destroyed) return;
        }
      } catch (err) {
        if (err instanceof MalformedFrameError) drop("malformed frame", err.message);
        else drop("frame handling failed", err);
        return;
      }
      // Each partial frame gets its own deadline, counted from when its first bytes came:
      // a client that trickles a frame (or stops half way) cannot hold the connection.
      if (buffered > 0 && !frameTimer) {
        frameTimer = setTimeout(() => drop(`request frame not complete within ${opts.requestReadTimeoutMs} ms`), opts.requestReadTimeoutMs);
      }
    });
    socket.on("error", (err) => this.log.debug({ peer, err: err.message }, "socket error"));
    socket.on("close", () => {
      this.sockets.delete(socket);
      if (frameTimer) clearTimeout(frameTimer);
      if (authTimer) clearTimeout(authTimer);
    });
  }
}
