import type { Pipeline, PipelineEdge, PipelineNode, NodeOfType, WindowAggregate } from "@/lib/pipeline/nodes";
import { DEFAULT_OUTPUT_PORT, ELSE_PORT, UDF_LIMITS } from "@/lib/pipeline/nodes";
import { celToSql, celToSqlOperand } from "./cel-to-sql";
import { SQL_AGGREGATE, SQL_TYPE_OF_CAST, sqlIdentifier, sqlInterval, sqlStreamName, sqlString } from "./dialect";
import { CAST_OF_CEL_CONVERSION } from "./dialect";
import { parseExpression } from "@/lib/expr";

/**
 * Pipeline graph → Sluice SQL (docs/sql.md). Exact or nothing: a node SQL
 * cannot say exactly (a Split in "all" mode, a Projection that drops or
 * flattens, an inline JavaScript UDF, a macro in an expression…) is reported
 * by id with the reason, and no SQL is produced, so the SQL view never shows
 * something that would build a different pipeline.
 */
export interface SqlProblem {
  nodeId?: string;
  message: string;
}

export type ToSqlResult = { ok: true; sql: string } | { ok: false; problems: SqlProblem[] };

export interface Output {
  node: string;
  port: string;
}

export class NotExpressible extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
  ) {
    super(message);
  }
}

/** Subquery nesting at which a chain of inlined nodes gets a view. */
const MAX_INLINE_DEPTH = 6;

export const outputKey = (o: Output) => `${o.node}\u0000${o.port}`;
export const indent = (text: string) => text.replace(/\n/g, "\n  ");

export class Generator {
  protected readonly nodes = new Map<string, PipelineNode>();
  protected readonly incoming = new Map<string, PipelineEdge[]>();
  protected readonly consumers = new Map<string, PipelineEdge[]>();
  /** Outputs written as CREATE VIEW (shared, or a window's/UDF's/Split's input), with their view names. */
  protected readonly views = new Map<string, string>();
  protected readonly problems: SqlProblem[] = [];

  constructor(protected readonly pipeline: Pipeline) {
    for (const n of pipeline.nodes) this.nodes.set(n.id, n);
    for (const e of pipeline.edges) {
      this.incoming.set(e.target, [...(this.incoming.get(e.target) ?? []), e]);
      const k = outputKey({ node: e.source, port: e.sourcePort });
      this.consumers.set(k, [...(this.consumers.get(k) ?? []), e]);
    }
  }

  protected fail(nodeId: string, message: string): never {
    throw new NotExpressible(nodeId, message);
  }

  protected input(n: PipelineNode): Output {
    const ins = this.incoming.get(n.id) ?? [];
    if (ins.length !== 1) this.fail(n.id, ins.length === 0 ? "it has no input yet: connect one, and the SQL view shows it" : "it has more than one input");
    return { node: ins[0].source, port: ins[0].sourcePort };
  }

  protected consumerCount(o: Output): number {
    return this.consumers.get(outputKey(o))?.length ?? 0;
  }

  protected node(id: string): PipelineNode {
    const n = this.nodes.get(id);
    if (!n) this.fail(id, `an edge names node "${id}", which does not exist`);
    return n;
  }

  /** A node's output that must have a name (the first argument of a window or UDF table function, a Split's input). */
  protected needsName(o: Output): void {
    const n = this.node(o.node);
    if (n.type === "source") return;
    if (!this.views.has(outputKey(o))) this.views.set(outputKey(o), this.viewName(o));
  }

  protected viewName(o: Output): string {
    return o.port === DEFAULT_OUTPUT_PORT ? o.node : `${o.node}_${o.port}`;
  }

