// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { diffPipelines } from "@/lib/pipeline/diff";
import type { PipelineDoc } from "./store";
import { DiffList, SaveVersionDialog, VersionsPanel, type DiffSelection } from "./versions-panel";

const v1: PipelineDoc = {
  version: 1,
  nodes: [
    { id: "source-1", type: "source", config: { stream: "ods.clicks" }, position: { x: 0, y: 0 } },
    { id: "filter-1", type: "filter", config: { predicate: "amount > 10.0" }, position: { x: 200, y: 0 } },
    { id: "sink-1", type: "sink", config: { stream: "dwd.big" }, position: { x: 400, y: 0 } },
  ],
  edges: [{ source: "source-1", target: "filter-1" }, { source: "filter-1", target: "sink-1" }],
};
const v2: PipelineDoc = {
  ...v1,
  nodes: [
    v1.nodes[0],
    { ...v1.nodes[1], config: { predicate: "amount > 20.0" }, position: { x: 250, y: 40 } },
    { id: "projection-1", type: "projection", config: { fields: [{ name: "amount", from: "amount" }] }, position: { x: 300, y: 0 } },
    v1.nodes[2],
  ],
  edges: [{ source: "source-1", target: "filter-1" }, { source: "filter-1", target: "projection-1" }, { source: "projection-1", target: "sink-1" }],
};
const docs: Record<number, PipelineDoc> = { 1: v1, 2: v2, 3: v2 };

