import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as streamRoute from "@/app/api/v1/teams/[team]/streams/[stream]/route";
import * as accessRequests from "@/app/api/v1/teams/[team]/access-requests/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import { runCli } from "@/lib/cli/main";
import { prisma } from "@/lib/db/prisma";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { authRequest, call, copyPipeline, createPipelineWithVersion, signUp, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

/** The Low findings of issue 16's probe, one regression test each. */
const hasKafka = !!process.env.KAFKA_BROKERS;
const schema = [{ name: "id", type: "string" }];
let owner: TestUser, outsider: TestUser;
let team: string, otherTeam: string;

beforeAll(async () => {
  team = uniqueName("low");
  otherTeam = uniqueName("other");
  [owner, outsider] = await Promise.all([signUpWithTeam(team), signUpWithTeam(otherTeam)]);
});
afterAll(() => closeKafka());

const hidden = { "right-to-left override": "Ads\u202eAnalytics", "zero-width space": "Ads\u200bAnalytics", "newline": "Ads\nAnalytics", "hangul filler": "\u3164\u3164" };

describe("team, user and token names", () => {
  it.each(Object.entries(hidden))("refuses a team name with a %s, and a 5,000-character one", async (_what, name) => {
    for (const bad of [name, "x".repeat(5_000)]) {
      const res = await call(teams.POST, { caller: owner, body: { name: bad, slug: uniqueName("n") } });
      expect(res.status).toBe(422);
      expect(res.body.error.details[0].path).toEqual(["name"]);
    }
  });

  it("refuses user names with hidden characters or 5,000 characters at sign-up, and token names with them", async () => {
    for (const name of [...Object.values(hidden), "y".repeat(5_000)]) {
      const res = await authRequest("/sign-up/email", { email: `${uniqueName("n")}@example.test`, password: "correct horse battery staple", name }, "192.0.2.10");
      expect(res.status).toBe(400);
      expect((await res.json()).message).toMatch(/^Your name must (not contain control, formatting or invisible characters|be at (least|most))/);
    }
    const token = await call(tokens.POST, { caller: owner, params: { team }, body: { name: "ci\u202e", role: "viewer" } });
    expect(token.status).toBe(422);
    // Ordinary names in any script still work.
    expect((await call(teams.POST, { caller: owner, body: { name: "Équipe Données 数据", slug: uniqueName("ok") } })).status).toBe(201);
  });
});

describe("passwords", () => {
  it("refuses common and easily guessed passwords at sign-up and in the CLI, saying what is acceptable", async () => {
    for (const password of ["1234567890", "password123", "qwertyuiop", "aaaaaaaaaaaa", "iloveyou12"]) {
      const res = await authRequest("/sign-up/email", { email: `${uniqueName("p")}@example.test`, password, name: "P" }, "192.0.2.11");
      expect(res.status, password).toBe(400);
      expect((await res.json()).message).toMatch(/too easy to guess.*A password needs 10–128 characters, and not a common or easily guessed password/);
    }
    // A password made of the account's own email is refused too.
    const email = `${uniqueName("marguerite")}@example.test`;
    expect((await authRequest("/sign-up/email", { email, password: email.split("@")[0], name: "M" }, "192.0.2.12")).status).toBe(400);

    const err: string[] = [];
    const code = await runCli(["user", "create", "--email", `${uniqueName("c")}@example.test`, "--name", "C", "--password-stdin"], { out: () => {}, err: (l) => err.push(l), readStdin: async () => "1234567890\n" });
    expect(code).toBe(1);
    expect(err.join("\n")).toMatch(/too easy to guess/);
    // A few unrelated words pass.
    expect((await authRequest("/sign-up/email", { email: `${uniqueName("ok")}@example.test`, password: "blue kettle orbit", name: "Ok" }, "192.0.2.13")).status).toBe(200);
  });
});

describe("access requests", () => {
  it("are listed to the owner team's owners only, as docs/warehouse.md says", async () => {
    const [editor, viewer] = await Promise.all([signUp(), signUp()]);
    for (const [u, role] of [[editor, "editor"], [viewer, "viewer"]] as const) {
      expect((await call(members.POST, { caller: owner, params: { team }, body: { email: u.email, role } })).status).toBe(201);
    }
    for (const u of [editor, viewer]) {
      const res = await call(accessRequests.GET, { caller: u, params: { team }, path: "/?status=requested" });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain("needs the owner role");
      // The team's own requests to others stay visible to every member.
      expect((await call(accessRequests.GET, { caller: u, params: { team }, path: "/?direction=outgoing" })).status).toBe(200);
    }
    expect((await call(accessRequests.GET, { caller: owner, params: { team }, path: "/?status=requested" })).status).toBe(200);
  });
});

describe.skipIf(!hasKafka)("private stream names", () => {
  it("answers a create on another team's private stream name exactly like one on a name taken outside the catalog", async () => {
    const privateName = `dwd.${uniqueName("private")}`;
    expect((await call(streamsRoute.POST, { caller: outsider, params: { team: otherTeam }, body: { name: privateName, layer: "DWD", partitions: 1, schema, visibility: "private" } })).status).toBe(201);
    const outsideCatalog = `dwd.${uniqueName("raw")}`;
    await (await kafkaAdmin()).createTopics({ waitForLeaders: true, topics: [{ topic: outsideCatalog, numPartitions: 1 }] });

    const answers = [];
    for (const name of [privateName, outsideCatalog]) {
      const res = await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "DWD", partitions: 1, schema } });
      answers.push({ status: res.status, body: JSON.stringify(res.body).replaceAll(name, "<name>") });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0].status).toBe(409);
    expect(answers[0].body).not.toContain(otherTeam);
    expect(answers[0].body).toContain("not available: choose another one");
    // GET says nothing either way.
    expect((await call(streamRoute.GET, { caller: owner, params: { team, stream: privateName } })).status).toBe(404);

    // A stream the team can see is named with its owner, so a legitimate user knows where to ask.
    const visible = `dwd.${uniqueName("visible")}`;
    await call(streamsRoute.POST, { caller: outsider, params: { team: otherTeam }, body: { name: visible, layer: "DWD", partitions: 1, schema, visibility: "team" } });
    const taken = await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: visible, layer: "DWD", partitions: 1, schema } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toContain(`owned by team "${otherTeam}"`);
  });

  it("stopping a pipeline does not echo anything about a Sink stream that is another team's private stream", async () => {
    const [source, sink] = [`ods.${uniqueName("src")}`, `dwd.${uniqueName("sink")}`];
    for (const name of [source, sink]) expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
    const pipeline = uniqueName("p");
    await createPipelineWithVersion(owner, team, pipeline, copyPipeline(source, sink));
    expect((await call(deployRoute.POST, { caller: owner, params: { team, pipeline }, body: {} })).status).toBe(200);
    // The Sink stream is now another team's private stream — as a version deployed before Sinks were held to the
    // team's own streams could have it.
    const other = await prisma().team.findUniqueOrThrow({ where: { slug: otherTeam } });
    await prisma().stream.update({ where: { name: sink }, data: { ownerTeamId: other.id, visibility: "private" } });
    const stopped = await call(stopRoute.POST, { caller: owner, params: { team, pipeline } });
    expect(stopped.status).toBe(200);
    expect(stopped.body.impact).toEqual([]);
  });
});
