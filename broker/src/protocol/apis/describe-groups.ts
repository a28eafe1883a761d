import { defineApi, throttle } from "../api";

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
}

export const DescribeGroups = defineApi<{ groups: string[] }, { groups: DescribedGroup[] }>({
  key: 15,
  name: "DescribeGroups",
  minVersion: 0,
  maxVersion: 2,
  decode: (r) => ({ groups: r.array((r) => r.string()) }),
  encode(w, v, res) {
    throttle(w, v, 1);
    w.array(res.groups, (w, g) => {
      w.int16(g.errorCode).string(g.groupId).string(g.state).string(g.protocolType).string(g.protocol);
      w.array(g.members, (w, m) =>
        w.string(m.memberId).string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment),
      );
    });
  },
});
