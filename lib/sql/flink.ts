import { unparse } from "@bufbuild/cel";
import { compileExpression, type CelType } from "@/lib/expr";
import type { Pipeline, NodeOfType } from "@/lib/pipeline/nodes";
import { DEFAULT_OUTPUT_PORT } from "@/lib/pipeline/nodes";
import type { FieldType, StreamSchema } from "@/lib/pipeline/schema";
import { isListType, isStructType } from "@/lib/pipeline/schema";
import { CelSqlWriter, SQL_PRECEDENCE as P, wrap, writeCel, type Expr, type Out, type Parsed } from "./cel-to-sql";
import { SQL_NAME_OF_CEL, SQL_TYPE_OF_CAST, sqlInterval, sqlStreamName, sqlString } from "./dialect";
import { Generator, aggregate, indent, outputKey, type Output, type SqlProblem } from "./to-sql";

/**
 * Export to Flink SQL (docs/sql.md, "Export to Flink SQL"): CREATE TABLE
 * statements with the Kafka connector for every stream the pipeline reads or
 * writes, temporary views, and the INSERTs in one statement set, ready for the
 * Flink SQL client. Same graph walk as the Sluice SQL view; what differs is
 * Flink's spelling (TABLE arguments, time attributes, function names) and what
 * cannot carry over, which comes back as problems (the export refuses) or
 * warnings (written as comments at the top).
 */
export interface FlinkStream {
  schema: StreamSchema;
  topic: string;
}

export interface FlinkExportContext {
  /** The catalog: every stream the pipeline reads or writes that exists. */
  streams: (name: string) => FlinkStream | undefined;
  /** Output schema of every node (validatePipeline's `schemas`). */
  schemas: Record<string, StreamSchema>;
  /** Kafka bootstrap servers the Flink job should read and write. */
  bootstrapServers: string;
  /** Names the Flink consumer group: sluice-flink-<pipeline>. */
  pipelineName: string;
}

export type FlinkExportResult = { ok: true; sql: string; warnings: string[] } | { ok: false; problems: SqlProblem[] };

