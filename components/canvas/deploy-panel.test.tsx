// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DeployPanel } from "./deploy-panel";
import type { DeploymentStatus } from "./use-deployment-status";

const running: DeploymentStatus = {
  deployed: true,
  version: 1,
  desiredState: "running",
  actualState: "running",
  parallelism: 1,
  deliveryGuarantee: "exactly_once",
  generation: 3,
  recordsPerSec: 120,
  consumerLag: 42,
  tasks: [{ index: 0, state: "running", worker: "vm-1", recordsPerSec: 120, consumerLag: 42, recordsIn: 900, recordsOut: 300, recordsErrored: 0, lastError: null }],
  nodes: { w: { state: "running", recordsPerSec: 3 } },
  lastError: null,
};

// The server's words for a refused stateful redeploy (lib/pipelines/deployments.ts).
const REFUSAL = 'Refusing to deploy: the window state of node(s) "w" cannot carry over to the new logic. Deploy with resetState to start the windows empty.';

/** Answers the deployment routes as the API does and records what the panel sent. */
function serveApi(answers: Record<string, (body: Record<string, unknown>) => { status: number; body: unknown }>) {
  const sent: { path: string; body: Record<string, unknown> }[] = [];
  vi.stubGlobal("fetch", async (path: string, init: RequestInit) => {
    const body = init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {};
    sent.push({ path, body });
    const action = path.split("/").pop()!;
    const a = answers[action]?.(body) ?? { status: 404, body: { error: { message: `no route ${path}` } } };
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { "content-type": "application/json" } });
  });
  return sent;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const base = { team: "acme", pipeline: "per-minute", refresh: async () => {} };

