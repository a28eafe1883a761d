import net from "node:net";
import tls from "node:tls";
import { Reader } from "../src/protocol/reader";
import { Writer } from "../src/protocol/writer";
import { type BrokerProcess, TEST_USER } from "./harness";

/**
 * A bare Kafka-protocol connection for the cases real clients never produce on purpose:
 * unsupported versions, malformed frames, replayed idempotent batches.
 */
export class WireClient {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiters: ((frame: Buffer) => void)[] = [];
  private correlation = 1;
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    // Chunks are joined only once a whole frame is there: large fetch responses stay linear.
    socket.on("data", (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      while (this.buffered >= 4) {
        if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks)];
        const size = this.chunks[0].readInt32BE(0);
        if (this.buffered < 4 + size) break;
        const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
        const rest = all.subarray(4 + size);
        this.chunks = rest.length > 0 ? [rest] : [];
        this.buffered = rest.length;
        this.waiters.shift()?.(all.subarray(4, 4 + size));
      }
    });
    socket.on("close", () => (this.closed = true));
  }

  /**
   * A connection to `target`'s listener: over TLS when it has TLS, and logged in with
   * SASL/PLAIN (SaslHandshake v1 + SaslAuthenticate) when it has SASL, unless
   * `authenticate` is false (to test what an anonymous client may do).
   */
  static async connect(target: BrokerProcess | number, opts: { authenticate?: boolean } = {}): Promise<WireClient> {
    const port = typeof target === "number" ? target : target.port;
    const useTls = typeof target !== "number" && target.tls;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = useTls
        ? tls.connect({
            port,
            host: "127.0.0.1",
            ca: [target.pki!.read(target.pki!.caFile)],
            ...(target.listener.clientCert ? { cert: target.pki!.read(target.pki!.clientCertFile), key: target.pki!.read(target.pki!.clientKeyFile) } : {}),
          }, () => resolve(s))
        : net.connect(port, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    const c = new WireClient(socket);
    if (typeof target !== "number" && target.sasl && opts.authenticate !== false) {
      const login = await c.saslPlain(TEST_USER.username, TEST_USER.password);
      if (login.authenticate !== 0) throw new Error(`SASL login failed: ${JSON.stringify(login)}`);
    }
    return c;
  }

  /** SaslHandshake v1 (PLAIN) + SaslAuthenticate v1; resolves with both error codes and the broker's message. */
  async saslPlain(username: string, password: string): Promise<{ handshake: number; authenticate: number; message: string | null }> {
    const hs = await this.request(17, 1, (w) => w.string("PLAIN"));
    const handshake = hs.int16();
    if (handshake !== 0) return { handshake, authenticate: -1, message: null };
    const r = await this.request(36, 1, (w) => w.bytes(Buffer.from(`\0${username}\0${password}`)));
    const authenticate = r.int16();
    return { handshake, authenticate, message: r.nullableString() };
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends a bare size-prefixed token (SASL after a v0 handshake) and resolves with the bare answer. */
  exchangeToken(token: Buffer): Promise<Buffer> {
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length, 0);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.socket.write(Buffer.concat([size, token]));
    });
  }

  /** Sends a request (header v1) and resolves with the response body after the correlation id. */
  request(apiKey: number, version: number, body: (w: Writer) => void): Promise<Reader> {
    const w = new Writer();
    const sizeAt = w.placeholder32();
    const correlationId = this.correlation++;
    w.int16(apiKey).int16(version).int32(correlationId).string("wire-test");
    body(w);
    w.patch32(sizeAt, w.pos - 4);
    const frame = Buffer.from(w.view());
    return new Promise((resolve, reject) => {
      this.waiters.push((res) => {
        const r = new Reader(res);
        const got = r.int32();
        if (got !== correlationId) reject(new Error(`correlation ${got} != ${correlationId}`));
        else resolve(r);
      });
      this.socket.write(frame);
    });
  }

  waitClosed(timeoutMs = 5_000): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(true);
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Produce v7 of one batch to one partition; returns (error code, base offset). */
export async function produceBatch(
  c: WireClient,
  topic: string,
  partition: number,
  batch: Buffer,
  opts: { acks?: number; transactionalId?: string | null } = {},
): Promise<{ errorCode: number; baseOffset: number }> {
  const r = await c.request(0, 7, (w) => {
    w.nullableString(opts.transactionalId ?? null).int16(opts.acks ?? -1).int32(10_000);
    w.int32(1).string(topic).int32(1).int32(partition).bytes(batch);
  });
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32();
  const errorCode = r.int16();
  const baseOffset = r.int64();
  return { errorCode, baseOffset };
}

/** InitProducerId v1 without a transactional id: a fresh idempotent producer id. */
export async function initProducerId(c: WireClient): Promise<{ producerId: number; epoch: number }> {
  const r = await c.request(22, 1, (w) => w.nullableString(null).int32(60_000));
  r.int32();
  expect0(r.int16());
  return { producerId: r.int64(), epoch: r.int16() };
}

function expect0(code: number): void {
  if (code !== 0) throw new Error(`unexpected error code ${code}`);
}
