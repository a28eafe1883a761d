import { InvalidArgumentError } from "commander";
import { resolve } from "node:path";
import type { Principal } from "@/lib/auth/principal";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";

/** Where a command writes and reads: the process's streams, or buffers in tests. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** All of standard input as text (small inputs: passwords, short JSON). */
  readStdin: () => Promise<string>;
  /** Standard input as a byte stream (large inputs: `stream produce`). Defaults to `readStdin`'s text. */
  stdinStream?: () => AsyncIterable<Uint8Array>;
}

export const processIO: CliIO = {
  out: (l) => process.stdout.write(l + "\n"),
  err: (l) => process.stderr.write(l + "\n"),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  stdinStream: () => process.stdin,
};

/** Standard input as bytes, from whichever the IO offers. */
export async function* stdinBytes(io: CliIO): AsyncIterable<Uint8Array> {
  if (io.stdinStream) yield* io.stdinStream();
  else yield Buffer.from(await io.readStdin(), "utf8");
}

/** Paths the user typed are relative to where they typed them (bin/sluice.mjs runs the CLI there, also under `npm run`). */
export const userPath = (p: string) => resolve(process.cwd(), p);

/**
 * A command's context: its IO. Command modules take it in `register`, and
 * import the domain modules an action needs inside the action, so `--help`
 * and a quick command do not load the whole platform (seconds on a busy machine).
 */
export interface Cli {
  io: CliIO;
}

export async function principalFor(email: string): Promise<Principal> {
  const user = await prisma().user.findUnique({ where: { email: email.toLowerCase() } });
  if (!user) throw new AppError("not_found", `No user with email ${email}: create one with \`sluice user create\`.`);
  return { kind: "user", userId: user.id, email: user.email, name: user.name };
}

/**
 * Who the CLI acts as for team commands: the API token in SLUICE_TOKEN when
 * set (same rights as over the API), otherwise the team's earliest owner (the
 * CLI then runs with database access, i.e. as an administrator).
 */
export async function actingFor(teamSlug: string): Promise<Principal> {
  const token = process.env.SLUICE_TOKEN;
  // Loaded only when needed: the auth module (better-auth) is the slowest import of all.
  if (token) return (await import("@/lib/auth/principal")).authenticate(new Headers({ authorization: `Bearer ${token}` }));
  return ownerOf(teamSlug);
}

/** Acts as the team's earliest owner (the CLI has database access, i.e. admin rights). */
export async function ownerOf(teamSlug: string): Promise<Principal> {
  const m = await prisma().membership.findFirst({ where: { team: { slug: teamSlug }, role: "owner" }, include: { user: true }, orderBy: { createdAt: "asc" } });
  if (!m) throw new AppError("not_found", `No team "${teamSlug}" (or it has no owner). List teams with \`sluice team list\`.`);
  return { kind: "user", userId: m.user.id, email: m.user.email, name: m.user.name };
}

/** Parses a whole-number option value (commander hands options over as text); anything else is a usage error. */
export function intOption(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n)) throw new InvalidArgumentError("expected a whole number.");
  return n;
}
