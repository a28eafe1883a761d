import { z } from "zod";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { AppError } from "@/lib/errors";
import { kafkaBrokers } from "@/lib/kafka/client";
import { hasErrors, parsePipeline, type Diagnostic, type Pipeline } from "@/lib/pipeline";
import { validatePipeline } from "@/lib/compiler";
import { mapDiagnostics, pipelineToSql, sqlToPipeline, type SqlDiagnostic, type Span } from "@/lib/sql";
import { pipelineToFlinkSql } from "@/lib/sql/flink";
import { MAX_SQL_LENGTH } from "@/lib/sql/ast";
import { loadTeamCatalog } from "./catalog-context";
import { applyPipeline, checkPipeline, getVersion, requirePipeline } from "./pipelines";

/**
 * Pipelines as SQL for the API and the CLI (docs/sql.md): the pure dialect
 * lives in lib/sql; this module adds the team's catalog (validation, topics)
 * and storage.
 */
export const sqlText = z.string().min(1, "SQL is required").max(MAX_SQL_LENGTH, `SQL is longer than ${MAX_SQL_LENGTH / 1024} KiB`);
export const sqlToGraphInput = z.object({ sql: sqlText });
export const graphToSqlInput = z.object({ pipeline: z.unknown() });
export const createFromSqlInput = z.object({ name: z.string(), description: z.string().max(5_000).default(""), sql: sqlText, message: z.string().max(1_000).default("") });
export const exportFormat = z.enum(["flink-sql", "sql"]);

/** A problem with the SQL text itself, before any graph exists: 422 with its place. */
function sqlError(error: { message: string; span?: Span }): AppError {
  const where = error.span ? ` (line ${error.span.line}, column ${error.span.column})` : "";
  return new AppError("invalid_input", `The SQL cannot be read${where}: ${error.message}`, [{ severity: "error", code: "sql-syntax", message: error.message, path: "", span: error.span } satisfies SqlDiagnostic]);
}

/**
 * SQL → graph, checked against the team's catalog: the laid-out pipeline and
 * every diagnostic (validator, access, duplicate streams) placed in the SQL.
 */
export async function graphFromSql(principal: Principal, teamSlug: string, raw: z.input<typeof sqlToGraphInput>) {
  const { sql } = sqlToGraphInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const built = sqlToPipeline(sql);
  if (!built.ok) throw sqlError(built.error);
  const checked = await checkPipeline(team.id, built.pipeline);
  return { pipeline: checked.pipeline ?? built.pipeline, diagnostics: mapDiagnostics(checked.diagnostics, built.sourceMap), schemas: checked.schemas };
}

/** Graph → Sluice SQL; nodes SQL cannot express come back as diagnostics on those nodes. */
export async function sqlFromGraph(principal: Principal, teamSlug: string, raw: z.input<typeof graphToSqlInput>): Promise<{ sql: string | null; diagnostics: Diagnostic[] }> {
  const { pipeline } = graphToSqlInput.parse(raw);
  await requireTeamRole(principal, teamSlug, "viewer");
  const parsed = parsePipeline(pipeline);
  if (!parsed.pipeline) return { sql: null, diagnostics: parsed.diagnostics };
  const r = pipelineToSql(parsed.pipeline);
  if (r.ok) return { sql: r.sql, diagnostics: [] };
  return { sql: null, diagnostics: r.problems.map((p) => ({ severity: "error", code: "not-expressible-in-sql", message: p.message, nodeId: p.nodeId, path: "" })) };
}

/**
 * "New pipeline from SQL": builds the graph, and only when it has no errors
 * creates the pipeline with it as version 1 (so nothing half-made is left
 * behind); errors come back placed in the SQL.
 */
export async function createPipelineFromSql(principal: Principal, teamSlug: string, raw: z.input<typeof createFromSqlInput>) {
  const input = createFromSqlInput.parse(raw);
  const { pipeline, diagnostics } = await graphFromSql(principal, teamSlug, { sql: input.sql });
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new AppError("invalid_input", `The SQL builds a pipeline with ${errors.length} error(s): fix them and try again.`, diagnostics);
  // The pipeline and its version 1 are written together (applyPipeline), or not at all.
  const created = await applyPipeline(principal, teamSlug, { name: input.name, description: input.description, pipeline, message: input.message || "created from SQL" }, { createOnly: true });
  return { pipeline: created.pipeline, version: created.version, diagnostics };
}

/** Saves SQL as a new version of an existing pipeline (or creates it): `sluice pipeline apply -f query.sql`. */
export async function applySql(principal: Principal, teamSlug: string, name: string, sql: string, message: string) {
  const { pipeline, diagnostics } = await graphFromSql(principal, teamSlug, { sql });
  if (hasErrors(diagnostics)) throw new AppError("invalid_input", `The SQL builds a pipeline with ${diagnostics.filter((d) => d.severity === "error").length} error(s); fix them before saving.`, diagnostics);
  // A new pipeline is created with this version as v1 in one transaction (applyPipeline): nothing half-made on failure.
  const v = await applyPipeline(principal, teamSlug, { name, pipeline, message });
  return { version: v.version, diagnostics };
}

/**
 * A saved version as Flink SQL (or Sluice SQL): the catalog gives topics and
 * column types, KAFKA_BROKERS (or `bootstrapServers`) the connector's servers.
 */
export async function exportPipeline(principal: Principal, teamSlug: string, name: string, options: { format: z.infer<typeof exportFormat>; version?: number; bootstrapServers?: string }) {
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const version = options.version ?? pipeline.versions[0]?.version;
  if (version === undefined) throw new AppError("not_found", `Pipeline "${name}" has no saved version yet: save one first.`);
  const graph = (await getVersion(principal, teamSlug, name, version)).pipeline;
  const parsed = parsePipeline(graph);
  if (!parsed.pipeline) throw new AppError("internal", `Version ${version} of "${name}" does not parse.`);
  const p: Pipeline = parsed.pipeline;
  if (options.format === "sql") {
    const r = pipelineToSql(p);
    if (!r.ok) throw new AppError("invalid_input", r.problems.map((x) => x.message).join(" "), r.problems);
    return { format: options.format, version, text: r.sql, warnings: [] as string[] };
  }
  const catalog = await loadTeamCatalog(team.id);
  const { schemas } = validatePipeline(p, catalog.ctx);
  const servers = options.bootstrapServers ?? kafkaBrokers()?.join(",");
  if (!servers) throw new AppError("invalid_input", "Which Kafka should Flink use? Give --bootstrap-servers host:port (KAFKA_BROKERS is not set here).");
  const r = pipelineToFlinkSql(p, {
    streams: (n) => {
      const e = catalog.entries.get(n);
      return e ? { schema: e.schema, topic: e.topic } : undefined;
    },
    schemas,
    bootstrapServers: servers,
    pipelineName: pipeline.name,
  });
  if (!r.ok) throw new AppError("invalid_input", r.problems.map((x) => x.message).join(" "), r.problems);
  return { format: options.format, version, text: r.sql, warnings: r.warnings };
}
