import { defineApi } from "../api";

export const DeleteGroups = defineApi<{ groups: string[] }, { results: { groupId: string; errorCode: number }[] }>({
  key: 42,
  name: "DeleteGroups",
  minVersion: 0,
  maxVersion: 1,
  decode: (r) => ({ groups: r.array((r) => r.string()) }),
  encode(w, _v, res) {
    w.int32(0);
    w.array(res.results, (w, g) => w.string(g.groupId).int16(g.errorCode));
  },
});