  /** Decides which outputs become views, before any text is written. */
  plan(): void {
    const order = this.topological();
    // How many subqueries deep a node's inlined SQL would be: long chains are cut into views, so the
    // text stays readable and the parser's recursion stays shallow (a 500-Filter chain reads back).
    const depth = new Map<string, number>();
    for (const id of order) {
      const n = this.node(id);
      if (n.type === "sink" || n.type === "source") continue;
      const d = 1 + Math.max(0, ...(this.incoming.get(id) ?? []).map((e) => (this.views.has(outputKey({ node: e.source, port: e.sourcePort })) ? 0 : (depth.get(e.source) ?? 0))));
      depth.set(id, d);
      if (d >= MAX_INLINE_DEPTH && n.type !== "split") {
        this.views.set(outputKey({ node: id, port: DEFAULT_OUTPUT_PORT }), this.viewName({ node: id, port: DEFAULT_OUTPUT_PORT }));
        depth.set(id, 0);
      }
    }
    for (const id of order) {
      const n = this.node(id);
      if (n.type === "sink" || n.type === "source") continue;
      const ports = n.type === "split" ? [...n.config.outputs.map((o) => o.name), ...(n.config.unmatched === "else" ? [ELSE_PORT] : [])] : [DEFAULT_OUTPUT_PORT];
      for (const port of ports) {
        const o = { node: id, port };
        // Fanned-out outputs, and outputs nobody reads yet (a graph being built), are views.
        if (this.consumerCount(o) !== 1) this.views.set(outputKey(o), this.viewName(o));
      }
      if (n.type === "window" || n.type === "udf" || n.type === "split") this.needsName(this.input(n));
    }
  }

  protected topological(): string[] {
    const indeg = new Map<string, number>();
    for (const n of this.pipeline.nodes) indeg.set(n.id, 0);
    for (const e of this.pipeline.edges) {
      this.node(e.source);
      this.node(e.target);
      indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
    }
    const ready = this.pipeline.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
    const out: string[] = [];
    while (ready.length) {
      const id = ready.shift()!;
      out.push(id);
      for (const e of this.pipeline.edges.filter((x) => x.source === id)) {
        indeg.set(e.target, indeg.get(e.target)! - 1);
        if (indeg.get(e.target) === 0) ready.push(e.target);
      }
    }
    if (out.length !== this.pipeline.nodes.length) {
      const on = this.pipeline.nodes.find((n) => !out.includes(n.id))!;
      this.fail(on.id, "it is on a cycle; SQL describes acyclic pipelines only");
    }
    return out;
  }

  protected expr(nodeId: string, cel: string, what: string): string {
    const r = celToSql(cel);
    if (!r.ok) this.fail(nodeId, `its ${what} ${JSON.stringify(cel)} has no SQL form: ${r.reason}`);
    return r.sql;
  }

  /** A relation to read from: a stream, a view, or a parenthesised subquery. */
  protected rel(o: Output): string {
    const n = this.node(o.node);
    if (n.type === "source") return sqlStreamName(n.config.stream);
    const view = this.views.get(outputKey(o));
    if (view !== undefined) return this.ident(this.ensureView(o));
    return `(\n  ${indent(this.query(o))}\n)`;
  }

  /** A relation that must be a name (stream or view). */
  protected named(o: Output): string {
    const n = this.node(o.node);
    if (n.type === "source") return sqlStreamName(n.config.stream);
    return this.ident(this.ensureView(o));
  }

  protected readonly statements: string[] = [];
  protected readonly written = new Set<string>();

  /**
   * Writes a view's CREATE VIEW the first time it is read, after the views it
   * reads: statements then come in an order that depends only on the SQL's
   * own structure, so SQL → graph → SQL gives the same text.
   */
  protected ensureView(o: Output): string {
    const name = this.views.get(outputKey(o))!;
    if (!this.written.has(outputKey(o))) {
      this.written.add(outputKey(o));
      // The grammar takes no UNION directly in CREATE VIEW: a union view selects from it as a subquery.
      const body = this.node(o.node).type === "union" ? `SELECT * FROM (\n  ${indent(this.query(o))}\n)` : this.query(o);
      this.statements.push(this.viewStatement(name, body));
    }
    return name;
  }

  protected inlined(o: Output): boolean {
    return this.node(o.node).type !== "source" && !this.views.has(outputKey(o));
  }

