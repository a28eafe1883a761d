import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

/**
 * Fixed partition → task mapping for a deployment's consumer group: partition
 * p of every source topic belongs to task p mod parallelism, whichever members
 * are alive. kafkajs has no manual assign(), so the mapping travels through the
 * group protocol: each member sends its task index as userData and this
 * assigner (run by the group leader) honours it.
 *
 * Why fixed: with exactly-once, a transactional id names a task; if partitions
 * could move between tasks, two transactional ids could both commit output for
 * the same input (see shared notes on KIP-447). A task whose member is absent
 * leaves its partitions unassigned until it is back — never given to another.
 */
export interface TaskIdentity {
  taskIndex: number;
  parallelism: number;
  generation: number;
}

export const STATIC_ASSIGNER_NAME = "SluiceStaticTaskAssigner";

export function encodeTaskIdentity(t: TaskIdentity): Buffer {
  return Buffer.from(JSON.stringify(t));
}

export function decodeTaskIdentity(buf: Buffer | null | undefined): TaskIdentity | undefined {
  if (!buf?.length) return undefined;
  try {
    const v = JSON.parse(buf.toString("utf8")) as TaskIdentity;
    return Number.isInteger(v.taskIndex) && Number.isInteger(v.parallelism) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Pure mapping, exported for tests: members → topic → partitions. */
export function assignStatic(
  members: { memberId: string; identity: TaskIdentity | undefined }[],
  partitionsByTopic: Record<string, number[]>,
): Map<string, Record<string, number[]>> {
  // Only members of the newest generation own partitions, mapped with that generation's parallelism. While a
  // rescale is under way the superseded tasks may still be members; mixing them in (the larger parallelism of
  // the two, an old task keeping an index the new generation has not filled yet) let a superseded task hold a
  // partition while the new tasks wrote watermark markers for the rest: the Window behind the hop took the
  // new generation's markers as covering every partition, and that partition's records arrived late.
  // A partition of a new task not joined yet stays unassigned until it is (never given to an old one).
  let newest = -Infinity;
  for (const m of members) if (m.identity && m.identity.generation > newest) newest = m.identity.generation;
  const owners = new Map<number, string>();
  let parallelism = 1;
  for (const m of members) {
    if (!m.identity || m.identity.generation !== newest) continue;
    parallelism = Math.max(parallelism, m.identity.parallelism);
    // One owner per task index (ties: lowest member id, deterministic).
    const cur = owners.get(m.identity.taskIndex);
    if (cur === undefined || m.memberId < cur) owners.set(m.identity.taskIndex, m.memberId);
  }
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
  for (const [topic, partitions] of Object.entries(partitionsByTopic)) {
    for (const p of partitions) {
      const owner = owners.get(p % parallelism);
      if (owner === undefined) continue;
      (out.get(owner)![topic] ??= []).push(p);
    }
  }
  return out;
}

export function staticTaskAssigner(identity: TaskIdentity): PartitionAssigner {
  return ({ cluster }) => ({
    name: STATIC_ASSIGNER_NAME,
    version: 1,
    async assign({ members, topics }) {
      const partitionsByTopic: Record<string, number[]> = {};
      for (const topic of topics) partitionsByTopic[topic] = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b);
      const decoded = members.map((m) => ({
        memberId: m.memberId,
        identity: decodeTaskIdentity(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData),
      }));
      const assignment = assignStatic(decoded, partitionsByTopic);
      return [...assignment].map(([memberId, a]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: a, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return {
        name: STATIC_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: encodeTaskIdentity(identity) }),
      };
    },
  });
}
