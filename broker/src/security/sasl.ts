import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import { z } from "zod";
import { StartupError } from "../startup-error";

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** A failed exchange: the client gets SASL_AUTHENTICATION_FAILED with this message, then the connection closes. */
export class SaslAuthenticationError extends Error {
  constructor(
    message: string,
    /** For the broker's log only (never sent): why it failed. */
    readonly detail: string,
  ) {
    super(message);
    this.name = "SaslAuthenticationError";
  }
}

export type SaslStep = { done: false; challenge: Buffer } | { done: true; challenge: Buffer; principal: string };

/** One connection's authentication with one mechanism: fed the client's tokens in order. */
export interface SaslExchange {
  step(token: Buffer): SaslStep;
}

const UsersFileSchema = z.object({
  users: z.record(z.string().min(1), z.string().min(1, "empty passwords are not allowed")),
});

interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const SCRAM_HASH = { "SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512" } as const;
type ScramMechanism = keyof typeof SCRAM_HASH;

const hmac = (hash: string, key: Buffer, data: string | Buffer) => createHmac(hash, key).update(data).digest();
const digest = (hash: string, data: Buffer) => createHash(hash).update(data).digest();
/** Compares secrets in time that does not depend on where they differ or on their lengths. */
const sameSecret = (a: Buffer, b: Buffer) => timingSafeEqual(digest("sha256", a), digest("sha256", b));

/** RFC 5802 §3: SaltedPassword, then the keys the server stores instead of the password. */
export function scramCredential(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): ScramCredential {
  const hash = SCRAM_HASH[mechanism];
  const len = hash === "sha256" ? 32 : 64;
  // Like Kafka and kafkajs, the password's UTF-8 bytes are used as given (no SASLprep).
  const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, len, hash);
  return {
    salt,
    iterations,
    storedKey: digest(hash, hmac(hash, salted, "Client Key")),
    serverKey: hmac(hash, salted, "Server Key"),
  };
}

/**
 * The broker's SASL users, from `--sasl-users-file` (`{"users": {"name": "password"}}`).
 * PLAIN checks the password; SCRAM keeps only the derived keys (salt, StoredKey,
 * ServerKey) computed at start with a fresh random salt per user and mechanism.
 */
export class SaslUsers {
  private readonly passwords = new Map<string, Buffer>();
  private readonly scram = new Map<string, ScramCredential>();
  /** Salts for unknown users come from this, so a probe cannot tell which users exist. */
  private readonly fakeSaltKey = randomBytes(32);

  constructor(
    users: Record<string, string>,
    readonly mechanisms: readonly SaslMechanism[],
    readonly iterations: number,
  ) {
    for (const [name, password] of Object.entries(users)) {
      this.passwords.set(name, Buffer.from(password, "utf8"));
      for (const m of mechanisms) {
        if (m !== "PLAIN") this.scram.set(`${m}\0${name}`, scramCredential(m, password, randomBytes(32), iterations));
      }
    }
  }

