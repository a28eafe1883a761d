/**
 * The `sluice` command line. It talks to the database directly with the same
 * domain functions as the REST API (so the same validation and audit apply).
 * Connection settings come from the environment, or from .data/sluice.env
 * that `npm start` writes.
 */
import { Command, CommanderError } from "commander";
import { basename, join } from "node:path";
import { ZodError } from "zod";
import type { Principal } from "@/lib/auth/principal";
import { prisma, disconnectPrisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { loadLocalEnv } from "@/lib/env/local";
import { createTeam } from "@/lib/teams/teams";
import { createToken } from "@/lib/tokens/tokens";
import { createUser } from "@/lib/users/create-user";
import { authenticate } from "@/lib/auth/principal";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createStream, listStreams } from "@/lib/warehouse/streams";
import { produceRecords, readRecords, tailRecords } from "@/lib/warehouse/records";
import { createPipeline, requirePipeline, saveVersion } from "@/lib/pipelines/pipelines";
import { deploy, resume, stop } from "@/lib/pipelines/deployments";
import { pipelineStatus } from "@/lib/pipelines/status";
import { applySql, exportFormat, exportPipeline } from "@/lib/pipelines/sql";
import type { SqlDiagnostic } from "@/lib/sql";
import { formatSqlDiagnostics } from "@/lib/sql/format";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";

/** Paths the user typed are relative to where they typed them: `npm run` moves to the package root but keeps that in INIT_CWD. */
const userPath = (p: string) => resolve(process.env.INIT_CWD ?? process.cwd(), p);

export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  readStdin: () => Promise<string>;
}