  /** The WHERE text and FROM relation that produce `o` when it is a Filter or a Split port, for merging into a SELECT. */
  protected selection(o: Output): { from: string; where?: string } {
    const n = this.node(o.node);
    if (this.inlined(o) && n.type === "filter") {
      return { from: this.rel(this.input(n)), where: this.expr(n.id, n.config.predicate, "predicate") };
    }
    if (this.inlined(o) && n.type === "split") return { from: this.named(this.input(n)), where: this.route(n, o.port) };
    return { from: this.rel(o) };
  }

  protected route(n: NodeOfType<"split">, port: string): string {
    const c = n.config;
    if (c.mode === "all") {
      // Every match: each output's own CASE names it (or is NULL), and the port is IN that list.
      const conds = c.outputs.map((out) => this.expr(n.id, out.condition, `condition of output "${out.name}"`));
      const items = c.outputs.map((out, i) => `CASE WHEN ${conds[i]} THEN ${sqlString(out.name)} END`);
      if (c.unmatched === "else") items.push(`CASE WHEN ${conds.map((x) => `(${x})`).join(" OR ")} THEN NULL ELSE ${sqlString(ELSE_PORT)} END`);
      return `${sqlString(port)} IN (${items.join(", ")})`;
    }
    const whens = c.outputs.map((out) => `WHEN ${this.expr(n.id, out.condition, `condition of output "${out.name}"`)} THEN ${sqlString(out.name)}`);
    const otherwise = c.unmatched === "else" ? ` ELSE ${sqlString(ELSE_PORT)}` : "";
    return `CASE ${whens.join(" ")}${otherwise} END = ${sqlString(port)}`;
  }

  /** A field, view or alias name as SQL. */
  protected ident(name: string): string {
    return sqlIdentifier(name);
  }

  /** A computed field's SQL, and whether it is a primary (needs no parentheses around it). */
  protected operand(nodeId: string, cel: string): { ok: true; sql: string; primary: boolean } | { ok: false; reason: string } {
    void nodeId;
    return celToSqlOperand(cel);
  }

  /** SQL type of a projection cast. */
  protected castType(target: keyof typeof SQL_TYPE_OF_CAST): string {
    return SQL_TYPE_OF_CAST[target];
  }

  protected viewStatement(name: string, body: string): string {
    return `CREATE VIEW ${this.ident(name)} AS\n${body};`;
  }

  protected insertStatement(sink: NodeOfType<"sink">, input: Output): string {
    const body = this.inlined(input) ? this.query(input) : `SELECT * FROM ${this.rel(input)}`;
    return `INSERT INTO ${sqlStreamName(sink.config.stream)}\n${body};`;
  }

  /** A query producing output `o`. */
  query(o: Output): string {
    const n = this.node(o.node);
    switch (n.type) {
      case "source":
        return `SELECT * FROM ${sqlStreamName(n.config.stream)}`;
      case "filter":
        return `SELECT * FROM ${this.rel(this.input(n))}\nWHERE ${this.expr(n.id, n.config.predicate, "predicate")}`;
      case "split":
        return `SELECT * FROM ${this.named(this.input(n))}\nWHERE ${this.route(n, o.port)}`;
      case "projection": {
        const sel = this.selection(this.input(n));
        return `SELECT ${this.projectionList(n)}\nFROM ${sel.from}${sel.where ? `\nWHERE ${sel.where}` : ""}`;
      }
      case "union":
        return this.union(n);
      case "window":
        return this.window(n, o);
      case "udf":
        return this.udf(n);
      case "sink":
        return this.fail(n.id, "a Sink has no output");
    }
  }

