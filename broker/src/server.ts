import net from "node:net";
import type { Logger } from "pino";
import type { Handler } from "./handlers/handler";
import { ApiVersions } from "./protocol/apis/api-versions";
import { ErrorCode } from "./protocol/errors";
import { MalformedFrameError, Reader } from "./protocol/reader";
import { Writer } from "./protocol/writer";

interface Slot {
  done: boolean;
  /** Size prefix, header and body pieces; null when the protocol sends no response. */
  response: Buffer[] | null;
}

/**
 * Kafka framing over TCP: int32 size, request header v1 (api key, version, correlation id,
 * client id), body. Requests on one connection are handled concurrently (so pipelined
 * produces share an fsync round) but answered strictly in request order, as the protocol
 * requires.
 */
export class ProtocolServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly handlers = new Map<number, Handler>();

  constructor(
    handlers: Handler[],
    private readonly log: Logger,
    private readonly maxRequestBytes: number,
  ) {
    for (const h of handlers) this.handlers.set(h.spec.key, h);
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** What ApiVersions advertises: exactly the versions implemented, ApiVersions included. */
  apiVersions(): { key: number; min: number; max: number }[] {
    const list = [...this.handlers.values()].map((h) => ({ key: h.spec.key, min: h.spec.minVersion, max: h.spec.maxVersion }));
    list.push({ key: ApiVersions.key, min: ApiVersions.minVersion, max: ApiVersions.maxVersion });
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
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const clientHost = `/${socket.remoteAddress ?? ""}`;
    const queue: Slot[] = [];
    let chunks: Buffer[] = [];
    let buffered = 0;

    const drop = (reason: string, err?: unknown) => {
      this.log.warn({ peer, reason, err }, "closing connection");
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

    const onFrame = (frame: Buffer) => {
      const r = new Reader(frame);
      const apiKey = r.int16();
      const version = r.int16();
      const correlationId = r.int32();
      const clientId = r.nullableString() ?? "";
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
          if (size < 12 || size > this.maxRequestBytes) {
            drop(`invalid frame size ${size}`);
            return;
          }
          if (buffered < 4 + size) break;
          const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          const frame = all.subarray(4, 4 + size);
          const rest = all.subarray(4 + size);
          chunks = rest.length > 0 ? [rest] : [];
          buffered = rest.length;
          onFrame(frame);
        }
      } catch (err) {
        if (err instanceof MalformedFrameError) drop("malformed frame", err.message);
        else drop("frame handling failed", err);
      }
    });
    socket.on("error", (err) => this.log.debug({ peer, err: err.message }, "socket error"));
    socket.on("close", () => this.sockets.delete(socket));
  }
}
