import { canonicalExpression } from "@/lib/expr";
import { layoutPipeline } from "@/lib/pipeline/layout";
import type { AggregateFunction, PipelineInput, ProjectionField, WindowAggregate, WindowKey, WindowNodeConfigInput } from "@/lib/pipeline/nodes";
import { AGGREGATE_FUNCTIONS, ELSE_PORT, nodeId as nodeIdSchema, portName } from "@/lib/pipeline/nodes";
import { SqlError, parseStatements, spanOf, type SqlNode, type Span } from "./ast";
import { SQL_AGGREGATE, WINDOW_OPTIONS, durationOfInterval } from "./dialect";
import { castTarget, columnPath, functionName, sqlToCel, stringValue, type CelSegment } from "./sql-to-cel";

/**
 * Sluice SQL → pipeline graph (docs/sql.md). Every node remembers where in the
 * SQL it came from (a source map), so the validator's diagnostics, which name
 * a node and a path inside its config, can be shown at a line and column.
 */
export interface SqlLocation {
  span: Span;
  /** CEL text ranges of this config path and the SQL spans they came from. */
  segments?: CelSegment[];
}

export interface SqlSourceMap {
  /** node id → the SQL that made the node. */
  nodes: Record<string, Span>;
  /** node id → config path ("config.predicate", "config.fields[1].expr") → where it is in the SQL. */
  paths: Record<string, Record<string, SqlLocation>>;
}

export type FromSqlResult =
  | { ok: true; pipeline: PipelineInput; sourceMap: SqlSourceMap }
  | { ok: false; error: { message: string; span?: Span } };

interface Output {
  node: string;
  port: string;
}

const isStar = (c: SqlNode) => c.expr?.type === "column_ref" && (c.expr.column === "*" || c.expr.column?.expr?.value === "*");
const upper = (s: unknown) => String(s ?? "").toUpperCase();

class Builder {
  readonly nodes: PipelineInput["nodes"] = [];
  readonly edges: NonNullable<PipelineInput["edges"]> = [];
  readonly sourceMap: SqlSourceMap = { nodes: {}, paths: {} };
  private readonly views = new Map<string, Output>();
  private readonly sources = new Map<string, string>();
  private readonly splits = new Map<string, { id: string; ports: Set<string> }>();
  private readonly ids = new Set<string>();
  /** Ids made up rather than taken from a view name. */
  private readonly generated = new Set<string>();

  constructor(private readonly text: string) {}

  private fail(message: string, n?: SqlNode | Span | null): never {
    const span = n && "start" in n && typeof n.start === "number" ? (n as Span) : spanOf(n as SqlNode);
    throw new SqlError(message, span);
  }