  protected projectionList(n: NodeOfType<"projection">): string {
    const c = n.config;
    if (c.flatten.length) this.fail(n.id, `flattening (${c.flatten.map((f) => f.field).join(", ")}) has no SQL form; name the leaves instead, e.g. geo.city AS geo_city`);
    if (c.keepOthers && c.drop.length) this.fail(n.id, `dropping fields (${c.drop.join(", ")}) from "keep others" has no SQL form; list the fields to keep instead`);
    if (!c.fields.length) this.fail(n.id, c.keepOthers ? "it passes every field through unchanged, which SQL writes as no operator at all" : "it outputs no fields");
    const items = c.fields.map((f) => {
      const alias = ` AS ${this.ident(f.name)}`;
      if (f.from !== undefined) {
        const path = f.from.split(".").map((x) => this.ident(x)).join(".");
        if (f.cast) return `CAST(${path} AS ${this.castType(f.cast)})${alias}`;
        return f.from === f.name ? path : `${path}${alias}`;
      }
      const r = this.operand(n.id, f.expr!);
      if (!r.ok) this.fail(n.id, `its field "${f.name}" ${JSON.stringify(f.expr)} has no SQL form: ${r.reason}`);
      // A computed field that reads like a copy (a bare path) or like a cast (a CEL conversion) is parenthesised,
      // which is how the parser tells `(a) AS x` (compute) from `a AS x` (copy) and `(CAST(a AS BIGINT))` from a cast.
      const parenthesise = isPath(f.expr!) || isConversion(f.expr!);
      const text = parenthesise ? `(${r.sql})` : r.sql;
      if (f.cast) return `CAST(${text} AS ${this.castType(f.cast)})${alias}`;
      return `${text}${alias}`;
    });
    return [...(c.keepOthers ? ["*"] : []), ...items].join(", ");
  }

  protected union(n: NodeOfType<"union">): string {
    const ins = this.incoming.get(n.id) ?? [];
    if (ins.length < 2) this.fail(n.id, "a Union needs two or more inputs");
    const field = n.config.sourceField;
    const branches = ins.map((e) => {
      const o = { node: e.source, port: e.sourcePort };
      if (field !== undefined) return `SELECT *, ${sqlString(e.targetPort)} AS ${this.ident(field)} FROM ${this.rel(o)}`;
      const src = this.node(o.node);
      // A union branch inlines its producer's SELECT; a nested union stays a subquery.
      if (!this.inlined(o) || src.type === "union") return `SELECT * FROM ${this.rel(o)}`;
      return this.query(o);
    });
    if (field !== undefined && new Set(ins.map((e) => e.targetPort)).size !== ins.length) {
      this.fail(n.id, `its inputs share port names, so "${field}" cannot tell them apart`);
    }
    return branches.join("\nUNION ALL\n");
  }

  protected window(n: NodeOfType<"window">, o: Output): string {
    if (o.port !== DEFAULT_OUTPUT_PORT) this.fail(n.id, "its late output has no SQL form (SQL has no side outputs)");
    const c = n.config;
    const time = c.timeField === undefined ? "PROCTIME()" : c.timeField.split(".").map((x) => this.ident(x)).join(".");
    const w = c.window;
    const args = [this.named(this.input(n)), `DESCRIPTOR(${time})`];
    if (w.kind === "tumbling") args.push(sqlInterval(w.size));
    else if (w.kind === "hopping") args.push(sqlInterval(w.slide), sqlInterval(w.size));
    else args.push(sqlInterval(w.gap));
    if (c.maxOutOfOrderness !== "0s") args.push(`WATERMARK(${sqlInterval(c.maxOutOfOrderness)})`);
    if (c.allowedLateness !== "0s") args.push(`ALLOWED_LATENESS(${sqlInterval(c.allowedLateness)})`);
    if (c.idleTimeout !== undefined) args.push(`IDLE_TIMEOUT(${sqlInterval(c.idleTimeout)})`);
    if (c.emit !== "on_close") args.push(`EMIT_EARLY(${sqlInterval(c.emit.early)})`);
    const fn = w.kind === "tumbling" ? "TUMBLE" : w.kind === "hopping" ? "HOP" : "SESSION";
    const keys = c.keys.map((k) => {
      const text = this.expr(n.id, k.expr, `key "${k.name}"`);
      return { select: isPath(k.expr) && k.expr === k.name ? text : `${text} AS ${this.ident(k.name)}`, group: text };
    });
    const bound = (col: string, name: string) => (name === col ? col : `${col} AS ${this.ident(name)}`);
    const select = [
      ...keys.map((k) => k.select),
      bound("window_start", c.windowStartField),
      bound("window_end", c.windowEndField),
      ...c.aggregates.map((a) => `${aggregate(a, (x) => this.ident(x))} AS ${this.ident(a.name)}`),
    ];
    return `SELECT ${select.join(", ")}\nFROM TABLE(${fn}(${args.join(", ")}))\nGROUP BY ${[...keys.map((k) => k.group), "window_start", "window_end"].join(", ")}`;
  }

