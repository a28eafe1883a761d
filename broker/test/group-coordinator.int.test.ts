import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GroupCoordinator } from "../src/group/coordinator";
import { OffsetStore } from "../src/group/offset-store";
import type { JoinGroupRequest } from "../src/protocol/apis/join-group";
import { ErrorCode } from "../src/protocol/errors";
import { Durability } from "../src/storage/durability";
import { InternalTopic } from "../src/storage/internal-topic";
import { PartitionLog } from "../src/storage/partition-log";
import { TopicConfig } from "../src/storage/topic-config";
import { waitFor } from "./harness";

// The coordinator state machine driven directly (real offsets log in a temp dir), for
// the timing and error paths real clients only hit by accident.
const log = pino({ level: "silent" });
let dir: string;
let durability: Durability;
let groups: GroupCoordinator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-group-"));
  durability = new Durability("ack", 1000, (err) => {
    throw err;
  });
  const p = await PartitionLog.open(join(dir, "offsets"), "__consumer_offsets", 0, new TopicConfig({ "cleanup.policy": "compact" }), durability, log);
  groups = new GroupCoordinator(new OffsetStore(new InternalTopic(p)), { minSessionTimeoutMs: 100, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0 }, log);
});
afterAll(async () => {
  groups.close();
  await durability.close();
  rmSync(dir, { recursive: true, force: true });
});

const join_ = (groupId: string, memberId = "", opts: Partial<JoinGroupRequest> = {}) =>
  groups.join(
    {
      groupId,
      memberId,
      sessionTimeoutMs: 400,
      rebalanceTimeoutMs: 600,
      groupInstanceId: null,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: Buffer.from(memberId || "new") }],
      ...opts,
    },
    "client",
    "/127.0.0.1",
  );

describe("group coordinator", () => {
  it("completes a generation, relays the leader's assignment, and rejects stale generations", async () => {
    const first = await join_("g1");
    expect(first).toMatchObject({ errorCode: 0, generationId: 1, protocolName: "range", leader: first.memberId });
    expect(first.members).toHaveLength(1);
    const sync = await groups.sync({
      groupId: "g1",
      generationId: 1,
      memberId: first.memberId,
      assignments: [{ memberId: first.memberId, assignment: Buffer.from("all") }],
    });
    expect(sync).toEqual({ errorCode: 0, assignment: Buffer.from("all") });
    expect(groups.heartbeat("g1", first.memberId, 1)).toBe(ErrorCode.NONE);
    expect(groups.heartbeat("g1", first.memberId, 0)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(groups.heartbeat("g1", "nobody", 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(groups.commitError("g1", first.memberId, 0)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(groups.describe("g1")).toMatchObject({ state: "Stable", protocol: "range", members: [{ memberId: first.memberId }] });

    // A second member triggers a rebalance; the first learns of it from its heartbeat.
    const secondJoin = join_("g1");
    expect(groups.heartbeat("g1", first.memberId, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = await join_("g1", first.memberId);
    const second = await secondJoin;
    expect(rejoin.generationId).toBe(2);
    expect(second.generationId).toBe(2);
    expect(rejoin.leader).toBe(first.memberId);
    expect(rejoin.members.map((m) => m.memberId).sort()).toEqual([first.memberId, second.memberId].sort());
    expect(second.members).toEqual([]);
    // The follower's SyncGroup waits for the leader's.
    const followerSync = groups.sync({ groupId: "g1", generationId: 2, memberId: second.memberId, assignments: [] });
    await groups.sync({
      groupId: "g1",
      generationId: 2,
      memberId: first.memberId,
      assignments: [
        { memberId: first.memberId, assignment: Buffer.from("a") },
        { memberId: second.memberId, assignment: Buffer.from("b") },
      ],
    });
    expect(await followerSync).toEqual({ errorCode: 0, assignment: Buffer.from("b") });
    expect(await groups.delete("g1")).toBe(ErrorCode.NON_EMPTY_GROUP);
    expect(groups.leave("g1", first.memberId)).toBe(ErrorCode.NONE);
    expect(groups.leave("g1", second.memberId)).toBe(ErrorCode.NONE);
    expect(groups.describe("g1").state).toBe("Empty");
    expect(await groups.delete("g1")).toBe(ErrorCode.NONE);
    expect(await groups.delete("g1")).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it("expires a silent member after its session timeout and drops members that do not rejoin in time", async () => {
    const a = await join_("g2");
    await groups.sync({ groupId: "g2", generationId: a.generationId, memberId: a.memberId, assignments: [] });
    const bJoin = join_("g2");
    // a never rejoins: after the rebalance timeout the generation completes without it.
    const b = await bJoin;
    expect(b.members.map((m) => m.memberId)).toEqual([b.memberId]);
    expect(b.leader).toBe(b.memberId);
    await groups.sync({ groupId: "g2", generationId: b.generationId, memberId: b.memberId, assignments: [] });
    expect(groups.heartbeat("g2", a.memberId, a.generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // b goes silent: its session (400 ms) expires and the group empties, not before.
    const silentSince = Date.now();
    await waitFor(() => groups.describe("g2").state === "Empty", "session expiry", 5_000);
    expect(Date.now() - silentSince).toBeGreaterThanOrEqual(400);
    expect(groups.describe("g2").members).toEqual([]);
  });

  it("refuses inconsistent protocols, bad session timeouts and unknown member ids", async () => {
    const a = await join_("g3");
    expect((await join_("g3", "", { protocols: [{ name: "other", metadata: Buffer.alloc(0) }] })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join_("g3", "", { sessionTimeoutMs: 10 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await join_("g3", "ghost")).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(groups.leave("g3", a.memberId)).toBe(ErrorCode.NONE);
  });

  it("stores commits durably and answers them back", async () => {
    await groups.commitOffsets("g4", [{ topic: "t", partition: 0, offset: 17, metadata: "m" }]);
    expect(groups.offsets.get("g4", "t", 0)).toEqual({ topic: "t", partition: 0, offset: 17, metadata: "m" });
    expect(groups.list()).toContainEqual({ groupId: "g4", protocolType: "consumer" });
  });
});
