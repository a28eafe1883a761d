import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { createTestPki, type TestPki, writeUsersFile } from "@/broker/test/certs";
import { checkHealth } from "@/lib/health/check";
import { createKafka } from "@/lib/kafka/client";
import { closeKafka } from "@/lib/kafka/shared";
import { createRedis } from "@/lib/redis/client";
import { startReconciler } from "@/lib/runtime/reconciler";
import { startTaskProcessor, type TaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { startBroker } from "@/scripts/services/broker";
import type { ServiceProcess } from "@/scripts/services/process";
import { call, createPipelineWithVersion, signUp, uniqueName, waitFor, type TestUser } from "@/scripts/testing/api";

/**
 * Sluice against a Kafka that requires what production clusters require: TLS with client
 * certificates and SASL/SCRAM-SHA-512. The embedded broker plays that cluster (started with
 * those settings and a throwaway PKI; the certificate helper is the broker tests' own), and
 * Sluice reaches it only through the KAFKA_* variables, like any external cluster.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const hasKafka = !!process.env.KAFKA_BROKERS;
const KAFKA_VARS = ["KAFKA_BROKERS", "KAFKA_SSL", "KAFKA_SSL_CA_FILE", "KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"];
const PASSWORD = "a long, secret = password";

let pki: TestPki;
let dataDir: string;
let broker: ServiceProcess;
let saved: Record<string, string | undefined>;
let user: TestUser;
let team: string;
let processor: TaskProcessor;
let reconciler: { close(): Promise<void> };
const redis = hasKafka ? createRedis() : undefined;

beforeAll(async () => {
  if (!hasKafka) return;
  pki = createTestPki();
  dataDir = mkdtempSync(join(tmpdir(), "sluice-secured-broker-"));
  const port = await getPort();
  broker = await startBroker({
    root,
    dataDir,
    port,
    args: [
      ...["--security-protocol", "SASL_SSL", "--ssl-cert-file", pki.serverCertFile, "--ssl-key-file", pki.serverKeyFile],
      ...["--ssl-ca-file", pki.caFile, "--ssl-client-auth", "required"],
      ...["--sasl-users-file", writeUsersFile(pki.dir, { "sluice-app": PASSWORD }), "--sasl-mechanisms", "SCRAM-SHA-512"],
    ],
  });
  saved = Object.fromEntries(KAFKA_VARS.map((k) => [k, process.env[k]]));
  await closeKafka();
  Object.assign(process.env, {
    KAFKA_BROKERS: broker.url,
    KAFKA_SSL: "true",
    KAFKA_SSL_CA_FILE: pki.caFile,
    KAFKA_SSL_CERT_FILE: pki.clientCertFile,
    KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: "sluice-app",
    KAFKA_SASL_PASSWORD: PASSWORD,
  });
  user = await signUp();
  team = uniqueName("sec");
  await call(teams.POST, { caller: user, body: { name: "Secured", slug: team } });
  processor = startTaskProcessor({ workerId: "secured-test-worker", slots: 4, redis: redis! });
  reconciler = startReconciler(redis!, 500);
});

afterAll(async () => {
  if (!hasKafka) return;
  await reconciler?.close();
  await processor?.close();
  await closeTaskQueue();
  await closeKafka();
  for (const k of KAFKA_VARS) {
    if (saved?.[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await broker?.stop();
  redis?.disconnect();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  pki?.remove();
});

describe.skipIf(!hasKafka)("Sluice on a Kafka cluster that requires TLS client certificates and SASL/SCRAM", () => {
  it("creates streams, takes records, runs an exactly-once pipeline and serves its output, all through KAFKA_SSL*/KAFKA_SASL_*", async () => {
    expect((await checkHealth()).deps.kafka).toMatchObject({ state: "ok" });
    const src = `ods.${uniqueName("clicks")}`;
    const sink = `dwd.${uniqueName("big")}`;
    for (const [name, schema] of [
      [src, [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }]],
      [sink, [{ name: "user", type: "string" }, { name: "cents", type: "int" }]],
    ] as const) {
      const r = await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer: name.startsWith("ods") ? "ODS" : "DWD", partitions: 2, schema } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const records = Array.from({ length: 40 }, (_, i) => ({ key: `u${i % 7}`, value: { user_id: `u${i}`, amount: i * 0.75 } }));
    const produced = await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records } });
    expect(produced.status, JSON.stringify(produced.body)).toBe(200);

    const name = uniqueName("p");
    await createPipelineWithVersion(user, team, name, {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
        { id: "big", type: "filter", config: { predicate: "amount > 10.0" }, position: { x: 200, y: 0 } },
        { id: "shape", type: "projection", config: { fields: [{ name: "user", from: "user_id" }, { name: "cents", expr: "int(amount * 100.0)" }] }, position: { x: 400, y: 0 } },
        { id: "out", type: "sink", config: { stream: sink }, position: { x: 600, y: 0 } },
      ],
      edges: [
        { source: "src", target: "big" },
        { source: "big", target: "shape" },
        { source: "shape", target: "out" },
      ],
    });
    const dep = await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 2, deliveryGuarantee: "exactly_once" } });
    expect(dep.status, JSON.stringify(dep.body)).toBe(200);

    const expected = records.filter((r) => r.value.amount > 10).map((r) => ({ user: r.value.user_id, cents: Math.trunc(r.value.amount * 100) }));
    const readSink = async () => {
      const out: { user: string; cents: number }[] = [];
      for (let p = 0; p < 2; p++) {
        const r = await call(recordsRoute.GET, { caller: user, params: { team, stream: sink }, path: `/?partition=${p}&fromOffset=0&limit=1000` });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        out.push(...r.body.records.map((x: { value: { user: string; cents: number } }) => x.value));
      }
      return out;
    };
    const sort = (rows: { user: string; cents: number }[]) => [...rows].sort((a, b) => a.user.localeCompare(b.user));
    const out = await waitFor("the pipeline's output", readSink, (rows) => rows.length >= expected.length, 40_000);
    expect(sort(out)).toEqual(sort(expected));
    const status = await waitFor("running status", async () => (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body, (s) => s.actualState === "running");
    expect(status.tasks).toHaveLength(2);

    // The records live on the secured broker, and it serves nobody without credentials.
    const admin = createKafka({ clientId: "secured-test" }).admin();
    await admin.connect();
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([src, sink]));
    await admin.disconnect();
    const anonymous = new Kafka({ brokers: [broker.url], ssl: { ca: [pki.read(pki.caFile)], cert: pki.read(pki.clientCertFile), key: pki.read(pki.clientKeyFile) }, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2_000 }).admin();
    await expect(anonymous.connect().then(() => anonymous.listTopics())).rejects.toThrow();
    await anonymous.disconnect().catch(() => {});

    expect((await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } })).status).toBe(200);
    await waitFor("stopped", async () => (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body, (s) => s.actualState === "stopped", 20_000);
  });

  it("reports wrong credentials at once and says which settings to check, to operators and to API callers", async () => {
    process.env.KAFKA_SASL_PASSWORD = "not the password";
    await closeKafka();
    try {
      const health = await checkHealth();
      expect(health.deps.kafka.state).toBe("down");
      expect(health.deps.kafka.error).toMatch(/Kafka refused Sluice's credentials .*invalid username or password.*KAFKA_SASL_PASSWORD/);

      const started = Date.now();
      const r = await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: `ods.${uniqueName("never")}`, layer: "ODS", partitions: 1, schema: [{ name: "a", type: "string" }] } });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(r.status).toBe(503);
      expect(r.body.error.message).toMatch(/Kafka refused Sluice's credentials.*KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
      // Operators get the broker's address in the log; API callers do not.
      expect(r.body.error.message).not.toContain(broker.url);
    } finally {
      process.env.KAFKA_SASL_PASSWORD = PASSWORD;
      await closeKafka();
    }
  });
});