  static fromFile(file: string, mechanisms: readonly SaslMechanism[], iterations: number): SaslUsers {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new StartupError(`cannot read the SASL users file ${file}: ${(err as Error).message}`);
    }
    const parsed = UsersFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new StartupError(`SASL users file ${file} must look like {"users": {"name": "password"}}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    if (Object.keys(parsed.data.users).length === 0) throw new StartupError(`SASL users file ${file} has no users: nobody could connect`);
    return new SaslUsers(parsed.data.users, mechanisms, iterations);
  }

  get size(): number {
    return this.passwords.size;
  }

  exchange(mechanism: SaslMechanism): SaslExchange {
    return mechanism === "PLAIN" ? new PlainExchange(this) : new ScramExchange(this, mechanism);
  }

  /** @internal */ checkPassword(name: string, password: Buffer): boolean {
    const known = this.passwords.get(name);
    // Compare against something even for an unknown user: the timing says nothing.
    return sameSecret(known ?? this.fakeSaltKey, password) && known !== undefined;
  }

  /** @internal */ scramCredential(mechanism: ScramMechanism, name: string): { credential: ScramCredential; known: boolean } {
    const c = this.scram.get(`${mechanism}\0${name}`);
    if (c) return { credential: c, known: true };
    const salt = hmac("sha256", this.fakeSaltKey, `${mechanism}\0${name}`);
    return { credential: { salt, iterations: this.iterations, storedKey: randomBytes(64), serverKey: randomBytes(64) }, known: false };
  }
}

const badCredentials = (mechanism: string) => `Authentication failed: invalid username or password (SASL ${mechanism})`;

/** RFC 4616: one message, [authzid] NUL authcid NUL passwd. */
class PlainExchange implements SaslExchange {
  constructor(private readonly users: SaslUsers) {}

  step(token: Buffer): SaslStep {
    const parts = token.toString("utf8").split("\0");
    if (parts.length !== 3) throw new SaslAuthenticationError("Authentication failed: malformed SASL/PLAIN message", "malformed PLAIN message");
    const [authzid, user, password] = parts;
    if (authzid !== "" && authzid !== user) {
      throw new SaslAuthenticationError("Authentication failed: SASL/PLAIN authorization id must be empty or equal to the username", `authzid ${authzid} for ${user}`);
    }
    if (!this.users.checkPassword(user, Buffer.from(password, "utf8"))) {
      throw new SaslAuthenticationError(badCredentials("PLAIN"), `bad credentials for user "${user}"`);
    }
    return { done: true, challenge: Buffer.alloc(0), principal: user };
  }
}

/** saslname (RFC 5802 §5.1): "=2C" is ",", "=3D" is "=", any other "=" is an error. */
function decodeSaslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

/** "k=v,k=v" attributes of a SCRAM message, in order. */
function attributes(msg: string): [string, string][] {
  return msg.split(",").map((a) => {
    const eq = a.indexOf("=");
    return eq === 1 ? [a[0], a.slice(2)] : ["", a];
  });
}

/** RFC 5802 / RFC 7677 server side, as Kafka's ScramSaslServer: no channel binding. */
export class ScramExchange implements SaslExchange {
  private state: "first" | "final" | "done" = "first";
  private user = "";
  private known = false;
  private credential!: ScramCredential;
  private gs2Header = "";
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";
  private readonly hash: string;

  constructor(
    private readonly users: SaslUsers,
    private readonly mechanism: ScramMechanism,
    /** Tests pin the server nonce to replay RFC 7677's example. */
    private readonly serverNonce: () => string = () => randomBytes(24).toString("base64"),
  ) {
    this.hash = SCRAM_HASH[mechanism];
  }

  private fail(detail: string, message = `Authentication failed: invalid SASL ${this.mechanism} message`): never {
    this.state = "done";
    throw new SaslAuthenticationError(message, detail);
  }

  step(token: Buffer): SaslStep {
    const msg = token.toString("utf8");
    if (this.state === "first") return this.first(msg);
    if (this.state === "final") return this.final(msg);
    return this.fail("token after the exchange finished");
  }

  private first(msg: string): SaslStep {
    // gs2-header: "n,," or "y,," (no channel binding), optionally "n,a=authzid,".
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(msg);
    if (!m) return this.fail(`client-first "${msg.slice(0, 60)}" has no gs2 header (channel binding is not supported)`);
    this.gs2Header = `${m[1]},${m[2] ?? ""},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    if (attrs[0]?.[0] !== "n" || attrs[1]?.[0] !== "r" || !attrs[1][1]) return this.fail("client-first without n= and r=");
    const user = decodeSaslName(attrs[0][1]);
    if (user === null || user === "") return this.fail("bad saslname");
    const authzid = m[2] ? decodeSaslName(m[2].slice(2)) : "";
    if (authzid && authzid !== user) return this.fail(`authzid ${authzid} for ${user}`, "Authentication failed: the authorization id must equal the username");
    // Kafka's delegation-token extension; this broker has no delegation tokens.
    if (attrs.slice(2).some(([k, v]) => k === "" && v.startsWith("tokenauth"))) return this.fail("delegation token requested", "Authentication failed: delegation tokens are not supported");
    this.user = user;
    const { credential, known } = this.users.scramCredential(this.mechanism, user);
    this.credential = credential;
    this.known = known;
    this.nonce = attrs[1][1] + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString("base64")},i=${credential.iterations}`;
    this.state = "final";
    return { done: false, challenge: Buffer.from(this.serverFirst) };
  }

  private final(msg: string): SaslStep {
    this.state = "done";
    const proofAt = msg.lastIndexOf(",p=");
    if (proofAt < 0) return this.fail("client-final without a proof");
    const withoutProof = msg.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== "c" || attrs[0][1] !== Buffer.from(this.gs2Header).toString("base64")) return this.fail("channel binding does not match the gs2 header");
    // "Ends with", as Kafka's ScramSaslServer checks: librdkafka (2.0 at least) sends the client
    // nonce followed by the whole server nonce. The proof covers the message as sent either way.
    if (attrs[1]?.[0] !== "r" || !attrs[1][1].endsWith(this.nonce)) return this.fail("nonce does not match the server's");
    const proof = Buffer.from(msg.slice(proofAt + 3), "base64");
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.hash, this.credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return this.fail("proof has the wrong length", badCredentials(this.mechanism));
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!sameSecret(digest(this.hash, clientKey), this.credential.storedKey) || !this.known) {
      return this.fail(`bad credentials for user "${this.user}"`, badCredentials(this.mechanism));
    }
    const serverSignature = hmac(this.hash, this.credential.serverKey, authMessage);
    return { done: true, challenge: Buffer.from(`v=${serverSignature.toString("base64")}`), principal: this.user };
  }
}
