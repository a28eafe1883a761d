import type { Broker } from "../broker";
import { DeleteGroups } from "../protocol/apis/delete-groups";
import { DescribeGroups } from "../protocol/apis/describe-groups";
import { FindCoordinator } from "../protocol/apis/find-coordinator";
import { Heartbeat } from "../protocol/apis/heartbeat";
import { JoinGroup } from "../protocol/apis/join-group";
import { LeaveGroup } from "../protocol/apis/leave-group";
import { ListGroups } from "../protocol/apis/list-groups";
import { OffsetCommit } from "../protocol/apis/offset-commit";
import { OffsetFetch, type OffsetFetchResponse } from "../protocol/apis/offset-fetch";
import { SyncGroup } from "../protocol/apis/sync-group";
import { ErrorCode } from "../protocol/errors";
import { type Handler, handler } from "./handler";

export function groupHandlers(b: Broker): Handler[] {
  const g = () => b.groups;
  return [
    // Single node: this broker coordinates every group and every transactional id.
    handler(FindCoordinator, () => ({ errorCode: ErrorCode.NONE, nodeId: b.config.nodeId, host: b.advertisedHost, port: b.port })),
    handler(JoinGroup, (req, ctx) => g().join(req, ctx.clientId, ctx.clientHost)),
    handler(SyncGroup, (req) => g().sync(req)),
    handler(Heartbeat, (req) => ({ errorCode: g().heartbeat(req.groupId, req.memberId, req.generationId) })),
    handler(LeaveGroup, (req) => ({ errorCode: g().leave(req.groupId, req.memberId) })),
    handler(OffsetCommit, async (req) => {
      let code = g().commitError(req.groupId, req.memberId, req.generationId);
      const known = (topic: string, p: number) => !!b.logs.get(topic)?.partitions[p];
      const entries = req.topics.flatMap((t) =>
        t.partitions.filter((p) => known(t.name, p.index)).map((p) => ({ topic: t.name, partition: p.index, offset: p.offset, metadata: p.metadata })),
      );
      if (code === ErrorCode.NONE && entries.length > 0) await g().commitOffsets(req.groupId, entries);
      return {
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            index: p.index,
            errorCode: code !== ErrorCode.NONE ? code : known(t.name, p.index) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          })),
        })),
      };
    }),
    handler(OffsetFetch, (req) => {
      const store = g().offsets;
      let topics: OffsetFetchResponse["topics"];
      if (req.topics === null) {
        const byTopic = new Map<string, OffsetFetchResponse["topics"][number]>();
        for (const e of store.all(req.groupId)) {
          const t = byTopic.get(e.topic) ?? { name: e.topic, partitions: [] };
          t.partitions.push({ index: e.partition, offset: e.offset, metadata: e.metadata, errorCode: ErrorCode.NONE });
          byTopic.set(e.topic, t);
        }
        topics = [...byTopic.values()];
      } else {
        topics = req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((index) => {
            const c = store.get(req.groupId, t.name, index);
            return { index, offset: c?.offset ?? -1, metadata: c?.metadata ?? "", errorCode: ErrorCode.NONE };
          }),
        }));
      }
      return { errorCode: ErrorCode.NONE, topics };
    }),
    handler(DescribeGroups, (req) => ({ groups: req.groups.map((id) => g().describe(id)) })),
    handler(ListGroups, () => ({ errorCode: ErrorCode.NONE, groups: g().list() })),
    handler(DeleteGroups, async (req) => ({
      results: await Promise.all(req.groups.map(async (groupId) => ({ groupId, errorCode: await g().delete(groupId) }))),
    })),
  ];
}
