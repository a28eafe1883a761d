/**
 * Data reconciliation (pure): does every record a pipeline read in a minute
 * leave it — written, filtered, dead-lettered or late — with none lost or
 * counted twice? Input: per node and minute counts (node_metrics) and the
 * pipeline's flow graph; output: a balance per minute with the node or edge
 * that does not add up and by how much.
 *
 * Two kinds of checks, which together cover every emission path:
 * - **Node**: a one-to-one node (Source, Filter, Projection, Union, Sink, a map
 *   or filter UDF, a first-match Split) accounts for each input record once:
 *   in = out + filtered + errored + late. Reshaping nodes (Window aggregates,
 *   flatMap UDFs, all-matches Splits) emit records unrelated in number to
 *   their input, so they have no such equation…
 * - **Edge**: …but what any node emits on a port must arrive at the nodes
 *   that port feeds: target.in = Σ upstream outputs on the connected ports
 *   (a Window's `late` port carries its late count). A Window's emissions on
 *   idle release, a UDF's extra rows or a repartition hop between stages are
 *   all checked here: emitted but not counted downstream, or the other way
 *   round, is a mismatch on the edge.
 * A pipeline run in stages (keyed scale-out, lib/compiler/stages.ts) is one
 * flow graph: in front of each Window the stage before counts a repartition
 * writer `<window>.repartition` (one-to-one, sink-like) and the Window's stage
 * a reader `<window>.input` (one-to-one, source-like); the edges into the
 * writer, and from the reader into the Window, are checked like any other.
 * The hop between them (writer → reader) crosses tasks and minutes — a
 * record written at 12:00:59.9 may be read at 12:01:00.1 — so it is a
 * `crossStage` edge, not checked per minute (docs/operations.md).
 */

export type FlowNodeKind = "one-to-one" | "reshaping";

export interface FlowNode {
  id: string;
  /** Pipeline node type (source, filter, …) or an internal stage node's type. */
  type: string;
  kind: FlowNodeKind;
  /** Reads from outside the graph (a Source, a stage-2 reader). */
  reads?: boolean;
  /** Writes outside the graph (a Sink, a stage-1 repartition writer). */
  writes?: boolean;
  /** A Split: its ports are not counted one by one, so its outgoing edges are not checked. */
  portsUncounted?: boolean;
}

export interface FlowEdge {
  source: string;
  sourcePort: string;
  target: string;
  /** The repartition hop between two stages: its two ends are counted by different tasks, in different minutes. */
  crossStage?: boolean;
}

