"use client";

import { LineageGraph, type LineageRoot } from "./lineage-graph";
import type { LineageView } from "./layout";

/** The lineage page's graph: keeps the chosen depth in the URL, so a link shows the same graph. */
export function LineageExplorer({ team, root, depth, initial }: { team: string; root: LineageRoot; depth: number; initial?: LineageView }) {
  return (
    <LineageGraph
      team={team}
      root={root}
      initialDepth={depth}
      initial={initial}
      height="70vh"
      onDepthChange={(d) => {
        // history.replaceState (which Next's router follows) instead of router.replace:
        // the graph already fetched the new depth, no server render is needed.
        const url = new URL(window.location.href);
        url.searchParams.set("depth", String(d));
        window.history.replaceState(null, "", url);
      }}
    />
  );
}
