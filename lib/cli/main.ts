/**
 * The `sluice` command line. It talks to the database directly with the same
 * domain functions as the REST API (so the same validation and audit apply).
 * Connection settings come from the environment, or from .data/sluice.env
 * that `npm start` writes.
 */
import { Command, CommanderError } from "commander";
import { join } from "node:path";
import { ZodError } from "zod";
import type { Principal } from "@/lib/auth/principal";
import { prisma, disconnectPrisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { loadLocalEnv } from "@/lib/env/local";
import { createTeam } from "@/lib/teams/teams";
import { createToken } from "@/lib/tokens/tokens";
import { createUser } from "@/lib/users/create-user";

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

/** Acts as the team's earliest owner (the CLI has database access, i.e. admin rights). */
async function ownerOf(teamSlug: string): Promise<Principal> {
  const m = await prisma().membership.findFirst({ where: { team: { slug: teamSlug }, role: "owner" }, include: { user: true }, orderBy: { createdAt: "asc" } });
  if (!m) throw new AppError("not_found", `No team "${teamSlug}" (or it has no owner). List teams with \`sluice team list\`.`);
  return { kind: "user", userId: m.user.id, email: m.user.email, name: m.user.name };
}

export function buildProgram(io: CliIO = defaultIO): Command {
  const program = new Command("sluice")
    .description("Sluice command line: manage users, teams and API tokens")
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
    await disconnectPrisma();
    process.exit(code);
  });
}