/** The REST API's answers for this pipeline (shapes of lib/pipelines/pipelines.ts listVersions/getVersion). */
function serveApi() {
  const requests: string[] = [];
  vi.stubGlobal("fetch", async (url: string) => {
    requests.push(url);
    const m = /\/versions(?:\/(\d+))?$/.exec(url);
    if (!m) return new Response(JSON.stringify({ error: { message: "unexpected" } }), { status: 404 });
    const body = m[1]
      ? { version: Number(m[1]), message: "", pipeline: docs[Number(m[1])], author: null, createdAt: "2026-11-30T02:00:00.000Z" }
      : {
          versions: [3, 2, 1].map((version) => ({
            version,
            message: ["first version", "stricter filter", "same again"][version - 1],
            author: version === 3 ? null : { name: "Cara", email: "cara@example.test" },
            createdAt: `2026-11-30T0${version}:15:00.000Z`,
          })),
        };
    return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  });
  return requests;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("DiffList", () => {
  const selection: DiffSelection = { from: 1, to: 2, before: v1, after: v2, diff: diffPipelines(v1, v2) };

  it("lists the changed Filter field before → after, the added node and the rewired edges", () => {
    render(<DiffList selection={selection} onExit={() => {}} />);
    expect(screen.getByRole("heading", { name: "v1 → v2" })).toBeTruthy();
    expect(screen.getByTestId("diff-summary").textContent).toBe("1 node added, 1 changed; 2 edges added, 1 removed");
    const changed = screen.getByTestId("diff-changed-filter-1");
    expect(within(changed).getByText("predicate")).toBeTruthy();
    expect(within(changed).getByLabelText("before").textContent).toBe('"amount > 10.0"');
    expect(within(changed).getByLabelText("after").textContent).toBe('"amount > 20.0"');
    expect(screen.getByTestId("diff-added-projection-1").textContent).toContain("added (projection)");
    // The moved Filter is not reported as a position change.
    expect(screen.queryByText(/position/)).toBeNull();
    expect(screen.getByText("− filter-1 → sink-1")).toBeTruthy();
  });

  it("focuses a node from the list and exits the diff", async () => {
    const onExit = vi.fn();
    const onFocusNode = vi.fn();
    render(<DiffList selection={selection} onExit={onExit} onFocusNode={onFocusNode} />);
    await userEvent.click(screen.getByRole("button", { name: "filter-1" }));
    expect(onFocusNode).toHaveBeenCalledWith("filter-1");
    await userEvent.click(screen.getByRole("button", { name: "Exit diff" }));
    expect(onExit).toHaveBeenCalledOnce();
  });
});

describe("VersionsPanel", () => {
  let requests: string[];
  beforeEach(() => {
    requests = serveApi();
  });

  const props = { team: "acme", pipeline: "big-clicks", latestVersion: 3, canEdit: true, diffing: null, onExitDiff: () => {} };

  it("shows number, message, author and time, newest first", async () => {
    render(<VersionsPanel {...props} deployedVersion={2} dirty={false} onShowDiff={() => {}} onRestore={() => {}} />);
    const v2row = await screen.findByTestId("version-2");
    expect(within(v2row).getByText("deployed")).toBeTruthy();
    expect(within(screen.getByTestId("version-3")).getByText("latest")).toBeTruthy();
    expect(within(screen.getByTestId("version-3")).queryByText("deployed")).toBeNull();
    expect(v2row.textContent).toContain("v2");
    expect(v2row.textContent).toContain("stricter filter");
    expect(v2row.textContent).toContain("Cara");
    expect(v2row.textContent).toContain("2026-11-30 02:15");
    expect(screen.getByTestId("version-3").textContent).toContain("API token");
    expect(screen.getAllByTestId(/^version-/).map((e) => e.dataset.testid)).toEqual(["version-3", "version-2", "version-1"]);
  });

  it("compares the two ticked versions, older first, with the diff computed from their documents", async () => {
    const onShowDiff = vi.fn();
    render(<VersionsPanel {...props} dirty={false} onShowDiff={onShowDiff} onRestore={() => {}} />);
    await screen.findByTestId("version-2");
    const compare = screen.getByRole("button", { name: "Compare" }) as HTMLButtonElement;
    expect(compare.disabled).toBe(true);
    await userEvent.click(screen.getByLabelText("Compare v2"));
    await userEvent.click(screen.getByLabelText("Compare v1"));
    await userEvent.click(screen.getByRole("button", { name: "Compare v1 → v2" }));
    await waitFor(() => expect(onShowDiff).toHaveBeenCalledOnce());
    const sel = onShowDiff.mock.calls[0][0] as DiffSelection;
    expect([sel.from, sel.to]).toEqual([1, 2]);
    expect(sel.diff.changed.map((n) => n.id)).toEqual(["filter-1"]);
    expect(sel.diff.added.map((n) => n.id)).toEqual(["projection-1"]);
    expect(requests.filter((r) => /versions\/\d$/.test(r)).sort()).toEqual([
      "/api/v1/teams/acme/pipelines/big-clicks/versions/1",
      "/api/v1/teams/acme/pipelines/big-clicks/versions/2",
    ]);
  });

  it("ticking a third version drops the oldest pick", async () => {
    render(<VersionsPanel {...props} dirty={false} onShowDiff={() => {}} onRestore={() => {}} />);
    await screen.findByTestId("version-1");
    for (const v of [1, 2, 3]) await userEvent.click(screen.getByLabelText(`Compare v${v}`));
    expect((screen.getByLabelText("Compare v1") as HTMLInputElement).checked).toBe(false);
    expect(screen.getByRole("button", { name: "Compare v2 → v3" })).toBeTruthy();
  });

  it("restores at once when nothing is unsaved, and asks first when there are unsaved edits", async () => {
    const onRestore = vi.fn();
    const { rerender } = render(<VersionsPanel {...props} dirty={false} onShowDiff={() => {}} onRestore={onRestore} />);
    await screen.findByTestId("version-1");
    await userEvent.click(screen.getByRole("button", { name: "Restore v1" }));
    await waitFor(() => expect(onRestore).toHaveBeenCalledWith(v1, 1));

    rerender(<VersionsPanel {...props} dirty onShowDiff={() => {}} onRestore={onRestore} />);
    await userEvent.click(screen.getByRole("button", { name: "Restore v2" }));
    const dialog = screen.getByRole("dialog", { name: "Restore v2?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Keep editing" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(onRestore).toHaveBeenCalledTimes(1);

    await userEvent.click(screen.getByRole("button", { name: "Restore v2" }));
    await userEvent.click(screen.getByRole("button", { name: "Discard my changes and restore" }));
    await waitFor(() => expect(onRestore).toHaveBeenLastCalledWith(v2, 2));
  });

  it("hides Restore from viewers", async () => {
    render(<VersionsPanel {...props} canEdit={false} dirty={false} onShowDiff={() => {}} onRestore={() => {}} />);
    await screen.findByTestId("version-1");
    expect(screen.queryByRole("button", { name: /Restore/ })).toBeNull();
  });
});

describe("SaveVersionDialog", () => {
  it("saves with the typed message on Enter and cancels on Escape", async () => {
    const onSave = vi.fn();
    const onClose = vi.fn();
    render(<SaveVersionDialog onSave={onSave} onClose={onClose} saving={false} error={null} />);
    const box = screen.getByLabelText(/What changed/);
    expect(document.activeElement).toBe(box);
    await userEvent.type(box, "  stricter filter {Enter}");
    expect(onSave).toHaveBeenCalledWith("stricter filter");
    fireEvent.keyDown(window, { key: "Escape" });
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("shows the server's error", () => {
    render(<SaveVersionDialog onSave={() => {}} onClose={() => {}} saving={false} error="The pipeline has 1 error(s); fix them before saving." />);
    expect(screen.getByRole("alert").textContent).toContain("fix them before saving");
  });
});
