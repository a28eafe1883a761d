import { evaluateAlertsOnce, requeueStrandedDeliveries } from "@/lib/alerts/evaluator";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";
import type { OperationsEnv } from "@/lib/env/operations";
import { moduleLogger } from "@/lib/log/logger";
import { dropExpiredPartitions } from "@/lib/metrics/retention";
import type { LeaderDuty } from "./reconciler";

const log = moduleLogger("leader");

/** What the lease-holding worker does besides reconciling deployments (docs/operations.md). */
export function leaderDuties(env: Pick<OperationsEnv, "SLUICE_ALERT_EVALUATION_MS" | "SLUICE_METRICS_RETENTION_DAYS" | "SLUICE_METRICS_ROLLUP_RETENTION_DAYS">): LeaderDuty[] {
  return [
    {
      name: "alert-evaluator",
      intervalMs: env.SLUICE_ALERT_EVALUATION_MS,
      run: async (redis) => {
        const r = await evaluateAlertsOnce(redis);
        if (r.transitions.length) log.info({ rules: r.rules, transitions: r.transitions.length, ms: Math.round(r.ms) }, "alert rules evaluated");
      },
    },
    { name: "alert-delivery-sweep", intervalMs: 60_000, run: () => requeueStrandedDeliveries() },
    {
      name: "metrics-retention",
      intervalMs: 3_600_000,
      run: async () => {
        if (clickhouseUrl()) await dropExpiredPartitions(clickhouse(), { rawDays: env.SLUICE_METRICS_RETENTION_DAYS, rollupDays: env.SLUICE_METRICS_ROLLUP_RETENTION_DAYS });
      },
    },
  ];
}