  /** A node id: the preferred one (a view's name) when free and valid, else the type with a number. */
  private id(preferred: string): string {
    const clean = preferred.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 60) || "node";
    if (!this.ids.has(clean) && nodeIdSchema.safeParse(clean).success) {
      this.ids.add(clean);
      return clean;
    }
    for (let i = 2; ; i++) {
      const c = `${clean}_${i}`;
      if (!this.ids.has(c)) {
        this.ids.add(c);
        return c;
      }
    }
  }

  private add(node: Record<string, unknown> & { id: string }, span: Span | undefined, paths: Record<string, SqlLocation> = {}): string {
    this.nodes.push({ ...node, position: { x: 0, y: 0 } } as PipelineInput["nodes"][number]);
    if (span) this.sourceMap.nodes[node.id] = span;
    this.sourceMap.paths[node.id] = paths;
    return node.id;
  }

  private rename(from: string, to: string): void {
    this.ids.delete(from);
    this.ids.add(to);
    this.generated.delete(from);
    for (const n of this.nodes) if (n.id === from) n.id = to;
    for (const e of this.edges) {
      if (e.source === from) e.source = to;
      if (e.target === from) e.target = to;
    }
    for (const o of this.views.values()) if (o.node === from) o.node = to;
    if (this.sourceMap.nodes[from]) ((this.sourceMap.nodes[to] = this.sourceMap.nodes[from]), delete this.sourceMap.nodes[from]);
    if (this.sourceMap.paths[from]) ((this.sourceMap.paths[to] = this.sourceMap.paths[from]), delete this.sourceMap.paths[from]);
  }

  private connect(from: Output, to: string, targetPort = "in"): void {
    this.edges.push({ source: from.node, sourcePort: from.port, target: to, targetPort });
  }

  private cel(n: SqlNode): { cel: string; loc: SqlLocation } {
    const t = sqlToCel(n, this.text);
    const span = spanOf(n) ?? t.segments[t.segments.length - 1]?.span;
    return { cel: t.cel, loc: { span: span ?? { start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 }, segments: t.segments } };
  }

  statement(s: SqlNode): void {
    const type = upper(s.type);
    if (type === "CREATE" && upper(s.keyword) === "VIEW") {
      const name = String(s.view?.view ?? s.view?.table ?? "");
      if (!name) this.fail("CREATE VIEW needs a name", s);
      if (this.views.has(name)) this.fail(`view "${name}" is defined twice`, s.view);
      this.views.set(name, this.query(s.select, name));
      return;
    }
    if (type === "INSERT") {
      const table = (s.table ?? [])[0] as SqlNode | undefined;
      const stream = table ? tableName(table) : "";
      if (!stream) this.fail("INSERT INTO needs a stream name", s);
      if (s.columns?.length) this.fail("INSERT column lists are not supported: name the fields in the SELECT (… AS name)", s.columns[0]);
      const body = s.values?.type === "select" ? s.values : s.values?.ast ?? s.select;
      if (!body || upper(body.type) !== "SELECT") this.fail("INSERT INTO needs a query: INSERT INTO `stream` SELECT …", s);
      const input = this.query(body);
      const id = this.add({ id: this.id(lastSegment(stream)), type: "sink", config: { stream } }, spanOf(table) ?? spanOf(body), { "config.stream": { span: spanOf(table) ?? spanOf(body)! } });
      this.connect(input, id);
      return;
    }
    if (type === "SELECT") this.fail("a bare SELECT writes nowhere: write it into a stream with INSERT INTO `stream` SELECT …, or name it with CREATE VIEW name AS SELECT …", s);
    this.fail(`${type || "this"} statements are not part of Sluice SQL: use CREATE VIEW and INSERT INTO … SELECT`, s);
  }

  private cte(c: SqlNode): void {
    const name = String(c.name?.value ?? c.name ?? "");
    const body = c.stmt?.ast ?? c.stmt;
    if (this.views.has(name)) this.fail(`view "${name}" is defined twice (WITH names share one namespace with CREATE VIEW)`, c);
    this.views.set(name, this.query(body, name));
  }

  /** A query (a SELECT, possibly with UNION ALL branches): returns the output that carries its rows. */
  query(q: SqlNode, preferred?: string): Output {
    if (q._next) return this.union(q, preferred);
    return this.select(q, preferred);
  }

  private union(q: SqlNode, preferred?: string): Output {
    const branches: SqlNode[] = [];
    for (let b: SqlNode | undefined = q; b; b = b._next) {
      if (b._next && upper(b.set_op) !== "UNION ALL") {
        this.fail(upper(b.set_op) === "UNION" ? "use UNION ALL: a plain UNION removes duplicates, which an unbounded stream cannot do" : `${upper(b.set_op)} is not supported; only UNION ALL`, b._next);
      }
      branches.push({ ...b, _next: undefined, set_op: undefined });
    }
    // SELECT *, 'clicks' AS src FROM … in every branch: a Union that names each record's input.
    const tagOf = (b: SqlNode) => {
      const cols = (b.columns ?? []) as SqlNode[];
      if (cols.length !== 2 || !isStar(cols[0]) || !cols[1].as) return undefined;
      const v = stringValue(cols[1].expr);
      return v === undefined ? undefined : { field: String(cols[1].as), port: v };
    };
    const tags = branches.map(tagOf);
    const tagged = tags.every((t) => t && t.field === tags[0]!.field);
    const id = this.id(preferred ?? "union");
    const inputs = branches.map((b, i) => this.select(tagged ? { ...b, columns: [b.columns[0]] } : b, undefined, tagged ? tags[i]!.port : undefined));
    this.add({ id, type: "union", config: tagged ? { sourceField: tags[0]!.field } : {} }, spanOf(q));
    if (tagged) {
      for (const t of tags) if (!portName.safeParse(t!.port).success) this.fail(`'${t!.port}' cannot name a Union input: use letters, digits, '_' and '-', starting with a letter`, q);
    }
    inputs.forEach((o, i) => this.connect(o, id, tagged ? tags[i]!.port : "in"));
    return { node: id, port: "out" };
  }

  private relation(from: SqlNode): Output {
    if (from.expr?.ast) return this.query(from.expr.ast);
    if (from.expr?.type === "function") this.fail("a table function must be wrapped in TABLE(…): FROM TABLE(TUMBLE(…))", from.expr);
    const name = tableName(from);
    if (!name) this.fail("FROM needs a stream, a view or a subquery", from);
    const view = this.views.get(name);
    if (view) return view;
    let id = this.sources.get(name);
    if (!id) {
      id = this.add({ id: this.id(lastSegment(name)), type: "source", config: { stream: name } }, spanOf(from), { "config.stream": { span: spanOf(from)! } });
      this.sources.set(name, id);
    }
    return { node: id, port: "out" };
  }

  private select(q: SqlNode, preferred?: string, _tag?: string): Output {
    if (upper(q.type) !== "SELECT") this.fail("expected a SELECT", q);
    if (q.distinct?.type) this.fail("SELECT DISTINCT is not supported: an unbounded stream cannot remove duplicates (count them in a window instead)", q);
    if (q.having) this.fail("HAVING is not supported: filter the window's output in a SELECT over it", q.having);
    if (q.orderby?.length) this.fail("ORDER BY is not supported: a stream has no end to sort by", q.orderby[0].expr);
    if (q.limit?.value?.length) this.fail("LIMIT is not supported on a stream", q.limit);
    if (q.window) this.fail("named WINDOW clauses are not supported: use FROM TABLE(TUMBLE|HOP|SESSION(…))", q);
    if (q.with?.length) for (const c of q.with as SqlNode[]) this.cte(c);
    const from = (q.from ?? []) as SqlNode[];
    if (from.length === 0) this.fail("a SELECT needs FROM: a stream, a view or a subquery", q);
    if (from.length > 1) this.fail(from[1].join ? `${upper(from[1].join)} is not supported: Sluice pipelines do not join streams` : "several FROM items (a join) are not supported", from[1]);
    const f = from[0];
    const tvf = f.expr?.type === "function" && upper(functionName(f.expr)) === "TABLE" ? (f.expr.args?.value?.[0] as SqlNode | undefined) : undefined;
    if (tvf && ["TUMBLE", "HOP", "SESSION"].includes(upper(functionName(tvf)))) return this.window(q, tvf, preferred);
    if (q.groupby?.columns?.length) this.fail("GROUP BY needs a window: FROM TABLE(TUMBLE(input, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) … GROUP BY …, window_start, window_end", q.groupby.columns[0]);
    let out: Output;
    const columns = (q.columns ?? []) as SqlNode[];
    const passThrough = columns.length === 1 && isStar(columns[0]);
    const whereOnly = passThrough && q.where;
    if (tvf) out = this.udf(tvf, !q.where && passThrough ? preferred : undefined);
    // CREATE VIEW v AS SELECT * FROM (… UNION ALL …): the subquery's node is the view's.
    else if (f.expr?.ast && passThrough && !q.where) out = this.query(f.expr.ast, preferred);
    else out = this.relation(f);
    if (q.where) out = this.where(q.where, out, whereOnly ? preferred : undefined);
    if (!passThrough) out = this.projection(q, columns, out, preferred);
    return out;
  }

  private where(w: SqlNode, input: Output, preferred?: string): Output {
    const route = splitRoute(w);
    if (route) return this.splitPort(route, input, preferred);
    const { cel, loc } = this.cel(w);
    const id = this.add({ id: this.id(preferred ?? "filter"), type: "filter", config: { predicate: cel } }, spanOf(w), { "config.predicate": loc });
    this.connect(input, id);
    return { node: id, port: "out" };
  }

  private splitPort(route: SplitRoute, input: Output, preferred?: string): Output {
    const outputs = route.whens.map((w) => {
      const name = stringValue(w.result);
      if (name === undefined) this.fail("each WHEN of a routing CASE names an output: THEN 'name'", w.result);
      if (!portName.safeParse(name).success || name === ELSE_PORT) this.fail(`'${name}' cannot name a Split output: use letters, digits, '_' and '-', starting with a letter (and not 'else')`, w.result);
      return { name, cond: w.cond };
    });
    const conditions = outputs.map((o) => ({ name: o.name, ...this.cel(o.cond) }));
    let unmatched: "else" | "drop" = "drop";
    if (route.otherwise && route.mode === "first") {
      if (stringValue(route.otherwise.result) !== ELSE_PORT) this.fail("the ELSE of a routing CASE is the Split's else output: ELSE 'else' (or leave ELSE out to drop unmatched records)", route.otherwise.result ?? route.at);
      unmatched = "else";
    } else if (route.otherwise) {
      // All mode's else names 'else' exactly when no output's condition holds.
      const [when, otherwise] = route.otherwise.args as SqlNode[];
      const none = canonicalExpression(conditions.map((c) => `(${c.cel})`).join(" || "));
      if (stringValue(otherwise.result) !== ELSE_PORT || canonicalExpression(this.cel(when.cond).cel) !== none) {
        this.fail(`the last item names the else output when no output matched: CASE WHEN ${route.whens.length > 1 ? "c1 OR c2 …" : "c1"} THEN NULL ELSE 'else' END, with the outputs' conditions`, route.otherwise);
      }
      unmatched = "else";
    }
    const names = outputs.map((o) => o.name);
    if (new Set(names).size !== names.length) this.fail("two WHENs of a routing CASE name the same output", route.at);
    if (!names.includes(route.portValue) && !(unmatched === "else" && route.portValue === ELSE_PORT)) {
      this.fail(`'${route.portValue}' is not an output of this routing (${[...names, ...(unmatched === "else" ? [ELSE_PORT] : [])].join(", ")})`, route.port);
    }
    // Consumers of one Split repeat its routing: the same input and the same routing is the same Split.
    const splitKey = JSON.stringify([input.node, input.port, route.mode, unmatched, conditions.map((c) => [c.name, canonicalExpression(c.cel)])]);
    let split = this.splits.get(splitKey);
    const suffix = `_${route.portValue}`;
    const wanted = preferred?.endsWith(suffix) && preferred.length > suffix.length ? preferred.slice(0, -suffix.length) : undefined;
    // The Split was met first through another output (under a made-up id): a view named <split>_<output> names it.
    if (split && wanted !== undefined && this.generated.has(split.id) && !this.ids.has(wanted) && nodeIdSchema.safeParse(wanted).success) {
      this.rename(split.id, wanted);
      split.id = wanted;
    }
    if (!split) {
      // A view of one output is named <split>_<output> (how the SQL view writes it): the Split keeps <split>.
      const id = wanted !== undefined ? this.id(wanted) : this.id("split");
      if (wanted === undefined) this.generated.add(id);
      const paths: Record<string, SqlLocation> = {};
      conditions.forEach((c, i) => (paths[`config.outputs[${i}].condition`] = c.loc));
      this.add({ id, type: "split", config: { outputs: conditions.map((c) => ({ name: c.name, condition: c.cel })), mode: route.mode, unmatched } }, spanOf(route.at), paths);
      this.connect(input, id);
      split = { id, ports: new Set() };
      this.splits.set(splitKey, split);
    }
    return { node: split.id, port: route.portValue };
  }

  private projection(q: SqlNode, columns: SqlNode[], input: Output, preferred?: string): Output {
    const fields: ProjectionField[] = [];
    const paths: Record<string, SqlLocation> = {};
    let keepOthers = false;
    columns.forEach((c, i) => {
      if (isStar(c)) {
        if (i !== 0) this.fail("* must come first in the select list (SELECT *, x AS y)", c);
        keepOthers = true;
        return;
      }
      const e = c.expr as SqlNode;
      const idx = fields.length;
      let cast: ProjectionField["cast"];
      let inner = e;
      if (e.type === "cast" && !e.parentheses) {
        cast = castTarget(e);
        if (!cast) this.fail(`CAST to ${upper((e.target ?? [])[0]?.dataType)} is not supported: use VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP or JSON`, e);
        inner = e.expr;
      }
      const path = inner.type === "column_ref" && !inner.parentheses && !(inner.array_index?.length) ? columnPath(inner) : undefined;
      const name = c.as ? String(c.as) : path ? path[path.length - 1] : undefined;
      if (!name) this.fail("name this computed field: … AS name", c);
      const span = spanOf(c) ?? spanOf(e)!;
      if (path) {
        fields.push({ name, from: path.join("."), ...(cast ? { cast } : {}) });
        paths[`config.fields[${idx}].from`] = { span: spanOf(inner) ?? span };
      } else {
        const { cel, loc } = this.cel(inner);
        fields.push({ name, expr: cel, ...(cast ? { cast } : {}) });
        paths[`config.fields[${idx}].expr`] = loc;
      }
      paths[`config.fields[${idx}]`] = { span };
    });
    const id = this.add({ id: this.id(preferred ?? "projection"), type: "projection", config: { fields, keepOthers } }, spanOf(q), paths);
    this.connect(input, id);
    return { node: id, port: "out" };
  }

  private udf(call: SqlNode, preferred?: string): Output {
    const name = functionName(call);
    const args = (call.args?.value ?? []) as SqlNode[];
    if (args.length < 1 || args.length > 2) this.fail(`${name}(input[, version]): a registered function takes its input (a stream or view name) and optionally a version`, call);
    const input = this.namedInput(args[0], name);
    let version: number | undefined;
    if (args.length === 2) {
      version = Number(args[1].value);
      if (args[1].type !== "number" || !Number.isInteger(version) || version < 1) this.fail("the function version must be a positive whole number", args[1]);
    }
    const id = this.add({ id: this.id(preferred ?? name.toLowerCase()), type: "udf", config: { function: { name, ...(version !== undefined ? { version } : {}) } } }, spanOf(call), { "config.function": { span: spanOf(call)! }, "config.function.name": { span: spanOf(call)! } });
    this.connect(input, id);
    return { node: id, port: "out" };
  }

  /** The first argument of a table function: a stream or view, by name. */
  private namedInput(arg: SqlNode, fn: string): Output {
    const path = columnPath(arg);
    if (!path) this.fail(`the first argument of ${fn} is its input: a stream (in backquotes) or a view name; for a query, name it with CREATE VIEW first`, arg);
    return this.relation({ db: null, table: path.join("."), loc: arg.loc });
  }

  private window(q: SqlNode, tvf: SqlNode, preferred?: string): Output {
    const kind = upper(functionName(tvf));
    const args = (tvf.args?.value ?? []) as SqlNode[];
    const sizes = kind === "HOP" ? 2 : 1;
    if (args.length < 2 + sizes) this.fail(kind === "HOP" ? "HOP(input, DESCRIPTOR(ts), INTERVAL slide, INTERVAL size)" : `${kind}(input, DESCRIPTOR(ts), INTERVAL ${kind === "SESSION" ? "gap" : "size"})`, tvf);
    let input = this.namedInput(args[0], kind);
    const desc = args[1];
    if (desc.type !== "function" || upper(functionName(desc)) !== "DESCRIPTOR" || desc.args?.value?.length !== 1) this.fail("the second argument names the event-time field: DESCRIPTOR(ts), or DESCRIPTOR(PROCTIME()) for processing time", desc);
    const timeArg = desc.args.value[0] as SqlNode;
    let timeField: string | undefined;
    if (timeArg.type === "function" && upper(functionName(timeArg)) === "PROCTIME") timeField = undefined;
    else {
      const p = columnPath(timeArg);
      if (!p) this.fail("DESCRIPTOR takes a field: DESCRIPTOR(ts)", timeArg);
      timeField = p.join(".");
    }
    const duration = (n: SqlNode, what: string): string => {
      if (n?.type !== "interval") this.fail(`${what} is an INTERVAL: INTERVAL '1' MINUTE`, n ?? tvf);
      const d = durationOfInterval(stringValue(n.expr) ?? String(n.expr?.value ?? ""), String(n.unit));
      if ("error" in d) this.fail(d.error, n);
      return d.duration;
    };
    const window: WindowNodeConfigInput["window"] =
      kind === "TUMBLE" ? { kind: "tumbling", size: duration(args[2], "the window size") } : kind === "HOP" ? { kind: "hopping", slide: duration(args[2], "the slide"), size: duration(args[3], "the window size") } : { kind: "session", gap: duration(args[2], "the session gap") };
    const config: WindowNodeConfigInput = { window, ...(timeField !== undefined ? { timeField } : {}), keys: [], aggregates: [] };
    const paths: Record<string, SqlLocation> = { "config.window": { span: spanOf(tvf)! } };
    if (timeField !== undefined) paths["config.timeField"] = { span: spanOf(timeArg) ?? spanOf(desc)! };
    const seen = new Set<string>();
    for (const opt of args.slice(2 + sizes)) {
      const name = opt.type === "function" ? upper(functionName(opt)) : "";
      if (!(WINDOW_OPTIONS as readonly string[]).includes(name)) this.fail(`window options are WATERMARK(…), ALLOWED_LATENESS(…), IDLE_TIMEOUT(…) and EMIT_EARLY(…), each with an INTERVAL`, opt);
      if (seen.has(name)) this.fail(`${name} is given twice`, opt);
      seen.add(name);
      const d = duration(opt.args?.value?.[0], name);
      const span = spanOf(opt)!;
      if (name === "WATERMARK") ((config.maxOutOfOrderness = d), (paths["config.maxOutOfOrderness"] = { span }));
      else if (name === "ALLOWED_LATENESS") ((config.allowedLateness = d), (paths["config.allowedLateness"] = { span }));
      else if (name === "IDLE_TIMEOUT") ((config.idleTimeout = d), (paths["config.idleTimeout"] = { span }));
      else ((config.emit = { early: d }), (paths["config.emit"] = { span }));
    }
    if (q.where) input = this.where(q.where, input);
    const keys: WindowKey[] = [];
    const aggregates: WindowAggregate[] = [];
    for (const c of (q.columns ?? []) as SqlNode[]) {
      if (isStar(c)) this.fail("a window's select list names its keys, window_start, window_end and aggregates; * is not allowed", c);
      const e = c.expr as SqlNode;
      const span = spanOf(c) ?? spanOf(e)!;
      const bound = e.type === "column_ref" ? columnPath(e)?.join(".") : undefined;
      if (bound === "window_start" || bound === "window_end") {
        const name = c.as ? String(c.as) : bound;
        if (bound === "window_start") ((config.windowStartField = name), (paths["config.windowStartField"] = { span }));
        else ((config.windowEndField = name), (paths["config.windowEndField"] = { span }));
        continue;
      }
      if (e.type === "aggr_func" || (e.type === "function" && isAggregateName(functionName(e)))) {
        if (!c.as) this.fail("name the aggregate: COUNT(*) AS clicks", c);
        paths[`config.aggregates[${aggregates.length}]`] = { span };
        paths[`config.aggregates[${aggregates.length}].field`] = { span };
        aggregates.push(this.aggregate(e, String(c.as)));
        continue;
      }
      const { cel, loc } = this.cel(e);
      const path = e.type === "column_ref" ? columnPath(e) : undefined;
      const name = c.as ? String(c.as) : path ? path[path.length - 1] : undefined;
      if (!name) this.fail("name this key: … AS name", c);
      paths[`config.keys[${keys.length}].expr`] = loc;
      paths[`config.keys[${keys.length}]`] = { span };
      keys.push({ name, expr: cel });
    }
    // GROUP BY repeats the keys and names window_start, window_end (as in Flink).
    const groups = ((q.groupby?.columns ?? []) as SqlNode[]).filter((g) => {
      const p = g.type === "column_ref" ? columnPath(g)?.join(".") : undefined;
      return p !== "window_start" && p !== "window_end";
    });
    const groupCel = new Set(groups.map((g) => canonicalExpression(sqlToCel(g, this.text).cel)));
    for (const [i, k] of keys.entries()) {
      if (!groupCel.has(canonicalExpression(k.expr))) this.fail(`the key "${k.name}" must also be in GROUP BY`, paths[`config.keys[${i}]`].span);
    }
    if (groups.length !== keys.length) this.fail("GROUP BY names a key the select list does not have: select every key", groups[0] ?? q);
    config.keys = keys;
    config.aggregates = aggregates;
    const id = this.add({ id: this.id(preferred ?? "window"), type: "window", config }, spanOf(q), paths);
    this.connect(input, id);
    return { node: id, port: "out" };
  }

  private aggregate(e: SqlNode, name: string): WindowAggregate {
    const fnName = upper(e.type === "aggr_func" ? e.name : functionName(e));
    const argNodes = e.type === "aggr_func" ? [e.args?.expr].filter(Boolean) : ((e.args?.value ?? []) as SqlNode[]);
    const distinct = e.type === "aggr_func" && upper(e.args?.distinct) === "DISTINCT";
    const star = argNodes[0]?.type === "star" || (argNodes[0]?.type === "column_ref" && argNodes[0].column === "*");
    const fieldOf = (n: SqlNode | undefined) => {
      if (!n || star) return undefined;
      const p = columnPath(n);
      if (!p) this.fail(`aggregates take a field, not an expression: compute it in a SELECT before the window`, n);
      return p.join(".");
    };
    let fn: AggregateFunction | undefined;
    if (fnName === "COUNT") fn = distinct ? "count_distinct" : "count";
    else fn = (Object.entries(SQL_AGGREGATE).find(([k, v]) => v === fnName && k !== "count_distinct")?.[0] ?? AGGREGATE_FUNCTIONS.find((a) => a.toUpperCase() === fnName)) as AggregateFunction | undefined;
    if (!fn) this.fail(`${fnName} is not a window aggregate: use ${[...new Set(Object.values(SQL_AGGREGATE))].join(", ")}`, e);
    const field = fieldOf(argNodes[0]);
    if (fn !== "count" && field === undefined) this.fail(`${fnName} needs a field`, e);
    const agg: WindowAggregate = { name, fn, ...(field !== undefined ? { field } : {}) };
    if (fn === "top_k") {
      const k = argNodes[1];
      if (k?.type !== "number") this.fail("TOP_K(field, k) needs k, a whole number", e);
      agg.k = Number(k.value);
    }
    return agg;
  }
}

