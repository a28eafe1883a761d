// @vitest-environment jsdom
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ruleInput } from "@/lib/alerts/rules";
import { AlertsView } from "./alerts-view";

const empty = { rules: [], channels: [{ id: "c1", name: "oncall", kind: "webhook" as const, target: "https://hooks.example.com/…" }], inbox: { unread: 0, firing: 0, items: [] }, deliveries: [] };

/** Answers the alert routes like the API and records what the page sent. */
function serveApi(answer: (path: string, method: string, body: unknown) => { status: number; body: unknown }) {
  const sent: { path: string; method: string; body: unknown }[] = [];
  vi.stubGlobal("fetch", async (path: string, init: RequestInit = {}) => {
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    sent.push({ path, method: init.method ?? "GET", body });
    const a = answer(path, init.method ?? "GET", body);
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { "content-type": "application/json" } });
  });
  return sent;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("Alerts page", () => {
  it("creates a rule from the form in the shape the API's schema accepts", async () => {
    const sent = serveApi((_path, method) => (method === "POST" ? { status: 201, body: {} } : { status: 200, body: { rules: [], channels: empty.channels, unread: 0, firing: 0, items: [], deliveries: [] } }));
    render(<AlertsView team="ads" canEdit pipelines={["orders", "clicks"]} streams={["ods.orders"]} initial={empty} initialTab="Rules" />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Rule name"), "orders-lag");
    await user.selectOptions(screen.getByLabelText("Pipeline", { exact: true }), "clicks");
    await user.selectOptions(screen.getByLabelText("Condition"), "consumer_lag");
    await user.clear(screen.getByLabelText("Records behind"));
    await user.type(screen.getByLabelText("Records behind"), "2500");
    await user.clear(screen.getByLabelText("For at least"));
    await user.type(screen.getByLabelText("For at least"), "3m");
    await user.click(screen.getByLabelText("oncall"));
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(sent.some((s) => s.method === "POST")).toBe(true));
    const post = sent.find((s) => s.method === "POST")!;
    expect(post.path).toBe("/api/v1/teams/ads/alerts/rules");
    expect(post.body).toEqual({ name: "orders-lag", pipeline: "clicks", condition: "consumer_lag", threshold: 2500, for: "3m", channels: ["oncall"] });
    expect(ruleInput.parse(post.body)).toMatchObject({ for: 180, threshold: 2500 });
    expect((await screen.findByRole("status")).textContent).toBe("Rule orders-lag created.");
  });

  it("offers only the conditions a stream can have, and shows the server's refusal", async () => {
    serveApi(() => ({ status: 422, body: { error: { message: "The request is invalid: see details for each field.", details: [{ path: ["for"], message: 'use a duration like "30s", "5m", "2h" or "1d"' }] } } }));
    render(<AlertsView team="ads" canEdit pipelines={["orders"]} streams={["ods.orders"]} initial={empty} initialTab="Rules" />);
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Watch"), "stream");
    const options = [...(screen.getByLabelText("Condition") as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(["no_input", "throughput_below"]);
    await user.type(screen.getByLabelText("Rule name"), "quiet");
    await user.clear(screen.getByLabelText("For"));
    await user.type(screen.getByLabelText("For"), "soon");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect((await screen.findByRole("alert")).textContent).toContain('for: use a duration like "30s"');
  });

  it("shows viewers the rules without the form", () => {
    render(<AlertsView team="ads" canEdit={false} pipelines={[]} streams={[]} initial={empty} initialTab="Rules" />);
    expect(screen.queryByRole("form", { name: "New alert rule" })).toBeNull();
    expect(screen.getByText(/Team editors create and delete rules/)).toBeTruthy();
  });
});