describe("DeployPanel", () => {
  it("deploys the saved version with the chosen parallelism and guarantee, and says why it cannot when blocked", async () => {
    const sent = serveApi({ deploy: (b) => ({ status: 200, body: { version: b.version, parallelism: b.parallelism, deliveryGuarantee: b.deliveryGuarantee } }) });
    const onMessage = vi.fn();
    const { rerender } = render(<DeployPanel {...base} savedVersion={2} blockedReason="Save a version first: the canvas has unsaved changes" status={{ deployed: false }} onMessage={onMessage} />);
    const deploy = screen.getByRole("button", { name: "Deploy" }) as HTMLButtonElement;
    expect(deploy.disabled).toBe(true);
    expect(deploy.title).toBe("Save a version first: the canvas has unsaved changes");

    rerender(<DeployPanel {...base} savedVersion={2} blockedReason={null} status={{ deployed: false }} onMessage={onMessage} />);
    await userEvent.clear(screen.getByLabelText("Parallelism"));
    await userEvent.type(screen.getByLabelText("Parallelism"), "3");
    await userEvent.selectOptions(screen.getByLabelText("Delivery guarantee"), "exactly_once");
    await userEvent.click(screen.getByRole("button", { name: "Deploy" }));
    await waitFor(() => expect(onMessage).toHaveBeenCalledWith({ text: "Deploying version 2: 3 task(s), exactly-once", tone: "ok" }));
    expect(sent).toEqual([{ path: "/api/v1/teams/acme/pipelines/per-minute/deploy", body: { version: 2, parallelism: 3, deliveryGuarantee: "exactly_once", resetState: false } }]);
  });

  it("shows desired vs actual, version and tasks of a running deployment", async () => {
    serveApi({});
    render(<DeployPanel {...base} savedVersion={2} blockedReason={null} status={running} onMessage={() => {}} />);
    expect(screen.getByTestId("deployment-summary").textContent).toContain("1/1 tasks · 120/s");
    await userEvent.click(screen.getByTestId("deployment-summary"));
    const panel = screen.getByRole("region", { name: "Deployment" });
    expect(within(panel).getByTestId("deployment-state").textContent).toBe("running / running");
    expect(panel.textContent).toContain("v1 (v2 saved, not deployed)");
    expect(panel.textContent).toContain("120 records/s · 42 behind");
    expect(within(panel).getByRole("table", { name: "Tasks" }).textContent).toContain("vm-1");
    // The redeploy form starts from what runs, not from the defaults.
    expect((within(panel).getByLabelText("Delivery guarantee") as HTMLSelectElement).value).toBe("exactly_once");
  });

  it("shows a Window pipeline's stages: tasks per stage, its max parallelism and repartition stream", async () => {
    serveApi({});
    const staged: DeploymentStatus = {
      ...running,
      parallelism: 2,
      maxParallelism: 32,
      stages: ["main", "w"],
      internalStreams: ["__sluice.p1.w.repartition"],
      tasks: [0, 1].flatMap((index) => ["main", "w"].map((stage) => ({ ...(running.deployed ? running.tasks[0] : ({} as never)), index, stage, worker: `vm-${stage}-${index}` }))),
    };
    render(<DeployPanel {...base} savedVersion={1} blockedReason={null} status={staged} onMessage={() => {}} />);
    expect(screen.getByTestId("deployment-summary").textContent).toContain("4/4 tasks");
    await userEvent.click(screen.getByTestId("deployment-summary"));
    const panel = screen.getByRole("region", { name: "Deployment" });
    expect(panel.textContent).toContain("2 per stage × 2 stages");
    expect(within(panel).getByTestId("max-parallelism").textContent).toBe("32 key groups");
    expect(within(panel).getByTestId("internal-streams").textContent).toBe("__sluice.p1.w.repartition");
    const rows = within(within(panel).getByRole("table", { name: "Tasks" })).getAllByRole("row").slice(1).map((r) => r.textContent);
    expect(rows.map((r) => r!.split("#")[0].trim())).toEqual(["main", "w", "main", "w"]);
    // Scaling is bounded by the key groups.
    expect((within(panel).getByLabelText("Scale to (tasks)") as HTMLInputElement).max).toBe("32");
  });

  it("says a starting deployment waits for a free worker slot, and how to add capacity", async () => {
    serveApi({});
    const waiting: DeploymentStatus = {
      ...running,
      actualState: "starting",
      recordsPerSec: 0,
      tasks: [{ index: 0, state: "pending", worker: null, recordsPerSec: 0, consumerLag: 0, recordsIn: 0, recordsOut: 0, recordsErrored: 0, lastError: null }],
      waiting: "waiting for a free worker slot: 8 of 8 in use",
      capacity: { workers: 2, slots: 8, inUse: 8 },
    };
    const { rerender } = render(<DeployPanel {...base} savedVersion={1} blockedReason={null} status={waiting} onMessage={() => {}} />);
    expect(screen.getByTestId("deployment-summary").textContent).toContain("waiting for a worker slot");
    await userEvent.click(screen.getByTestId("deployment-summary"));
    expect(screen.getByTestId("deployment-waiting").textContent).toMatch(/^Waiting for a free worker slot: 8 of 8 in use\. Tasks start as slots free up; to run more at once, add worker slots \(WORKER_SLOTS\) or workers \(npm run worker on another machine\)/);
    // Once the task runs, the note goes.
    rerender(<DeployPanel {...base} savedVersion={1} blockedReason={null} status={running} onMessage={() => {}} />);
    expect(screen.queryByTestId("deployment-waiting")).toBeNull();
    expect(screen.getByTestId("deployment-summary").textContent).not.toContain("waiting");
  });

  it("explains a refused stateful redeploy and retries it with the state reset only when asked", async () => {
    const sent = serveApi({
      deploy: (b) => (b.resetState ? { status: 200, body: { version: 2, parallelism: 1, deliveryGuarantee: "exactly_once" } } : { status: 409, body: { error: { code: "conflict", message: REFUSAL } } }),
    });
    const onMessage = vi.fn();
    const refresh = vi.fn(async () => {});
    render(<DeployPanel {...base} refresh={refresh} savedVersion={2} blockedReason={null} status={running} onMessage={onMessage} />);
    await userEvent.click(screen.getByTestId("deployment-summary"));
    await userEvent.click(screen.getByRole("button", { name: "Redeploy v2" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain('Refusing to deploy: the window state of node(s) "w" cannot carry over to the new logic.');
    expect(alert.textContent).not.toContain("resetState");
    expect(refresh).not.toHaveBeenCalled();

    await userEvent.click(within(alert).getByRole("button", { name: "Reset window state and continue" }));
    await waitFor(() => expect(onMessage).toHaveBeenCalledWith({ text: "Deploying version 2: 1 task(s), exactly-once, window state reset", tone: "ok" }));
    expect(sent.map((s) => s.body.resetState)).toEqual([false, true]);
    expect(refresh).toHaveBeenCalledOnce();
  });

  it("stops, naming who reads the streams it writes, and resumes a stopped deployment", async () => {
    const sent = serveApi({
      stop: () => ({ status: 200, body: { impact: [{ stream: "dws.per-minute", summary: "2 pipelines in 2 teams read this (2 running)", consumers: [{}, {}] }, { stream: "dws.unread", summary: "No pipeline reads this stream.", consumers: [] }] } }),
      resume: () => ({ status: 200, body: { version: 1 } }),
    });
    const onMessage = vi.fn();
    const { rerender } = render(<DeployPanel {...base} savedVersion={1} blockedReason={null} status={running} onMessage={onMessage} />);
    await userEvent.click(screen.getByTestId("deployment-summary"));
    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    await waitFor(() => expect(onMessage).toHaveBeenCalledWith({ text: "Stopping per-minute — dws.per-minute: 2 pipelines in 2 teams read this (2 running)", tone: "ok" }));

    rerender(<DeployPanel {...base} savedVersion={1} blockedReason={null} status={{ ...running, desiredState: "stopped", actualState: "stopped", tasks: [] }} onMessage={onMessage} />);
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Scale" })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Resume" }));
    await waitFor(() => expect(onMessage).toHaveBeenLastCalledWith({ text: "Resuming version 1 from the committed offsets", tone: "ok" }));
    expect(sent.map((s) => s.path.split("/").pop())).toEqual(["stop", "resume"]);
  });

  it("scales to the typed number of tasks and shows a refusal in the panel", async () => {
    const sent = serveApi({ scale: () => ({ status: 422, body: { error: { code: "invalid_input", message: "Parallelism 4 is more than the 2 partition(s) of the source stream(s): at most 2 task(s) can receive data." } } }) });
    render(<DeployPanel {...base} savedVersion={1} blockedReason={null} status={running} onMessage={() => {}} />);
    await userEvent.click(screen.getByTestId("deployment-summary"));
    const scale = screen.getByRole("button", { name: "Scale" }) as HTMLButtonElement;
    expect(scale.disabled).toBe(true); // same as now
    await userEvent.clear(screen.getByLabelText("Scale to (tasks)"));
    await userEvent.type(screen.getByLabelText("Scale to (tasks)"), "4");
    await userEvent.click(scale);
    expect((await screen.findByRole("alert")).textContent).toContain("at most 2 task(s) can receive data");
    expect(sent).toEqual([{ path: "/api/v1/teams/acme/pipelines/per-minute/scale", body: { parallelism: 4, resetState: false } }]);
  });
});
