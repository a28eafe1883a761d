import { describe, expect, it } from "vitest";
import * as me from "@/app/api/v1/me/route";
import { bearer, call, uniqueName } from "@/scripts/testing/api";
import { runCli, type CliIO } from "./main";

function io(stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const cio: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => stdin };
  return { cio, out, err };
}

describe("sluice CLI", () => {
  it("creates a user, a team and a token that authenticates against the API", async () => {
    const email = `${uniqueName("cli")}@example.test`;
    const slug = uniqueName("cli-team");
    const a = io("a long enough password\n");
    expect(await runCli(["user", "create", "--email", email, "--name", "CLI User", "--password-stdin"], a.cio)).toBe(0);
    expect(a.out[0]).toContain(email);

    const b = io();
    expect(await runCli(["team", "create", "--name", "CLI Team", "--slug", slug, "--owner", email], b.cio)).toBe(0);

    const c = io();
    expect(await runCli(["token", "create", "--team", slug, "--name", "deploy-bot"], c.cio)).toBe(0);
    const token = c.out[0];
    expect(token).toMatch(/^slc_/);
    expect(c.err.join("\n")).toMatch(/not shown again/);

    const res = await call(me.GET, { caller: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.body.teams[0].slug).toBe(slug);
  });

  it("explains errors and exits non-zero", async () => {
    const r = io();
    expect(await runCli(["token", "create", "--team", uniqueName("missing")], r.cio)).toBe(1);
    expect(r.err.join("\n")).toMatch(/No team/);
    const weak = io("short\n");
    expect(await runCli(["user", "create", "--email", `${uniqueName("w")}@example.test`, "--name", "W", "--password-stdin"], weak.cio)).toBe(1);
    expect(weak.err.join("\n")).toMatch(/at least 10/);
  });

  it("prints help for every command and exits 2 on unknown options", async () => {
    for (const argv of [["--help"], ["user", "create", "--help"], ["team", "create", "--help"], ["token", "create", "--help"]]) {
      const h = io();
      expect(await runCli(argv, h.cio)).toBe(0);
      expect(h.out.join("\n")).toMatch(/Usage: sluice/);
    }
    const bad = io();
    expect(await runCli(["team", "create", "--bogus"], bad.cio)).toBe(2);
  });
});
