import { defineApi, throttle } from "../api";

export const ListGroups = defineApi<
  Record<string, never>,
  { errorCode: number; groups: { groupId: string; protocolType: string }[] }
>({
  key: 16,
  name: "ListGroups",
  minVersion: 0,
  maxVersion: 2,
  decode: () => ({}),
  encode(w, v, res) {
    throttle(w, v, 1);
    w.int16(res.errorCode);
    w.array(res.groups, (w, g) => w.string(g.groupId).string(g.protocolType));
  },
});
