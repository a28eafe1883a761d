import { afterEach, describe, expect, it } from "vitest";
import * as health from "@/app/api/health/route";

describe("GET /api/health", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("reports every dependency with its state and latency", async () => {
    const res = await health.GET();
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body.deps).sort()).toEqual(["clickhouse", "kafka", "postgres", "redis"]);
    for (const name of ["postgres", "redis", "clickhouse"]) {
      expect(body.deps[name].state, name).toBe("ok");
      expect(body.deps[name].latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(body.status).toBe(body.deps.kafka.state === "ok" ? "ok" : "degraded");
  });

  it("reports kafka down and the whole status degraded when the brokers are unreachable", async () => {
    process.env.KAFKA_BROKERS = "127.0.0.1:1";
    const body = await (await health.GET()).json();
    expect(body.status).toBe("degraded");
    expect(body.deps.kafka.state).toBe("down");
    expect(body.deps.kafka.error).toBeTruthy();
    expect(body.deps.postgres.state).toBe("ok");
  });
});