function isAggregateName(name: string): boolean {
  const u = name.toUpperCase();
  return Object.values(SQL_AGGREGATE).includes(u) || AGGREGATE_FUNCTIONS.some((a) => a.toUpperCase() === u);
}

interface SplitRoute {
  /** The node whose span stands for the Split (the CASE, or the IN list). */
  at: SqlNode;
  mode: "first" | "all";
  whens: { cond: SqlNode; result: SqlNode }[];
  /** ELSE 'else' (first mode), or the CASE that names 'else' when nothing matched (all mode). */
  otherwise?: SqlNode;
  port: SqlNode;
  portValue: string;
}

/**
 * The WHERE of one Split output:
 * - mode "first": `CASE WHEN c1 THEN 'a' WHEN c2 THEN 'b' [ELSE 'else'] END = 'a'` (the first match);
 * - mode "all": `'a' IN (CASE WHEN c1 THEN 'a' END, CASE WHEN c2 THEN 'b' END[, CASE WHEN c1 OR c2 THEN NULL ELSE 'else' END])`
 *   (every match: the output's own CASE names it or is NULL).
 */
function splitRoute(w: SqlNode): SplitRoute | undefined {
  if (w.type !== "binary_expr") return undefined;
  if (w.operator === "=") {
    const [c, p] = w.left?.type === "case" ? [w.left, w.right] : w.right?.type === "case" ? [w.right, w.left] : [undefined, undefined];
    if (!c || c.expr) return undefined;
    const portValue = stringValue(p);
    const args = (c.args ?? []) as SqlNode[];
    if (portValue === undefined || !args.every((a) => stringValue(a.result) !== undefined)) return undefined;
    return { at: c, mode: "first", whens: args.filter((a) => a.type === "when").map((a) => ({ cond: a.cond, result: a.result })), otherwise: args.find((a) => a.type === "else"), port: p, portValue };
  }
  if (upperOp(w.operator) === "IN" && w.right?.type === "expr_list") {
    const portValue = stringValue(w.left);
    const items = (w.right.value ?? []) as SqlNode[];
    if (portValue === undefined || !items.length || !items.every((c) => c.type === "case" && !c.expr)) return undefined;
    const last = items[items.length - 1];
    const lastArgs = (last.args ?? []) as SqlNode[];
    const hasElse = lastArgs.length === 2 && lastArgs[0].type === "when" && lastArgs[0].result?.type === "null" && lastArgs[1].type === "else";
    const outputs = hasElse ? items.slice(0, -1) : items;
    const whens: SplitRoute["whens"] = [];
    for (const c of outputs) {
      const args = (c.args ?? []) as SqlNode[];
      if (args.length !== 1 || args[0].type !== "when" || stringValue(args[0].result) === undefined) return undefined;
      whens.push({ cond: args[0].cond, result: args[0].result });
    }
    return { at: w.right, mode: "all", whens, otherwise: hasElse ? last : undefined, port: w.left, portValue };
  }
  return undefined;
}

