import type { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { AppError } from "@/lib/errors";
import type { Principal } from "@/lib/auth/principal";
import type { Diagnostic } from "@/lib/pipeline";
import type { SqlDiagnostic } from "@/lib/sql";
import { pipelineProblems, sqlProblems } from "../diagnostics";
import { parseJsonFile, printProblems, withProblems } from "../report";
import { actingFor, intOption, userPath, type Cli } from "../context";

/** `sluice pipeline …`: pipelines, versions and deployments. */
export function register(program: Command, { io }: Cli): void {
  const pipeline = program.command("pipeline").description("manage pipelines");
  pipeline
    .command("apply")
    .description("create the pipeline if needed and save the definition as a new version (a new pipeline is created with it, or not at all)")
    .requiredOption("--team <slug>", "team")
    .requiredOption("-f, --file <path>", "pipeline definition: JSON (or {name, description, pipeline}), or Sluice SQL in a .sql file")
    .option("--name <name>", "pipeline name (default: the JSON's name field, or the .sql file's name)")
    .option("-m, --message <text>", "version message", "")
    .addHelpText("after", "\nProblems print as file:line:column: severity: field: message [code, node], with a caret under the\nexpression; nothing is saved while there are errors.")
    .action(async (o: { team: string; file: string; name?: string; message: string }) => {
      const text = readFileSync(userPath(o.file), "utf8");
      if (o.file.toLowerCase().endsWith(".sql")) {
        // Sluice SQL (docs/sql.md): the graph is built and laid out from the SQL; problems print at their line and column.
        const { applySql } = await import("@/lib/pipelines/sql");
        const name = o.name ?? basename(o.file).replace(/\.sql$/i, "");
        const v = await withProblems(io, (details) => sqlProblems(o.file, text, details as SqlDiagnostic[]), async () => applySql(await actingFor(o.team), o.team, name, text, o.message));
        io.out(`Saved ${name} version ${v.version} from ${o.file}`);
        printProblems(io, sqlProblems(o.file, text, v.diagnostics));
        return;
      }
      const doc = parseJsonFile(io, o.file, text) as { name?: string; description?: string; pipeline?: unknown };
      const wrapped = doc !== null && typeof doc === "object" && "pipeline" in doc;
      const name = o.name ?? doc?.name;
      if (!name) throw new AppError("invalid_input", "Give the pipeline a name with --name (or a top-level `name` in the file).");
      const source = { file: o.file, text, prefix: wrapped ? ["pipeline"] : [] };
      const { applyPipeline } = await import("@/lib/pipelines/pipelines");
      const v = await withProblems(io, (details) => pipelineProblems(details as Diagnostic[], source), async () =>
        applyPipeline(await actingFor(o.team), o.team, { name, description: wrapped ? doc.description : undefined, pipeline: wrapped ? doc.pipeline : doc, message: o.message }),
      );
      io.out(`Saved ${name} version ${v.version}${v.warnings.length ? ` (${v.warnings.length} warning(s))` : ""}`);
      printProblems(io, pipelineProblems(v.warnings, source));
    });
  pipeline
    .command("export")
    .description("print a saved version as Flink SQL (CREATE TABLEs for Kafka + a statement set) or as Sluice SQL")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "pipeline")
    .option("--format <format>", "flink-sql | sql", "flink-sql")
    .option("--version <n>", "version (default: latest)", intOption)
    .option("--bootstrap-servers <hosts>", "Kafka servers for the Flink tables (default: KAFKA_BROKERS)")
    .option("-o, --output <path>", "write to this file instead of standard output")
    .action(async (o: { team: string; name: string; format: string; version?: number; bootstrapServers?: string; output?: string }) => {
      const { exportFormat, exportPipeline } = await import("@/lib/pipelines/sql");
      const format = exportFormat.parse(o.format);
      const r = await exportPipeline(await actingFor(o.team), o.team, o.name, { format, version: o.version, bootstrapServers: o.bootstrapServers });
      if (o.output) {
        writeFileSync(userPath(o.output), r.text);
        io.out(`Wrote ${o.name} version ${r.version} as ${format} to ${o.output}`);
      } else io.out(r.text.trimEnd());
      for (const w of r.warnings) io.err(`warning: ${w}`);
    });
  pipeline
    .command("deploy")
    .description("deploy (or redeploy) a saved version")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "pipeline")
    .option("--version <n>", "version (default: latest)", intOption)
    .option("--parallelism <n>", "tasks", intOption)
    .option("--guarantee <g>", "at_least_once | exactly_once")
    .option("--reset-state", "drop window state that cannot carry over")
    .option("--max-parallelism <n>", "key groups of a Window pipeline, fixed at its first deploy (default 32)", intOption)
    .action(async (o: { team: string; name: string; version?: number; parallelism?: number; guarantee?: "at_least_once" | "exactly_once"; resetState?: boolean; maxParallelism?: number }) => {
      const { deploy } = await import("@/lib/pipelines/deployments");
      const principal = await actingFor(o.team);
      // A version that no longer validates (the catalog changed) comes back with diagnostics: show them on the saved definition.
      const d = await withProblems(io, async (details) => {
        const { getVersion } = await import("@/lib/pipelines/pipelines");
        const graph = await getVersion(principal, o.team, o.name, o.version ?? (await latestVersion(principal, o.team, o.name))).then((v) => v.pipeline, () => undefined);
        return pipelineProblems(details as Diagnostic[], { pipeline: graph });
      }, () => deploy(principal, o.team, o.name, { version: o.version, parallelism: o.parallelism, deliveryGuarantee: o.guarantee, resetState: !!o.resetState, maxParallelism: o.maxParallelism }));
      io.out(`Deploying ${o.name} version ${d.version}: ${d.parallelism} task(s)${d.stages.length > 1 ? ` per stage (${d.stages.join(", ")})` : ""}, ${d.deliveryGuarantee}${d.maxParallelism ? `, max parallelism ${d.maxParallelism}` : ""}`);
      // Tasks that will find no free slot wait in the queue: say so now, not only in `status`.
      const [{ currentCapacity }, { waitingReason, CAPACITY_HINT }] = await Promise.all([import("@/lib/pipelines/status"), import("@/lib/runtime/capacity")]);
      const capacity = await currentCapacity();
      const full = waitingReason(capacity);
      const free = capacity.slots - capacity.inUse;
      const needed = d.parallelism * Math.max(1, d.stages.length);
      if (full) io.err(`note: the tasks are ${full}; they start as slots free up. To run more at once, ${CAPACITY_HINT}.`);
      else if (free < needed) io.err(`note: ${free} of ${capacity.slots} worker slots are free for ${needed} task(s); the others wait for a slot. To run more at once, ${CAPACITY_HINT}.`);
    });
  pipeline
    .command("scale")
    .description("change the number of tasks of a deployed pipeline (Window state moves with its key groups)")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "pipeline")
    .requiredOption("--parallelism <n>", "tasks", intOption)
    .option("--reset-state", "drop window state that cannot carry over")
    .action(async (o: { team: string; name: string; parallelism: number; resetState?: boolean }) => {
      const { scale } = await import("@/lib/pipelines/deployments");
      const d = await scale(await actingFor(o.team), o.team, o.name, { parallelism: o.parallelism, resetState: !!o.resetState });
      io.out(`Scaling ${o.name} to ${d.parallelism} task(s)${d.stages.length > 1 ? ` per stage (${d.stages.join(", ")})` : ""}`);
    });
  for (const [cmd, verb] of [["stop", "Stopping"], ["resume", "Resuming"]] as const) {
    pipeline
      .command(cmd)
      .description(`${cmd} a deployed pipeline`)
      .requiredOption("--team <slug>", "team")
      .requiredOption("--name <name>", "pipeline")
      .action(async (o: { team: string; name: string }) => {
        const deployments = await import("@/lib/pipelines/deployments");
        await deployments[cmd](await actingFor(o.team), o.team, o.name);
        io.out(`${verb} ${o.name}`);
      });
  }
  pipeline
    .command("status")
    .description("desired vs actual state, tasks, lag, throughput, last error")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "pipeline")
    .option("--json", "print JSON")
    .action(async (o: { team: string; name: string; json?: boolean }) => {
      const { pipelineStatus } = await import("@/lib/pipelines/status");
      const s = await pipelineStatus(await actingFor(o.team), o.team, o.name);
      if (o.json) return io.out(JSON.stringify(s, null, 2));
      if (!s.deployed) return io.out(`${s.pipeline}: not deployed`);
      io.out(`${s.pipeline} v${s.version}: ${s.actualState} (desired ${s.desiredState}), ${s.parallelism} task(s), ${s.deliveryGuarantee}, ${s.recordsPerSec} rec/s, lag ${s.consumerLag}`);
      if (s.waiting) io.out(`  ${s.waiting} — ${(await import("@/lib/runtime/capacity")).CAPACITY_HINT}`);
      for (const t of s.tasks) io.out(`  ${s.stages.length > 1 ? `${t.stage} ` : ""}task ${t.index}: ${t.state}${t.worker ? ` on ${t.worker}` : ""}, in ${t.recordsIn}, out ${t.recordsOut}, errors ${t.recordsErrored}, lag ${t.consumerLag}`);
      if (s.lastError) io.out(`  last error: ${s.lastError}`);
    });
}

async function latestVersion(principal: Principal, team: string, name: string): Promise<number> {
  const { getPipeline } = await import("@/lib/pipelines/pipelines");
  return (await getPipeline(principal, team, name)).latestVersion ?? 0;
}
