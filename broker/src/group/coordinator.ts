import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { DescribedGroup } from "../protocol/apis/describe-groups";
import type { JoinGroupRequest, JoinGroupResponse } from "../protocol/apis/join-group";
import type { SyncGroupRequest } from "../protocol/apis/sync-group";
import { ErrorCode } from "../protocol/errors";
import type { OffsetEntry, OffsetStore } from "./offset-store";

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

interface Member {
  memberId: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  lastSeen: number;
  joinWaiter: ((res: JoinGroupResponse) => void) | null;
  syncWaiter: ((res: { errorCode: number; assignment: Buffer }) => void) | null;
}

class Group {
  state: GroupState = "Empty";
  generationId = 0;
  protocolType = "";
  protocolName = "";
  leaderId = "";
  readonly members = new Map<string, Member>();
  rebalanceDeadline = 0;
  joinNotBefore = 0;
  constructor(readonly id: string) {}
}

export interface GroupTimings {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** Kafka's group.initial.rebalance.delay.ms: lets members that start together join one generation. */
  initialRebalanceDelayMs: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The classic consumer-group protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), with
 * assignors running client-side: the coordinator only elects a leader, hands it every
 * member's subscription, and relays the leader's assignment to each member.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly offsets: OffsetStore,
    private readonly timings: GroupTimings,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.tick(), 100);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g || g.state === "Dead") {
      g = new Group(id);
      this.groups.set(id, g);
    }
    return g;
  }

  private tick(now = Date.now()): void {
    for (const g of this.groups.values()) {
      // Empty groups that never committed (e.g. throwaway readers) are forgotten.
      if (g.state === "Empty" && g.members.size === 0 && !this.offsets.has(g.id)) {
        this.groups.delete(g.id);
        continue;
      }
      for (const m of [...g.members.values()]) {
        const waiting = m.joinWaiter !== null || m.syncWaiter !== null;
        if (!waiting && now - m.lastSeen > m.sessionTimeoutMs) {
          this.log.info({ group: g.id, member: m.memberId }, "member session expired");
          this.removeMember(g, m, ErrorCode.UNKNOWN_MEMBER_ID);
        }
      }
      if (g.state === "PreparingRebalance") {
        if (now >= g.rebalanceDeadline) {
          // Members that did not rejoin within the rebalance timeout are dropped.
          for (const m of [...g.members.values()]) if (!m.joinWaiter) g.members.delete(m.memberId);
          this.completeJoin(g);
        } else this.maybeCompleteJoin(g, now);
      }
    }
  }

  join(req: JoinGroupRequest, clientId: string, clientHost: string): Promise<JoinGroupResponse> {
    const fail = (errorCode: number): Promise<JoinGroupResponse> =>
      Promise.resolve({ errorCode, generationId: -1, protocolName: "", leader: "", memberId: req.memberId, members: [] });
    if (!req.groupId) return fail(ErrorCode.INVALID_GROUP_ID);
    if (req.sessionTimeoutMs < this.timings.minSessionTimeoutMs || req.sessionTimeoutMs > this.timings.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const g = this.group(req.groupId);
    if (req.memberId && !g.members.has(req.memberId)) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (g.members.size > 0) {
      const others = [...g.members.values()].filter((m) => m.memberId !== req.memberId);
      const shared = req.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
      if ((others.length > 0 && g.protocolType !== req.protocolType) || !shared) {
        return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      }
    }
    const now = Date.now();
    const memberId = req.memberId || `${clientId || "member"}-${randomUUID()}`;
    let m = g.members.get(memberId);
    if (!m) {
      m = {
        memberId,
        clientId,
        clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
        assignment: EMPTY,
        lastSeen: now,
        joinWaiter: null,
        syncWaiter: null,
      };
      g.members.set(memberId, m);
    }
    m.sessionTimeoutMs = req.sessionTimeoutMs;
    m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    m.protocols = req.protocols;
    m.lastSeen = now;
    g.protocolType = req.protocolType;
    const previous = m.joinWaiter;
    const promise = new Promise<JoinGroupResponse>((resolve) => {
      m.joinWaiter = resolve;
    });
    previous?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, generationId: -1, protocolName: "", leader: "", memberId, members: [] });
    if (g.state !== "PreparingRebalance") this.prepareRebalance(g, now);
    this.maybeCompleteJoin(g, now);
    return promise;
  }

  private prepareRebalance(g: Group, now: number): void {
    const wasEmpty = g.state === "Empty";
    if (g.state === "CompletingRebalance") {
      for (const m of g.members.values()) {
        m.syncWaiter?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
        m.syncWaiter = null;
      }
    }
    g.state = "PreparingRebalance";
    const timeout = Math.max(0, ...[...g.members.values()].map((m) => m.rebalanceTimeoutMs));
    g.rebalanceDeadline = now + timeout;
    g.joinNotBefore = wasEmpty ? now + this.timings.initialRebalanceDelayMs : now;
    this.log.debug({ group: g.id, generation: g.generationId }, "preparing rebalance");
  }

  private maybeCompleteJoin(g: Group, now = Date.now()): void {
    if (g.state !== "PreparingRebalance" || now < g.joinNotBefore) return;
    for (const m of g.members.values()) if (!m.joinWaiter) return;
    this.completeJoin(g);
  }

  private completeJoin(g: Group): void {
    if (g.members.size === 0) {
      g.state = "Empty";
      g.generationId++;
      g.leaderId = "";
      g.protocolName = "";
      return;
    }
    g.generationId++;
    if (!g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value as string;
    const leader = g.members.get(g.leaderId)!;
    const all = [...g.members.values()];
    g.protocolName = leader.protocols.find((p) => all.every((m) => m.protocols.some((q) => q.name === p.name)))?.name ?? "";
    g.state = "CompletingRebalance";
    const now = Date.now();
    const metadataOf = (m: Member) => m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? EMPTY;
    for (const m of all) {
      const resolve = m.joinWaiter!;
      m.joinWaiter = null;
      m.lastSeen = now;
      resolve({
        errorCode: ErrorCode.NONE,
        generationId: g.generationId,
        protocolName: g.protocolName,
        leader: g.leaderId,
        memberId: m.memberId,
        members:
          m.memberId === g.leaderId
            ? all.map((x) => ({ memberId: x.memberId, groupInstanceId: null, metadata: metadataOf(x) }))
            : [],
      });
    }
    this.log.info({ group: g.id, generation: g.generationId, members: all.length }, "group rebalanced");
  }

  private removeMember(g: Group, m: Member, errorCode: number): void {
    g.members.delete(m.memberId);
    m.joinWaiter?.({ errorCode, generationId: -1, protocolName: "", leader: "", memberId: m.memberId, members: [] });
    m.syncWaiter?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
    m.joinWaiter = null;
    m.syncWaiter = null;
    const now = Date.now();
    if (g.members.size === 0 && g.state !== "PreparingRebalance") {
      g.state = "Empty";
      g.generationId++;
      return;
    }
    if (g.state === "Stable" || g.state === "CompletingRebalance") this.prepareRebalance(g, now);
    this.maybeCompleteJoin(g, now);
  }

  private check(groupId: string, memberId: string, generationId: number): { g: Group; m: Member } | number {
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (!g || !m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    m.lastSeen = Date.now();
    return { g, m };
  }

  sync(req: SyncGroupRequest): Promise<{ errorCode: number; assignment: Buffer }> {
    const c = this.check(req.groupId, req.memberId, req.generationId);
    if (typeof c === "number") return Promise.resolve({ errorCode: c, assignment: EMPTY });
    const { g, m } = c;
    if (g.state === "PreparingRebalance") return Promise.resolve({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
    if (g.state === "Stable") return Promise.resolve({ errorCode: ErrorCode.NONE, assignment: m.assignment });
    const promise = new Promise<{ errorCode: number; assignment: Buffer }>((resolve) => {
      m.syncWaiter = resolve;
    });
    if (m.memberId === g.leaderId) {
      const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      for (const x of g.members.values()) x.assignment = given.get(x.memberId) ?? EMPTY;
      g.state = "Stable";
      for (const x of g.members.values()) {
        x.syncWaiter?.({ errorCode: ErrorCode.NONE, assignment: x.assignment });
        x.syncWaiter = null;
        x.lastSeen = Date.now();
      }
    }
    return promise;
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    const c = this.check(groupId, memberId, generationId);
    if (typeof c === "number") return c;
    return c.g.state === "PreparingRebalance" ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leave(groupId: string, memberId: string): number {
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (!g || !m) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.log.info({ group: groupId, member: memberId }, "member left");
    this.removeMember(g, m, ErrorCode.UNKNOWN_MEMBER_ID);
    return ErrorCode.NONE;
  }

  /** Validates a commit's membership; generation -1 is a standalone (non-member) commit. */
  commitError(groupId: string, memberId: string, generationId: number): number {
    const g = this.groups.get(groupId);
    if (generationId < 0 && !memberId) {
      return g && g.members.size > 0 ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.NONE;
    }
    const c = this.check(groupId, memberId, generationId);
    if (typeof c === "number") return c;
    return c.g.state === "CompletingRebalance" ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  async commitOffsets(groupId: string, entries: OffsetEntry[]): Promise<void> {
    this.group(groupId);
    await this.offsets.commit(groupId, entries);
  }

  describe(groupId: string): DescribedGroup {
    const g = this.groups.get(groupId);
    if (!g) {
      const state = this.offsets.has(groupId) ? "Empty" : "Dead";
      return { errorCode: ErrorCode.NONE, groupId, state, protocolType: "", protocol: "", members: [] };
    }
    const stable = g.state === "Stable";
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: g.state,
      protocolType: g.protocolType,
      protocol: stable ? g.protocolName : "",
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? (m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? EMPTY) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  list(): { groupId: string; protocolType: string }[] {
    const ids = new Set([...this.groups.keys(), ...this.offsets.groupIds()]);
    return [...ids]
      .filter((id) => this.groups.get(id)?.state !== "Dead")
      .map((id) => ({ groupId: id, protocolType: this.groups.get(id)?.protocolType || "consumer" }));
  }

  async delete(groupId: string): Promise<number> {
    const g = this.groups.get(groupId);
    if (!g && !this.offsets.has(groupId)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g && g.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    if (g) g.state = "Dead";
    this.groups.delete(groupId);
    await this.offsets.deleteGroup(groupId);
    return ErrorCode.NONE;
  }
}
