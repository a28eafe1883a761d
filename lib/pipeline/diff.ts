/**
 * What changed between two versions of a pipeline: nodes added, removed or
 * changed (with each changed config field, before → after) and edges added or
 * removed. Nodes are matched by id, as the canvas keeps ids stable across
 * saves. Positions are canvas-only (docs/pipeline-format.md), so moving a node
 * is not a change. Pure: used by the versions panel and usable by the CLI.
 */
import { formatPath } from "./diagnostics";

/** The loose shape both a saved version and the editor's unsaved document have. */
export interface DiffableDocument {
  nodes: readonly { id: string; type: string; config?: unknown; position?: unknown }[];
  edges?: readonly { source: string; sourcePort?: string; target: string; targetPort?: string }[];
}

export interface ConfigChange {
  /** Path inside the node: "type", "config.predicate", "config.fields[1].expr". */
  path: string;
  /** undefined when the field did not exist before (added) … */
  before: unknown;
  /** … or no longer exists after (removed). */
  after: unknown;
}

export interface NodeRef {
  id: string;
  type: string;
}

export interface ChangedNode extends NodeRef {
  /** The type before when a node id now holds a different operator. */
  typeBefore?: string;
  changes: ConfigChange[];
}

export interface EdgeRef {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export interface PipelineDiff {
  added: NodeRef[];
  removed: NodeRef[];
  changed: ChangedNode[];
  addedEdges: EdgeRef[];
  removedEdges: EdgeRef[];
}

export type NodeDiffKind = "added" | "removed" | "changed";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Leaf-level differences: objects compare key by key, arrays index by index
 * (a field inserted into a projection shows as changes from that index on,
 * which is what the user sees in the form too), anything else by value.
 */
function collectChanges(before: unknown, after: unknown, path: (string | number)[], out: ConfigChange[]): void {
  if (Object.is(before, after)) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) collectChanges(before[k], after[k], [...path, k], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) collectChanges(before[i], after[i], [...path, i], out);
    return;
  }
  out.push({ path: formatPath(path), before, after });
}

const edgeKey = (e: EdgeRef) => `${e.source}\u0000${e.sourcePort}\u0000${e.target}\u0000${e.targetPort}`;

function edgesOf(doc: DiffableDocument): Map<string, EdgeRef> {
  const edges = (doc.edges ?? []).map((e) => ({ source: e.source, sourcePort: e.sourcePort ?? "out", target: e.target, targetPort: e.targetPort ?? "in" }));
  return new Map(edges.map((e) => [edgeKey(e), e]));
}

export function diffPipelines(before: DiffableDocument, after: DiffableDocument): PipelineDiff {
  const was = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  const diff: PipelineDiff = { added: [], removed: [], changed: [], addedEdges: [], removedEdges: [] };
  for (const n of after.nodes) {
    const old = was.get(n.id);
    if (!old) {
      diff.added.push({ id: n.id, type: n.type });
      continue;
    }
    const changes: ConfigChange[] = [];
    if (old.type !== n.type) changes.push({ path: "type", before: old.type, after: n.type });
    collectChanges(old.config ?? {}, n.config ?? {}, ["config"], changes);
    if (changes.length) diff.changed.push({ id: n.id, type: n.type, ...(old.type !== n.type ? { typeBefore: old.type } : {}), changes });
  }
  for (const n of before.nodes) if (!now.has(n.id)) diff.removed.push({ id: n.id, type: n.type });
  const edgesBefore = edgesOf(before);
  const edgesAfter = edgesOf(after);
  for (const [k, e] of edgesAfter) if (!edgesBefore.has(k)) diff.addedEdges.push(e);
  for (const [k, e] of edgesBefore) if (!edgesAfter.has(k)) diff.removedEdges.push(e);
  return diff;
}

/** node id → how it differs, for highlighting nodes on the canvas. */
export function nodeDiffKinds(diff: PipelineDiff): Map<string, NodeDiffKind> {
  return new Map<string, NodeDiffKind>([
    ...diff.added.map((n) => [n.id, "added"] as const),
    ...diff.removed.map((n) => [n.id, "removed"] as const),
    ...diff.changed.map((n) => [n.id, "changed"] as const),
  ]);
}

export function isEmptyDiff(diff: PipelineDiff): boolean {
  return !diff.added.length && !diff.removed.length && !diff.changed.length && !diff.addedEdges.length && !diff.removedEdges.length;
}

/** A short human summary: "1 node added, 2 changed; 1 edge removed". */
export function summarizeDiff(diff: PipelineDiff): string {
  if (isEmptyDiff(diff)) return "No changes (positions are ignored)";
  const phrase = (noun: string, counts: [number, string][]) => {
    const parts = counts.filter(([n]) => n > 0);
    if (!parts.length) return [];
    const [[n, what], ...rest] = parts;
    return [[`${n} ${noun}${n === 1 ? "" : "s"} ${what}`, ...rest.map(([m, w]) => `${m} ${w}`)].join(", ")];
  };
  return [
    ...phrase("node", [[diff.added.length, "added"], [diff.removed.length, "removed"], [diff.changed.length, "changed"]]),
    ...phrase("edge", [[diff.addedEdges.length, "added"], [diff.removedEdges.length, "removed"]]),
  ].join("; ");
}

/** Renders a before/after value for the diff list: strings quoted, absent as "—". */
export function formatDiffValue(v: unknown): string {
  if (v === undefined) return "—";
  return JSON.stringify(v);
}

/**
 * The document to draw while diffing: every node of `after` plus the removed
 * nodes of `before` (drawn ghosted where they were), and every edge of both.
 */
export function mergedForDiff<D extends DiffableDocument>(before: D, after: D): D {
  const ids = new Set(after.nodes.map((n) => n.id));
  const edges = edgesOf(after);
  for (const [k, e] of edgesOf(before)) if (!edges.has(k)) edges.set(k, e);
  return { ...after, nodes: [...after.nodes, ...before.nodes.filter((n) => !ids.has(n.id))], edges: [...edges.values()] };
}