export interface FlowGraph {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export interface Counts {
  in: number;
  out: number;
  filtered: number;
  errored: number;
  late: number;
}

export const LATE_PORT = "late";

/** The pipeline JSON as stored in a version (loosely typed: old versions stay readable). */
export interface StoredGraph {
  nodes?: { id: string; type: string; config?: Record<string, unknown> }[];
  edges?: { source: string; target: string; sourcePort?: string }[];
}

/**
 * The flow graph of a stored pipeline version. `udfForms` gives the form of
 * UDF nodes that reference the function registry (inline UDFs carry theirs);
 * a UDF of unknown form is treated as reshaping, which never raises a false
 * alarm but checks less.
 */
export function flowGraphOf(graph: StoredGraph, udfForms: ReadonlyMap<string, string> = new Map()): FlowGraph {
  const nodes: FlowNode[] = (graph.nodes ?? []).map((n) => {
    const cfg = n.config ?? {};
    switch (n.type) {
      case "source":
        return { id: n.id, type: n.type, kind: "one-to-one", reads: true };
      case "sink":
        return { id: n.id, type: n.type, kind: "one-to-one", writes: true };
      case "window":
        return { id: n.id, type: n.type, kind: "reshaping" };
      case "split":
        return { id: n.id, type: n.type, kind: cfg.mode === "all" ? "reshaping" : "one-to-one", portsUncounted: true };
      case "udf": {
        const fn = cfg.function as { inline?: { form?: string } } | undefined;
        const form = fn?.inline?.form ?? udfForms.get(n.id);
        return { id: n.id, type: n.type, kind: form === "map" || form === "filter" ? "one-to-one" : "reshaping" };
      }
      default:
        return { id: n.id, type: n.type, kind: "one-to-one" };
    }
  });
  const edges = (graph.edges ?? []).map((e) => ({ source: e.source, sourcePort: e.sourcePort ?? "out", target: e.target }));
  return { nodes, edges };
}

/** The node ids a stage cut adds in front of a Window (lib/compiler/stages.ts); user ids never contain a '.'. */
export const repartitionWriterId = (windowId: string) => `${windowId}.repartition`;
export const repartitionReaderId = (windowId: string) => `${windowId}.input`;

/**
 * The flow graph of a version run in stages: every Window whose writer or
 * reader appears in `counted` gets both, between its upstream nodes and it.
 * Counts decide rather than the deployment, so minutes from before and after
 * a redeploy that changed the cut are each checked as they were run.
 */
export function stagedFlowGraph(graph: FlowGraph, counted: ReadonlySet<string>): FlowGraph {
  const cut = graph.nodes.filter((n) => n.type === "window" && (counted.has(repartitionWriterId(n.id)) || counted.has(repartitionReaderId(n.id))));
  if (!cut.length) return graph;
  const nodes = [...graph.nodes];
  let edges = [...graph.edges];
  for (const w of cut) {
    const writer = repartitionWriterId(w.id);
    const reader = repartitionReaderId(w.id);
    nodes.push({ id: writer, type: "repartition-writer", kind: "one-to-one" }, { id: reader, type: "repartition-reader", kind: "one-to-one" });
    edges = edges.map((e) => (e.target === w.id ? { ...e, target: writer } : e));
    edges.push({ source: writer, sourcePort: "out", target: reader, crossStage: true }, { source: reader, sourcePort: "out", target: w.id });
  }
  return { nodes, edges };
}

export type ProblemKind = "node" | "edge";

export interface BalanceProblem {
  nodeId: string;
  kind: ProblemKind;
  /** Node: in; edge: what the upstream node(s) emitted towards this node. */
  expected: number;
  /** Node: out + filtered + errored + late; edge: this node's in. */
  actual: number;
  /** expected − actual: positive = records missing, negative = counted twice or from nowhere. */
  difference: number;
  version: number;
  message: string;
}

export type MinuteStatus = "balanced" | "mismatch" | "pending";

export interface MinuteBalance {
  /** Minute start, unix seconds. */
  t: number;
  status: MinuteStatus;
  versions: number[];
  /** Records read by sources (outside the graph in). */
  reads: number;
  /** Records written by sinks (outside the graph out). */
  written: number;
  filtered: number;
  /** Errored records: every one is a dead letter. */
  deadLettered: number;
  late: number;
  problems: BalanceProblem[];
}

const ZERO: Counts = { in: 0, out: 0, filtered: 0, errored: 0, late: 0 };

/** Checks one version's counts for one minute against its flow graph. */
export function checkMinute(graph: FlowGraph, counts: ReadonlyMap<string, Counts>, version: number): BalanceProblem[] {
  const problems: BalanceProblem[] = [];
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const c = (id: string) => counts.get(id) ?? ZERO;
  for (const n of graph.nodes) {
    const k = c(n.id);
    if (n.kind === "one-to-one") {
      const accounted = k.out + k.filtered + k.errored + k.late;
      if (accounted !== k.in) {
        const d = k.in - accounted;
        problems.push({
          nodeId: n.id, kind: "node", expected: k.in, actual: accounted, difference: d, version,
          message: d > 0
            ? `${d} record(s) into "${n.id}" were neither passed on, filtered, dead-lettered nor late`
            : `"${n.id}" accounted for ${-d} record(s) more than it received`,
        });
      }
    }
  }
  const incoming = new Map<string, FlowEdge[]>();
  for (const e of graph.edges) incoming.set(e.target, [...(incoming.get(e.target) ?? []), e]);
  for (const [target, edges] of incoming) {
    if (!byId.has(target)) continue;
    if (edges.some((e) => e.crossStage)) continue;
    if (edges.some((e) => byId.get(e.source)?.portsUncounted)) continue;
    let expected = 0;
    for (const e of edges) {
      const u = c(e.source);
      expected += e.sourcePort === LATE_PORT && byId.get(e.source)?.type === "window" ? u.late : u.out;
    }
    const actual = c(target).in;
    if (expected !== actual) {
      const d = expected - actual;
      const from = [...new Set(edges.map((e) => `"${e.source}"`))].join(" + ");
      problems.push({
        nodeId: target, kind: "edge", expected, actual, difference: d, version,
        message: d > 0 ? `${from} emitted ${d} record(s) that "${target}" did not count as input` : `"${target}" counted ${-d} input record(s) that ${from} did not emit`,
      });
    }
  }
  return problems;
}

export interface NodeMinuteCounts extends Counts {
  t: number;
  nodeId: string;
  version: number;
}

/**
 * Balances every minute of `rows` (per node, version and minute, summed over
 * tasks). `graphOf(version)` gives each version's flow graph; a minute whose
 * end is after `settledBefore` (unix seconds) — still open, or a task has not
 * flushed it yet — is "pending", never "mismatch".
 */
export function balanceMinutes(rows: readonly NodeMinuteCounts[], graphOf: (version: number) => FlowGraph | undefined, settledBefore: number): MinuteBalance[] {
  const byMinute = new Map<number, Map<number, Map<string, Counts>>>();
  for (const r of rows) {
    let versions = byMinute.get(r.t);
    if (!versions) byMinute.set(r.t, (versions = new Map()));
    let nodes = versions.get(r.version);
    if (!nodes) versions.set(r.version, (nodes = new Map()));
    const prev = nodes.get(r.nodeId) ?? ZERO;
    nodes.set(r.nodeId, { in: prev.in + r.in, out: prev.out + r.out, filtered: prev.filtered + r.filtered, errored: prev.errored + r.errored, late: prev.late + r.late });
  }
  const result: MinuteBalance[] = [];
  for (const t of [...byMinute.keys()].sort((a, b) => a - b)) {
    const versions = byMinute.get(t)!;
    const m: MinuteBalance = { t, status: "balanced", versions: [...versions.keys()].sort((a, b) => a - b), reads: 0, written: 0, filtered: 0, deadLettered: 0, late: 0, problems: [] };
    for (const [version, counts] of versions) {
      const base = graphOf(version);
      const graph = base ? stagedFlowGraph(base, new Set(counts.keys())) : graphFromCounts(counts);
      const kinds = new Map(graph.nodes.map((n) => [n.id, n]));
      for (const [id, k] of counts) {
        const n = kinds.get(id);
        if (n?.reads) m.reads += k.in;
        if (n?.writes) m.written += k.out;
        m.filtered += k.filtered;
        m.deadLettered += k.errored;
        m.late += k.late;
      }
      m.problems.push(...checkMinute(graph, counts, version));
    }
    m.status = t + 60 > settledBefore ? "pending" : m.problems.length ? "mismatch" : "balanced";
    result.push(m);
  }
  return result;
}

/**
 * Without the version's graph (rows written before versions were recorded) the
 * node kinds are unknown: nothing is checked rather than something guessed.
 */
function graphFromCounts(counts: ReadonlyMap<string, Counts>): FlowGraph {
  return { nodes: [...counts.keys()].map((id) => ({ id, type: "unknown", kind: "reshaping" as const })), edges: [] };
}

/** Totals over minutes, and the minutes that are not balanced, for summaries and alert rules. */
export function summarize(minutes: readonly MinuteBalance[]) {
  const settled = minutes.filter((m) => m.status !== "pending");
  return {
    minutes: minutes.length,
    balanced: settled.filter((m) => m.status === "balanced").length,
    mismatched: settled.filter((m) => m.status === "mismatch").length,
    pending: minutes.length - settled.length,
    reads: minutes.reduce((a, m) => a + m.reads, 0),
    written: minutes.reduce((a, m) => a + m.written, 0),
    filtered: minutes.reduce((a, m) => a + m.filtered, 0),
    deadLettered: minutes.reduce((a, m) => a + m.deadLettered, 0),
    late: minutes.reduce((a, m) => a + m.late, 0),
  };
}