const defaultIO: CliIO = {
  out: (l) => process.stdout.write(l + "\n"),
  err: (l) => process.stderr.write(l + "\n"),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

async function principalFor(email: string): Promise<Principal> {
  const user = await prisma().user.findUnique({ where: { email: email.toLowerCase() } });
  if (!user) throw new AppError("not_found", `No user with email ${email}: create one with \`sluice user create\`.`);
  return { kind: "user", userId: user.id, email: user.email, name: user.name };
}

/**
 * Who the CLI acts as for team commands: the API token in SLUICE_TOKEN when
 * set (same rights as over the API), otherwise the team's earliest owner (the
 * CLI then runs with database access, i.e. as an administrator).
 */
async function actingFor(teamSlug: string): Promise<Principal> {
  const token = process.env.SLUICE_TOKEN;
  if (token) return authenticate(new Headers({ authorization: `Bearer ${token}` }));
  return ownerOf(teamSlug);
}

/** Acts as the team's earliest owner (the CLI has database access, i.e. admin rights). */
async function ownerOf(teamSlug: string): Promise<Principal> {
  const m = await prisma().membership.findFirst({ where: { team: { slug: teamSlug }, role: "owner" }, include: { user: true }, orderBy: { createdAt: "asc" } });
  if (!m) throw new AppError("not_found", `No team "${teamSlug}" (or it has no owner). List teams with \`sluice team list\`.`);
  return { kind: "user", userId: m.user.id, email: m.user.email, name: m.user.name };
}

export function buildProgram(io: CliIO = defaultIO): Command {
  const program = new Command("sluice")
    .description("Sluice command line: users, teams, tokens, streams and pipelines")
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError();

  const user = program.command("user").description("manage user accounts");
  user
    .command("create")
    .description("create an email + password account")
    .requiredOption("--email <email>", "sign-in email")
    .requiredOption("--name <name>", "display name")
    .option("--password <password>", "password (at least 10 characters); prefer --password-stdin")
    .option("--password-stdin", "read the password from standard input")
    .action(async (o: { email: string; name: string; password?: string; passwordStdin?: boolean }) => {
      const password = o.passwordStdin ? (await io.readStdin()).replace(/\r?\n$/, "") : o.password;
      if (!password) throw new AppError("invalid_input", "Give a password with --password-stdin (or --password).");
      const u = await createUser({ email: o.email, name: o.name, password });
      io.out(`Created user ${u.email} (${u.id})`);
    });

  const team = program.command("team").description("manage teams");
  team
    .command("create")
    .description("create a team owned by an existing user")
    .requiredOption("--name <name>", "team name")
    .requiredOption("--owner <email>", "email of the user who will own the team")
    .option("--slug <slug>", "URL name (default: derived from the name)")
    .action(async (o: { name: string; owner: string; slug?: string }) => {
      const t = await createTeam(await principalFor(o.owner), { name: o.name, slug: o.slug });
      io.out(`Created team ${t.name} (slug: ${t.slug}), owner ${o.owner}`);
    });
  team
    .command("list")
    .description("list all teams")
    .action(async () => {
      const teams = await prisma().team.findMany({ orderBy: { slug: "asc" }, include: { _count: { select: { memberships: true } } } });
      if (!teams.length) io.out("No teams yet: create one with `sluice team create --name <name> --owner <email>`.");
      for (const t of teams) io.out(`${t.slug}\t${t.name}\t${t._count.memberships} member(s)`);
    });

  const token = program.command("token").description("manage team API tokens");
  token
    .command("create")
    .description("create a team API token; the secret is printed once")
    .requiredOption("--team <slug>", "team slug")
    .option("--name <name>", "what the token is for", "cli")
    .option("--role <role>", "owner | editor | viewer", "editor")
    .option("--expires-days <days>", "expire after this many days", (v) => Number(v))
    .action(async (o: { team: string; name: string; role: "owner" | "editor" | "viewer"; expiresDays?: number }) => {
      const t = await createToken(await ownerOf(o.team), o.team, { name: o.name, role: o.role, expiresInDays: o.expiresDays });
      io.out(t.token);
      io.err(`Token "${t.name}" (${t.role}) for team ${o.team}. Store it now: it is not shown again.`);
    });

  const stream = program.command("stream").description("manage warehouse streams");
  stream
    .command("create")
    .description("create a stream (and its topic) owned by a team")
    .requiredOption("--team <slug>", "owner team")
    .requiredOption("--name <name>", "stream name, e.g. ods.ads.clicks")
    .requiredOption("--layer <layer>", "ODS | DWD | DWS | ADS")
    .requiredOption("--schema <json|@file>", 'field list, e.g. \'[{"name":"user_id","type":"string"}]\' or @schema.json')
    .option("--partitions <n>", "partitions", (v) => Number(v), 3)
    .option("--retention-ms <ms>", "retention in ms (-1 keeps forever)", (v) => Number(v))
    .option("--visibility <v>", "private | team | public", "team")
    .option("--description <text>", "markdown description", "")
    .action(async (o: { team: string; name: string; layer: "ODS"; schema: string; partitions: number; retentionMs?: number; visibility: "team"; description: string }) => {
      const s = await createStream(await actingFor(o.team), o.team, {
        name: o.name, layer: o.layer, schema: JSON.parse(o.schema.startsWith("@") ? readFileSync(userPath(o.schema.slice(1)), "utf8") : o.schema),
        partitions: o.partitions, visibility: o.visibility, description: o.description,
        ...(o.retentionMs !== undefined ? { retentionMs: o.retentionMs < 0 ? null : o.retentionMs } : {}),
      });
      io.out(`Created stream ${s.name} (${s.layer}, ${s.partitions} partitions, schema v${s.schemaVersion})`);
    });
  stream
    .command("list")
    .description("streams a team can see")
    .requiredOption("--team <slug>", "team")
    .action(async (o: { team: string }) => {
      const list = await listStreams(await actingFor(o.team), o.team);
      if (!list.length) io.out("No streams yet: create one with `sluice stream create`.");
      for (const s of list) io.out(`${s.name}\t${s.layer}\t${s.ownerTeam.slug}\t${s.partitions}p\t${s.access}`);
    });
  stream
    .command("produce")
    .description("produce JSON records, one per line, from standard input or a file")
    .requiredOption("--team <slug>", "owner team")
    .requiredOption("--name <name>", "stream")
    .option("-f, --file <path>", "JSON-lines file (default: standard input)")
    .option("--key <field>", "use this field of each record as the Kafka key")
    .action(async (o: { team: string; name: string; file?: string; key?: string }) => {
      const text = o.file ? readFileSync(userPath(o.file), "utf8") : await io.readStdin();
      const values = text.split(/\r?\n/).filter((l) => l.trim()).map((l, i) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new AppError("invalid_input", `line ${i + 1} is not valid JSON`);
        }
      });
      const principal = await actingFor(o.team);
      let written = 0;
      for (let i = 0; i < values.length; i += 5_000) {
        const chunk = values.slice(i, i + 5_000).map((value) => ({ value, key: o.key && value[o.key] != null ? String(value[o.key]) : null }));
        written += (await produceRecords(principal, o.team, o.name, { records: chunk })).written;
      }
      io.out(`Produced ${written} record(s) to ${o.name}`);
    });
  stream
    .command("tail")
    .description("print records as JSON lines: the newest ones, then new arrivals until Ctrl-C")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "stream")
    .option("--last <n>", "records to show first", (v) => Number(v), 10)
    .option("--no-follow", "exit after the last records")
    .action(async (o: { team: string; name: string; last: number; follow: boolean }) => {
      const principal = await actingFor(o.team);
      const { records } = await readRecords(principal, o.team, o.name, { limit: o.last });
      for (const r of records) io.out(JSON.stringify(r));
      if (!o.follow) return;
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      for await (const batch of tailRecords(principal, o.team, o.name, ac.signal)) for (const r of batch) io.out(JSON.stringify(r));
    });

  const pipeline = program.command("pipeline").description("manage pipelines");
  pipeline
    .command("apply")
    .description("create the pipeline if needed and save the definition as a new version")
    .requiredOption("--team <slug>", "team")
    .requiredOption("-f, --file <path>", "pipeline definition: JSON (or {name, description, pipeline}), or Sluice SQL in a .sql file")
    .option("--name <name>", "pipeline name (default: the JSON's name field, or the .sql file's name)")
    .option("-m, --message <text>", "version message", "")
    .action(async (o: { team: string; file: string; name?: string; message: string }) => {
      if (o.file.toLowerCase().endsWith(".sql")) {
        // Sluice SQL (docs/sql.md): the graph is built and laid out from the SQL; problems print at their line and column.
        const text = readFileSync(userPath(o.file), "utf8");
        const name = o.name ?? basename(o.file).replace(/\.sql$/i, "");
        try {
          const v = await applySql(await actingFor(o.team), o.team, name, text, o.message);
          io.out(`Saved ${name} version ${v.version} from ${o.file}`);
          for (const l of formatSqlDiagnostics(o.file, text, v.diagnostics)) io.err(l);
        } catch (e) {
          if (e instanceof AppError && Array.isArray(e.details)) {
            for (const l of formatSqlDiagnostics(o.file, text, e.details as SqlDiagnostic[])) io.err(l);
            throw new AppError(e.code, e.message);
          }
          throw e;
        }
        return;
      }
      const doc = JSON.parse(readFileSync(userPath(o.file), "utf8")) as { name?: string; description?: string; pipeline?: unknown };
      const def = doc.pipeline ?? doc;
      const name = o.name ?? doc.name;
      if (!name) throw new AppError("invalid_input", "Give the pipeline a name with --name (or a top-level `name` in the file).");
      const principal = await actingFor(o.team);
      const exists = await requirePipeline(principal, o.team, name, "viewer").then(() => true, (e) => (e instanceof AppError && e.code === "not_found" ? false : Promise.reject(e)));
      if (!exists) await createPipeline(principal, o.team, { name, description: doc.description ?? "" });
      const v = await saveVersion(principal, o.team, name, { pipeline: def, message: o.message });
      io.out(`Saved ${name} version ${v.version}${v.warnings.length ? ` (${v.warnings.length} warning(s))` : ""}`);
      for (const w of v.warnings) io.err(`warning: ${w.nodeId ? `${w.nodeId}: ` : ""}${w.message}`);
    });
  pipeline
    .command("export")
    .description("print a saved version as Flink SQL (CREATE TABLEs for Kafka + a statement set) or as Sluice SQL")
    .requiredOption("--team <slug>", "team")
    .requiredOption("--name <name>", "pipeline")
    .option("--format <format>", "flink-sql | sql", "flink-sql")
    .option("--version <n>", "version (default: latest)", (v) => Number(v))
    .option("--bootstrap-servers <hosts>", "Kafka servers for the Flink tables (default: KAFKA_BROKERS)")
    .option("-o, --output <path>", "write to this file instead of standard output")
    .action(async (o: { team: string; name: string; format: string; version?: number; bootstrapServers?: string; output?: string }) => {
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
    .option("--version <n>", "version (default: latest)", (v) => Number(v))
    .option("--parallelism <n>", "tasks", (v) => Number(v))
    .option("--guarantee <g>", "at_least_once | exactly_once")
    .option("--reset-state", "drop window state that cannot carry over")
    .action(async (o: { team: string; name: string; version?: number; parallelism?: number; guarantee?: "at_least_once" | "exactly_once"; resetState?: boolean }) => {
      const d = await deploy(await actingFor(o.team), o.team, o.name, { version: o.version, parallelism: o.parallelism, deliveryGuarantee: o.guarantee, resetState: !!o.resetState });
      io.out(`Deploying ${o.name} version ${d.version}: ${d.parallelism} task(s), ${d.deliveryGuarantee}`);
    });
  for (const [cmd, fn, verb] of [["stop", stop, "Stopping"], ["resume", resume, "Resuming"]] as const) {
    pipeline
      .command(cmd)
      .description(`${cmd} a deployed pipeline`)
      .requiredOption("--team <slug>", "team")
      .requiredOption("--name <name>", "pipeline")
      .action(async (o: { team: string; name: string }) => {
        await fn(await actingFor(o.team), o.team, o.name);
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
      const s = await pipelineStatus(await actingFor(o.team), o.team, o.name);
      if (o.json) return io.out(JSON.stringify(s, null, 2));
      if (!s.deployed) return io.out(`${s.pipeline}: not deployed`);
      io.out(`${s.pipeline} v${s.version}: ${s.actualState} (desired ${s.desiredState}), ${s.parallelism} task(s), ${s.deliveryGuarantee}, ${s.recordsPerSec} rec/s, lag ${s.consumerLag}`);
      for (const t of s.tasks) io.out(`  task ${t.index}: ${t.state}${t.worker ? ` on ${t.worker}` : ""}, in ${t.recordsIn}, out ${t.recordsOut}, errors ${t.recordsErrored}, lag ${t.consumerLag}`);
      if (s.lastError) io.out(`  last error: ${s.lastError}`);
    });

  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 error, 2 usage). */
export async function runCli(argv: string[], io: CliIO = defaultIO): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof AppError) io.err(`error: ${e.message}`);
    else if (e instanceof ZodError) io.err(`error: ${e.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ")}`);
    else io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (process.argv[1] && /lib[\\/]cli[\\/]main\.ts$/.test(process.argv[1])) {
  loadLocalEnv(process.env.SLUICE_DATA_DIR ?? join(process.cwd(), ".data"));
  process.env.LOG_LEVEL ??= "warn";
  runCli(process.argv.slice(2)).then(async (code) => {
    await Promise.allSettled([disconnectPrisma(), closeKafka(), closeTaskQueue(), closeRedis()]);
    process.exit(code);
  });
}
