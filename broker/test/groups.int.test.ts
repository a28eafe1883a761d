import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AssignerProtocol, type Consumer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { BrokerProcess, kafka, kcat, nodeWithTsx, waitFor } from "./harness";

const root = fileURLToPath(new URL("../..", import.meta.url));
let broker: BrokerProcess;

beforeAll(async () => {
  broker = await BrokerProcess.start();
});
afterAll(async () => {
  await broker?.destroy();
});

/** memberId → partitions of `topic`, as the coordinator reports it (DescribeGroups). */
async function assignments(groupId: string, topic: string): Promise<{ state: string; members: Map<string, number[]> }> {
  const admin = kafka(broker).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const members = new Map<string, number[]>();
    for (const m of groups[0].members) {
      const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      members.set(m.clientId + "/" + m.memberId, [...(a?.assignment[topic] ?? [])].sort((x, y) => x - y));
    }
    return { state: groups[0].state, members };
  } finally {
    await admin.disconnect();
  }
}

function covers(members: Map<string, number[]>, n: number, count: number): boolean {
  const all = [...members.values()].flat().sort((a, b) => a - b);
  return members.size === count && all.length === n && all.every((p, i) => p === i);
}

describe("consumer groups", () => {
  it("rebalances a three-member group when one leaves and one dies, consuming every record", async () => {
    const topic = "grp-rebalance";
    const groupId = "grp-rebalance-g";
    const admin = kafka(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    await admin.disconnect();

    const child = spawn(nodeWithTsx[0], [...nodeWithTsx.slice(1), join(root, "broker/test/fixtures/group-member.ts"), broker.brokers, groupId, topic], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    onTestFinished(() => void child.kill("SIGKILL"));
    let childOut = "";
    child.stdout.on("data", (d: Buffer) => (childOut += d.toString()));
    await waitFor(() => childOut.includes("joined"), "child member to join", 30_000);

    const seen = new Set<string>();
    const consumers: Consumer[] = [];
    for (const name of ["member-a", "member-b"]) {
      const c = kafka(broker, name).consumer({ groupId, sessionTimeout: 3_000, rebalanceTimeout: 4_000, heartbeatInterval: 300, maxWaitTimeInMs: 200 });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      void c.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      consumers.push(c);
    }
    const three = await waitFor(async () => {
      const a = await assignments(groupId, topic);
      return a.state === "Stable" && covers(a.members, 6, 3) ? a : null;
    }, "three members sharing six partitions", 30_000);
    for (const parts of three.members.values()) expect(parts).toHaveLength(2);

    const producer = kafka(broker).producer();
    await producer.connect();
    const send = (from: number, n: number) =>
      producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `m${from + i}` })) });
    await send(0, 100);

    // A member leaves cleanly (LeaveGroup): the other two take over its partitions.
    await consumers[0].disconnect();
    await waitFor(async () => {
      const a = await assignments(groupId, topic);
      return a.state === "Stable" && covers(a.members, 6, 2) && ![...a.members.keys()].some((k) => k.startsWith("member-a"));
    }, "two members after a leave", 30_000);
    await send(100, 100);

    // A member dies (kill -9, no LeaveGroup): its session expires and the survivor gets all partitions.
    child.kill("SIGKILL");
    const one = await waitFor(async () => {
      const a = await assignments(groupId, topic);
      return a.state === "Stable" && covers(a.members, 6, 1) ? a : null;
    }, "one member after a session expiry", 30_000);
    expect([...one.members.keys()][0]).toMatch(/^member-b/);
    await send(200, 100);
    // Records the dead member consumed (and auto-committed) before it died count too.
    for (const m of childOut.matchAll(/^consumed (\S+)$/gm)) seen.add(m[1]);
    await waitFor(() => seen.size === 300, "every record consumed", 30_000);
    expect([...seen].sort()).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}`).sort());
    await producer.disconnect();
    await consumers[1].disconnect();
  });

  it("keeps committed offsets across a clean restart and a kill -9, and lists/deletes groups", async () => {
    const topic = "grp-offsets";
    const client = kafka(broker);
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.setOffsets({ groupId: "grp-offsets-g", topic, partitions: [{ partition: 0, offset: "42" }, { partition: 1, offset: "7" }] });
    await admin.disconnect();

    const read = async () => {
      const a = kafka(broker).admin();
      await a.connect();
      try {
        const [r] = await a.fetchOffsets({ groupId: "grp-offsets-g", topics: [topic] });
        return r.partitions.map((p) => [p.partition, p.offset]).sort();
      } finally {
        await a.disconnect();
      }
    };
    expect(await read()).toEqual([[0, "42"], [1, "7"]]);
    expect(await broker.stop()).toBe(0);
    await broker.restart();
    expect(await read()).toEqual([[0, "42"], [1, "7"]]);
    await broker.kill9();
    await broker.restart();
    expect(await read()).toEqual([[0, "42"], [1, "7"]]);

    const a = kafka(broker).admin();
    await a.connect();
    const { groups } = await a.listGroups();
    expect(groups.map((g) => g.groupId)).toContain("grp-offsets-g");
    await a.deleteGroups(["grp-offsets-g"]);
    const after = await a.listGroups();
    expect(after.groups.map((g) => g.groupId)).not.toContain("grp-offsets-g");
    await a.disconnect();
    expect(await read()).toEqual([[0, "-1"], [1, "-1"]]);
  });

  it("rebalances librdkafka (kcat -G) members between themselves", async () => {
    const topic = "grp-kcat";
    const admin = kafka(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    await admin.disconnect();
    await kcat(["-b", broker.brokers, "-P", "-t", topic, "-K:"], Array.from({ length: 200 }, (_, i) => `k${i}:v${i}`).join("\n") + "\n");

    const member = () => {
      const child = spawn("kcat", ["-u", "-b", broker.brokers, "-G", "grp-kcat-g", "-X", "auto.offset.reset=earliest", "-f", "%p %o\\n", topic], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      onTestFinished(() => void child.kill("SIGKILL"));
      const m = { child, out: "", err: "" };
      child.stdout.on("data", (d: Buffer) => (m.out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (m.err += d.toString()));
      return m;
    };
    // The partitions in the member's latest "assigned:" line.
    const assigned = (err: string) => {
      const lines = err.split("\n").filter((l) => l.includes("assigned:"));
      return [...(lines.at(-1)?.matchAll(/\[(\d+)\]/g) ?? [])].map((x) => Number(x[1])).sort();
    };
    const a = member();
    await waitFor(() => assigned(a.err).length === 4, "first kcat member to own all partitions", 30_000);
    const b = member();
    await waitFor(() => {
      const pa = assigned(a.err);
      const pb = assigned(b.err);
      return pa.length === 2 && pb.length === 2 && [...pa, ...pb].sort().join() === "0,1,2,3";
    }, "two kcat members to split four partitions", 30_000);
    await waitFor(() => new Set((a.out + b.out).split("\n").filter(Boolean)).size === 200, "all records consumed", 30_000);
    for (const m of [a, b]) m.child.kill("SIGTERM");
  });
});