  protected udf(n: NodeOfType<"udf">): string {
    const c = n.config;
    const fn = c.function;
    if ("inline" in fn) this.fail(n.id, "an inline JavaScript function has no SQL form; register it as a function (Functions page or API) and call it by name");
    if (c.outputSchema) this.fail(n.id, "a declared output schema has no SQL form");
    if (c.timeoutMs !== UDF_LIMITS.timeoutMs.default || c.memoryMb !== UDF_LIMITS.memoryMb.default) {
      this.fail(n.id, `non-default limits (timeoutMs ${c.timeoutMs}, memoryMb ${c.memoryMb}) have no SQL form`);
    }
    const args = [this.named(this.input(n)), ...(fn.version !== undefined ? [String(fn.version)] : [])];
    return `SELECT * FROM TABLE(${fn.name}(${args.join(", ")}))`;
  }

  run(): ToSqlResult {
    try {
      this.plan();
      const order = this.topological();
      for (const n of this.pipeline.nodes) {
        if (n.type !== "sink") continue;
        const input = this.input(n);
        this.statements.push(this.insertStatement(n, input));
      }
      // Views nobody reads yet (a graph being built) come last.
      for (const id of order) {
        const n = this.node(id);
        const ports = n.type === "split" ? [...n.config.outputs.map((x) => x.name), ...(n.config.unmatched === "else" ? [ELSE_PORT] : [])] : [DEFAULT_OUTPUT_PORT];
        for (const port of ports) if (this.views.has(outputKey({ node: id, port }))) this.ensureView({ node: id, port });
      }
    } catch (e) {
      if (e instanceof NotExpressible) this.problems.push({ nodeId: e.nodeId, message: `Node "${e.nodeId}" cannot be shown as SQL: ${e.message}.` });
      else throw e;
    }
    if (this.problems.length) return { ok: false, problems: this.problems };
    return { ok: true, sql: this.finish(this.statements) };
  }

  protected finish(statements: string[]): string {
    return statements.join("\n\n") + "\n";
  }
}

export function aggregate(a: WindowAggregate, ident: (name: string) => string = sqlIdentifier): string {
  const field = a.field?.split(".").map(ident).join(".");
  switch (a.fn) {
    case "count":
      return field === undefined ? "COUNT(*)" : `COUNT(${field})`;
    case "count_distinct":
      return `COUNT(DISTINCT ${field ?? "*"})`;
    case "top_k":
      return `TOP_K(${field ?? "*"}, ${a.k ?? 0})`;
    default:
      return `${SQL_AGGREGATE[a.fn]}(${field ?? "*"})`;
  }
}

export function isPath(cel: string): boolean {
  return /^\s*[A-Za-z_][A-Za-z0-9_]*(\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*\s*$/.test(cel);
}

export function isConversion(cel: string): boolean {
  const p = parseExpression(cel);
  if (!p.ok) return false;
  const k = p.parsed.expr.exprKind;
  return k.case === "callExpr" && CAST_OF_CEL_CONVERSION.has(k.value.function) && (k.value.args.length + (k.value.target ? 1 : 0)) === 1;
}

/** The pipeline as Sluice SQL, or the nodes SQL cannot express exactly and why. */
export function pipelineToSql(pipeline: Pipeline): ToSqlResult {
  return new Generator(pipeline).run();
}