const quote = (name: string) => "`" + name.replace(/`/g, "``") + "`";

/** Flink's column type for a Sluice field type (timestamps are epoch-ms numbers in Sluice's JSON). */
export function flinkType(t: FieldType): string {
  if (typeof t === "string") {
    switch (t) {
      case "string":
        return "STRING";
      case "int":
        return "BIGINT";
      case "float":
        return "DOUBLE";
      case "bool":
        return "BOOLEAN";
      case "timestamp":
        return "BIGINT";
      case "json":
        return "STRING";
    }
  }
  if (isListType(t)) return `ARRAY<${flinkType(t.list)}>`;
  if (isStructType(t)) return `ROW<${t.struct.map((f) => `${quote(f.name)} ${flinkType(f.type)}`).join(", ")}>`;
  return "STRING";
}

const FLINK_CAST: Record<keyof typeof SQL_TYPE_OF_CAST, string> = { string: "STRING", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN", timestamp: "BIGINT", json: "STRING" };

/** Sluice CEL functions Flink spells differently, or has no equivalent for (then the export refuses, naming the node). */
const FLINK_FUNCTION: Record<string, string> = (() => {
  // Sluice SQL's standard names are Flink's too, except these two (Flink has no CONTAINS or SIZE).
  const { contains: _contains, size: _size, ...same } = SQL_NAME_OF_CEL;
  void _contains;
  void _size;
  return { ...same, toJson: "JSON_STRING" };
})();

class FlinkCelWriter extends CelSqlWriter {
  constructor(
    parsed: Parsed,
    private readonly schema: StreamSchema,
  ) {
    super(parsed);
  }

  protected ident(name: string): string {
    return quote(name);
  }

  /** The static type of a subexpression, from Sluice's own checker against the node's input. */
  private typeOf(e: Expr): CelType {
    const text = unparse({ ...this.parsed, expr: e } as Parsed);
    const r = compileExpression(text, this.schema);
    return r.ok ? r.expr.type : "dyn";
  }

  protected plus(a: Expr, b: Expr): Out {
    const ta = this.typeOf(a);
    if (ta === "string") return { text: `${wrap(this.expr(a), P.add)} || ${wrap(this.expr(b), P.add + 1)}`, prec: P.add };
    if (ta === "timestamp" || ta === "duration") this.fail("timestamp and duration arithmetic has no Flink SQL form in this export; compute with epoch milliseconds (ts + 60000)");
    return super.plus(a, b);
  }

  /** `e + k` as text, folded when e is an integer literal (Flink counts from 1 where Sluice counts from 0). */
  private shifted(e: Expr, k: number): string {
    const c = e.exprKind;
    if (c.case === "constExpr" && c.value.constantKind.case === "int64Value") return String(Number(c.value.constantKind.value) + k);
    return `${wrap(this.expr(e), P.add)} + ${k}`;
  }

  protected index(base: string, index: Expr): Out {
    // Sluice lists count from 0, Flink arrays from 1; map keys stay as they are.
    if (this.typeOf(index) === "string") return super.index(base, index);
    return { text: `${base}[${this.shifted(index, 1)}]`, prec: P.primary };
  }

  protected func(fn: string, all: Expr[]): Out {
    const arg = (i: number) => this.expr(all[i]).text;
    switch (fn) {
      case "isNull":
        return super.func(fn, all);
      case "int":
      case "double":
      case "string":
      case "bool": {
        if (this.typeOf(all[0]) === "timestamp" || this.typeOf(all[0]) === "duration") break;
        const t = { int: "BIGINT", double: "DOUBLE", string: "STRING", bool: "BOOLEAN" }[fn];
        return { text: `CAST(${arg(0)} AS ${t})`, prec: P.primary };
      }
      case "size": {
        const t = this.typeOf(all[0]);
        return { text: `${t === "string" ? "CHAR_LENGTH" : "CARDINALITY"}(${arg(0)})`, prec: P.primary };
      }
      case "contains":
        return { text: `POSITION(${arg(1)} IN ${arg(0)}) > 0`, prec: P.cmp };
      case "indexOf":
        return { text: `POSITION(${arg(1)} IN ${arg(0)}) - 1`, prec: P.add };
      case "substring": {
        if (all.length === 2) return { text: `SUBSTRING(${arg(0)} FROM ${this.shifted(all[1], 1)})`, prec: P.primary };
        const [a, b] = [this.constInt(all[1]), this.constInt(all[2])];
        const length = a !== undefined && b !== undefined ? String(b - a) : `${wrap(this.expr(all[2]), P.add)} - ${wrap(this.expr(all[1]), P.add + 1)}`;
        return { text: `SUBSTRING(${arg(0)} FROM ${this.shifted(all[1], 1)} FOR ${length})`, prec: P.primary };
      }
      case "extract":
        return { text: `REGEXP_EXTRACT(${arg(0)}, ${arg(1)}, ${/\((?!\?)/.test(this.constString(all[1]) ?? "(") ? 1 : 0})`, prec: P.primary };
      case "join":
        return { text: `ARRAY_JOIN(${arg(0)}, ${all.length > 1 ? arg(1) : sqlString("")})`, prec: P.primary };
    }
    const name = FLINK_FUNCTION[fn];
    if (!name) this.fail(`${fn}() has no Flink SQL equivalent in this export`);
    return { text: `${name}(${all.map((a) => this.expr(a).text).join(", ")})`, prec: P.primary };
  }

  private constInt(e: Expr): number | undefined {
    const k = e.exprKind;
    return k.case === "constExpr" && k.value.constantKind.case === "int64Value" ? Number(k.value.constantKind.value) : undefined;
  }

  private constString(e: Expr): string | undefined {
    const k = e.exprKind;
    return k.case === "constExpr" && k.value.constantKind.case === "stringValue" ? k.value.constantKind.value : undefined;
  }
}

class FlinkGenerator extends Generator {
  readonly warnings: string[] = [];
  /** Time attribute column each source declares (rowtime or proctime), and the watermark delay of a rowtime. */
  private readonly sourceTime = new Map<string, { column: string; field?: string; delay?: string }>();
  /** Nodes whose output carries a time attribute column to a window downstream. */
  private readonly carries = new Map<string, string>();

  constructor(
    pipeline: Pipeline,
    private readonly ctx: FlinkExportContext,
  ) {
    super(pipeline);
  }

  protected ident(name: string): string {
    return quote(name);
  }

  private inputSchema(nodeId: string): StreamSchema {
    const ins = this.incoming.get(nodeId) ?? [];
    return ins.length ? (this.ctx.schemas[ins[0].source] ?? []) : [];
  }

  protected expr(nodeId: string, cel: string, what: string): string {
    const r = writeCel(cel, (p) => new FlinkCelWriter(p, this.inputSchema(nodeId)));
    if (!r.ok) this.fail(nodeId, `its ${what} ${JSON.stringify(cel)} cannot be exported: ${r.reason}`);
    return r.sql;
  }

  protected operand(nodeId: string, cel: string) {
    return writeCel(cel, (p) => new FlinkCelWriter(p, this.inputSchema(nodeId)));
  }

  protected castType(target: keyof typeof SQL_TYPE_OF_CAST): string {
    return FLINK_CAST[target];
  }

  protected viewStatement(name: string, body: string): string {
    return `CREATE TEMPORARY VIEW ${quote(name)} AS\n${body};`;
  }

  /**
   * A window needs a time attribute, which Flink declares on a source table
   * (a computed rowtime with its WATERMARK, or PROCTIME()) and which must flow
   * unchanged to the window: every node between carries the column.
   */
  private planTime(): void {
    for (const n of this.pipeline.nodes) {
      if (n.type !== "window") continue;
      const c = n.config;
      const field = c.timeField;
      if (field !== undefined && field.includes(".")) this.fail(n.id, `its time field ${field} is nested; Flink declares time attributes on top-level columns`);
      const column = field === undefined ? "proctime" : `${field}_rowtime`;
      const seen = new Set<string>();
      const walk = (id: string) => {
        if (seen.has(id)) return;
        seen.add(id);
        const up = this.node(id);
        if (up.type === "source") {
          const prev = this.sourceTime.get(up.id);
          if (prev && (prev.column !== column || prev.delay !== c.maxOutOfOrderness)) this.fail(n.id, `its source "${up.config.stream}" already has another time attribute or watermark for another window; Flink tables have one watermark`);
          if (field !== undefined && !(this.ctx.streams(up.config.stream)?.schema ?? []).some((f) => f.name === field)) this.fail(n.id, `its time field "${field}" is not a field of the source stream "${up.config.stream}", where Flink declares the watermark`);
          this.sourceTime.set(up.id, { column, field, delay: field === undefined ? undefined : c.maxOutOfOrderness });
          return;
        }
        if (up.type === "window") this.fail(n.id, "a window over another window's output cannot get its time attribute in this export");
        if (up.type === "udf") this.fail(n.id, "a window after a UDF cannot get its time attribute in this export");
        if (up.type === "projection" && field !== undefined) {
          const keeps = up.config.fields.some((f) => f.name === field && f.from === field && !f.cast) || (up.config.keepOthers && !up.config.fields.some((f) => f.name === field));
          if (!keeps) this.fail(n.id, `its time field "${field}" is computed or renamed by "${up.id}"; Flink needs the source's event time unchanged`);
        }
        this.carries.set(up.id, column);
        for (const e of this.incoming.get(up.id) ?? []) walk(e.source);
      };
      for (const e of this.incoming.get(n.id) ?? []) walk(e.source);
      if (c.allowedLateness !== "0s") this.warnings.push(`Window "${n.id}": allowed lateness ${c.allowedLateness} does not carry over (Flink's window TVFs drop late records).`);
      if (c.emit !== "on_close") this.warnings.push(`Window "${n.id}": early results every ${c.emit.early} do not carry over (Flink's window TVFs emit when the window closes).`);
      if (this.consumerCount({ node: n.id, port: "late" }) > 0) this.fail(n.id, "its late output has no Flink SQL form");
    }
  }

  protected projectionList(n: NodeOfType<"projection">): string {
    const list = super.projectionList(n);
    const carried = this.carries.get(n.id);
    return carried !== undefined && !n.config.keepOthers ? `${list}, ${quote(carried)}` : list;
  }

  protected window(n: NodeOfType<"window">, o: Output): string {
    if (o.port !== DEFAULT_OUTPUT_PORT) this.fail(n.id, "its late output has no Flink SQL form");
    const c = n.config;
    const w = c.window;
    const column = c.timeField === undefined ? "proctime" : `${c.timeField}_rowtime`;
    const keys = c.keys.map((k) => ({ name: k.name, text: this.expr(n.id, k.expr, `key "${k.name}"`) }));
    const input = `TABLE ${this.named(this.input(n))}`;
    let call: string;
    if (w.kind === "tumbling") call = `TUMBLE(${input}, DESCRIPTOR(${quote(column)}), ${sqlInterval(w.size)})`;
    else if (w.kind === "hopping") call = `HOP(${input}, DESCRIPTOR(${quote(column)}), ${sqlInterval(w.slide)}, ${sqlInterval(w.size)})`;
    else {
      const paths = c.keys.map((k) => k.expr.trim());
      if (paths.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) this.fail(n.id, "a session window's keys must be fields for Flink's PARTITION BY");
      call = `SESSION(${input}${paths.length ? ` PARTITION BY ${paths.map(quote).join(", ")}` : ""}, DESCRIPTOR(${quote(column)}), ${sqlInterval(w.gap)})`;
    }
    for (const a of c.aggregates) if (a.fn === "top_k") this.fail(n.id, `its aggregate "${a.name}" (top_k) has no Flink SQL equivalent`);
    const select = [
      ...keys.map((k) => `${k.text} AS ${quote(k.name)}`),
      `window_start AS ${quote(c.windowStartField)}`,
      `window_end AS ${quote(c.windowEndField)}`,
      ...c.aggregates.map((a) => `${aggregate(a, quote)} AS ${quote(a.name)}`),
    ];
    return `SELECT ${select.join(", ")}\nFROM TABLE(${call})\nGROUP BY ${[...keys.map((k) => k.text), "window_start", "window_end"].join(", ")}`;
  }

  protected udf(n: NodeOfType<"udf">): string {
    const fn = n.config.function;
    const name = "inline" in fn ? n.id : fn.name;
    this.warnings.push(`UDF "${n.id}": Sluice runs JavaScript functions; register a Flink table function named ${name} (same output fields) before running this.`);
    return `SELECT * FROM TABLE(${quote(name)}(TABLE ${this.named(this.input(n))}))`;
  }

  protected insertStatement(sink: NodeOfType<"sink">, input: Output): string {
    const body = this.inlined(input) ? this.query(input) : `SELECT * FROM ${this.rel(input)}`;
    const columns = (this.ctx.streams(sink.config.stream)?.schema ?? this.ctx.schemas[input.node] ?? []).map((f) => quote(f.name));
    // Time attribute columns travel with SELECT *: name the sink's fields so they stay behind.
    const select = this.sourceTime.size && columns.length ? `SELECT ${columns.join(", ")} FROM (\n  ${indent(body)}\n)` : body;
    return `INSERT INTO ${sqlStreamName(sink.config.stream)}\n${select};`;
  }

  private table(stream: string, role: "source" | "sink", time?: { column: string; field?: string; delay?: string }, fallback?: StreamSchema, windowBounds: string[] = []): string {
    const s = this.ctx.streams(stream);
    const schema = s?.schema ?? fallback ?? [];
    // A window's bounds are Flink timestamps, written as such.
    const cols = schema.map((f) => `  ${quote(f.name)} ${windowBounds.includes(f.name) ? "TIMESTAMP_LTZ(3)" : flinkType(f.type)}`);
    if (time?.field !== undefined) {
      cols.push(`  ${quote(time.column)} AS TO_TIMESTAMP_LTZ(${quote(time.field)}, 3)`);
      cols.push(`  WATERMARK FOR ${quote(time.column)} AS ${quote(time.column)} - ${sqlInterval(time.delay ?? "0s")}`);
    } else if (time) cols.push(`  ${quote(time.column)} AS PROCTIME()`);
    const options: [string, string][] = [
      ["connector", "kafka"],
      ["topic", s?.topic ?? stream],
      ["properties.bootstrap.servers", this.ctx.bootstrapServers],
      ...(role === "source"
        ? ([["properties.group.id", `sluice-flink-${this.ctx.pipelineName}`], ["scan.startup.mode", "group-offsets"], ["properties.auto.offset.reset", "earliest"]] as [string, string][])
        : ([["sink.delivery-guarantee", "at-least-once"]] as [string, string][])),
      ["format", "json"],
      ...(role === "source" ? ([["json.fail-on-missing-field", "false"], ["json.ignore-parse-errors", "false"]] as [string, string][]) : []),
    ];
    if (!s) this.warnings.push(`Stream "${stream}" does not exist yet: its columns come from the pipeline's output, and its topic name is assumed to be the stream's name.`);
    return `CREATE TABLE ${sqlStreamName(stream)} (\n${cols.join(",\n")}\n) WITH (\n${options.map(([k, v]) => `  ${sqlString(k)} = ${sqlString(v)}`).join(",\n")}\n);`;
  }

  protected finish(statements: string[]): string {
    const tables: string[] = [];
    const done = new Set<string>();
    for (const n of this.pipeline.nodes) {
      if (n.type === "source" && !done.has(`s:${n.config.stream}`)) {
        done.add(`s:${n.config.stream}`);
        tables.push(this.table(n.config.stream, "source", this.sourceTime.get(n.id)));
      }
    }
    for (const n of this.pipeline.nodes) {
      if (n.type === "sink" && !done.has(`k:${n.config.stream}`)) {
        done.add(`k:${n.config.stream}`);
        const input = this.incoming.get(n.id)?.[0];
        const from = input ? this.node(input.source) : undefined;
        const bounds = from?.type === "window" ? [from.config.windowStartField, from.config.windowEndField] : [];
        tables.push(this.table(n.config.stream, "sink", undefined, input ? this.ctx.schemas[input.source] : undefined, bounds));
      }
    }
    const idle = this.pipeline.nodes.flatMap((n) => (n.type === "window" && n.config.idleTimeout ? [n.config.idleTimeout] : []));
    const settings = idle.length ? [`SET 'table.exec.source.idle-timeout' = '${sqlInterval(idle[0]).replace(/^INTERVAL '([^']+)' (\w+)$/, (_m, v: string, u: string) => `${v} ${u.toLowerCase()}`)}';`] : [];
    const views = statements.filter((s) => !s.startsWith("INSERT INTO"));
    const inserts = statements.filter((s) => s.startsWith("INSERT INTO"));
    const header = [
      "-- Flink SQL exported by Sluice. Run it in the Flink SQL client (Flink 1.19 or later, with the Kafka connector and JSON format jars).",
      "-- Timestamps are epoch milliseconds (BIGINT) as in Sluice; a window's start and end are Flink TIMESTAMP_LTZ(3) values (JSON text, not epoch milliseconds).",
      "-- Not carried over: dead-letter routing (Flink fails or skips a bad record as 'json.ignore-parse-errors' says), Sluice's exactly-once settings, per-record error records.",
      ...this.warnings.map((w) => `-- Warning: ${w}`),
    ];
    return [header.join("\n"), ...settings, ...tables, ...views, `EXECUTE STATEMENT SET\nBEGIN\n${inserts.join("\n\n")}\nEND;`].join("\n\n") + "\n";
  }

  export(): FlinkExportResult {
    try {
      this.planTime();
    } catch (e) {
      const ne = e as { nodeId?: string; message: string };
      if (ne.nodeId !== undefined) return { ok: false, problems: [{ nodeId: ne.nodeId, message: `Node "${ne.nodeId}" cannot be exported to Flink SQL: ${ne.message}.` }] };
      throw e;
    }
    const r = this.run();
    if (!r.ok) return { ok: false, problems: r.problems.map((p) => ({ ...p, message: p.message.replace("cannot be shown as SQL", "cannot be exported to Flink SQL") })) };
    return { ok: true, sql: r.sql, warnings: this.warnings };
  }
}

/** The pipeline as a Flink SQL script, or the nodes that cannot carry over and why. */
export function pipelineToFlinkSql(pipeline: Pipeline, ctx: FlinkExportContext): FlinkExportResult {
  return new FlinkGenerator(pipeline, ctx).export();
}

export { outputKey };
