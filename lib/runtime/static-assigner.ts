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
  // One owner per task index: the member of the newest generation (ties: lowest member id, deterministic).
  const owners = new Map<number, { memberId: string; generation: number }>();
  let parallelism = 1;
  for (const m of members) {
    if (!m.identity) continue;
    parallelism = Math.max(parallelism, m.identity.parallelism);
    const cur = owners.get(m.identity.taskIndex);
    if (!cur || m.identity.generation > cur.generation || (m.identity.generation === cur.generation && m.memberId < cur.memberId)) {
      owners.set(m.identity.taskIndex, { memberId: m.memberId, generation: m.identity.generation });
    }
  }
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
  for (const [topic, partitions] of Object.entries(partitionsByTopic)) {
    for (const p of partitions) {
      const owner = owners.get(p % parallelism);
      if (!owner) continue;
      (out.get(owner.memberId)![topic] ??= []).push(p);
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
