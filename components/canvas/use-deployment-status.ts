"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { apiFetch } from "@/components/ui/api";

export interface TaskStatus {
  index: number;
  /** The stage the task runs ("main" unless the pipeline runs in stages). */
  stage?: string;
  state: string;
  worker: string | null;
  recordsPerSec: number;
  consumerLag: number;
  recordsIn: number;
  recordsOut: number;
  recordsErrored: number;
  lastError: string | null;
  /** Auto-restart (absent from older servers): failures in the restart window, the next retry, the cap. */
  restarts?: number;
  nextRetryAt?: number | null;
  restartLimit?: { maxFailures: number; windowMs: number } | null;
}

/** GET …/pipelines/:pipeline/status (lib/pipelines/status.ts). */
export type DeploymentStatus =
  | { deployed: false }
  | {
      deployed: true;
      version: number;
      desiredState: string;
      actualState: string;
      parallelism: number;
      /** Key groups of a stateful pipeline: the most tasks its Window stages can have (null: not stateful, or the earlier state layout). */
      maxParallelism?: number | null;
      /** "main", then one stage per Window (docs/runtime.md "Stages"). */
      stages?: string[];
      /** The repartition streams between stages (internal: not in the catalog). */
      internalStreams?: string[];
      deliveryGuarantee: string;
      generation: number;
      recordsPerSec: number;
      consumerLag: number;
      tasks: TaskStatus[];
      /** Absent from servers older than per-node status. */
      nodes?: Record<string, { state: string; recordsPerSec: number; stage?: string; tasks?: number }>;
      lastError: string | null;
      /** Why pending tasks do not run when it is capacity ("waiting for a free worker slot: 8 of 8 in use"); absent from older servers. */
      waiting?: string | null;
      capacity?: { workers: number; slots: number; inUse: number };
    };

/** While a deployment exists its task states change every second; 2 s is live enough without loading the API. */
export const STATUS_POLL_MS = 2_000;

/**
 * The pipeline's deployment status, polled every 2 s while a deployment
 * exists (fetched once otherwise; `refresh()` after deploy/stop/scale so the
 * change shows at once and polling starts).
 */
export function useDeploymentStatus(team: string, pipeline: string) {
  const [status, setStatus] = useState<DeploymentStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  const refresh = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const s = await apiFetch<DeploymentStatus>(`/api/v1/teams/${team}/pipelines/${pipeline}/status`);
      // A slow answer must not overwrite a newer one (e.g. the refresh right after a stop).
      if (mine === seq.current) {
        setStatus(s);
        setError(null);
      }
    } catch (e) {
      if (mine === seq.current) setError(e instanceof Error ? e.message : String(e));
    }
  }, [team, pipeline]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const deployed = status?.deployed === true;
  useEffect(() => {
    if (!deployed) return;
    // A background tab does not poll; the next visible tick catches up.
    const t = setInterval(() => !document.hidden && void refresh(), STATUS_POLL_MS);
    return () => clearInterval(t);
  }, [deployed, refresh]);

  return { status, error, refresh };
}