const upperOp = (s: unknown) => String(s ?? "").toUpperCase();

function tableName(t: SqlNode): string {
  const parts = [t.db, t.schema, t.table].filter((x) => typeof x === "string" && x.length) as string[];
  // `ods.web.clicks` in quotes is one name; ods.web.clicks without them parses as db.schema.table: same stream.
  if (t.db && t.schema) return [t.db, t.schema, t.table].join(".");
  return parts.join(".");
}

function lastSegment(stream: string): string {
  const seg = stream.split(".").filter(Boolean);
  return seg[seg.length - 1] ?? stream;
}

/** Builds a pipeline from Sluice SQL; the first problem with the SQL itself comes back with its span. */
export function sqlToPipeline(text: string): FromSqlResult {
  const b = new Builder(text);
  try {
    const statements = parseStatements(text);
    if (!statements.length || (statements.length === 1 && !statements[0])) throw new SqlError("the SQL is empty: write INSERT INTO `stream` SELECT … FROM `stream`");
    for (const s of statements) b.statement(s);
  } catch (e) {
    if (e instanceof SqlError) return { ok: false, error: { message: e.message, span: e.span } };
    if (e instanceof RangeError) return { ok: false, error: { message: "the SQL is nested too deeply" } };
    // The parser's AST is loosely typed: a shape this module did not expect is a construct Sluice SQL lacks, not a crash.
    if (e instanceof TypeError) return { ok: false, error: { message: "this SQL uses a construct Sluice SQL does not have (see docs/sql.md for the dialect)" } };
    throw e;
  }
  const pipeline: PipelineInput = { version: 1, nodes: b.nodes, edges: b.edges };
  const positions = layoutPipeline(pipeline.nodes, pipeline.edges ?? []);
  for (const n of pipeline.nodes) n.position = positions[n.id];
  return { ok: true, pipeline, sourceMap: b.sourceMap };
}
