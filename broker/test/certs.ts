import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Throwaway PKI for TLS tests, made with openssl at test time so no private key is ever
 * committed: a CA, a server certificate for 127.0.0.1/localhost, a client certificate the
 * CA signed (mutual TLS), and a second CA nobody trusts. Plain files, so the same set
 * serves the broker, kafkajs, kcat and Sluice's KAFKA_SSL_* settings.
 */
export interface TestPki {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** A client certificate from a CA the broker does not trust. */
  rogueCertFile: string;
  rogueKeyFile: string;
  read(file: string): string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === "ENOENT") throw new Error("the TLS tests need the openssl command (Debian package openssl; `npm run setup` installs it)");
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr?.toString() ?? err}`);
  }
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "sluice-test-pki-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca = (name: string) => openssl(dir, ["req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${name}`]);
  const leaf = (name: string, signer: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
    openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${signer}.crt`, "-CAkey", `${signer}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`]);
  };
  ca("test-ca");
  ca("rogue-ca");
  leaf("broker", "test-ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  leaf("client", "test-ca", "extendedKeyUsage=clientAuth\n");
  leaf("rogue-client", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  const f = (name: string) => join(dir, name);
  return {
    dir,
    caFile: f("test-ca.crt"),
    serverCertFile: f("broker.crt"),
    serverKeyFile: f("broker.key"),
    clientCertFile: f("client.crt"),
    clientKeyFile: f("client.key"),
    rogueCertFile: f("rogue-client.crt"),
    rogueKeyFile: f("rogue-client.key"),
    read: (file) => readFileSync(file, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Writes a broker SASL users file (0600) and returns its path. */
export function writeUsersFile(dir: string, users: Record<string, string>): string {
  const file = join(dir, "sasl-users.json");
  writeFileSync(file, JSON.stringify({ users }), { mode: 0o600 });
  return file;
}
