import type { Command } from "commander";
import { actingFor, intOption, ownerOf, type Cli } from "../context";

/** `sluice token …`: team API tokens. */
export function register(program: Command, { io }: Cli): void {
  const token = program.command("token").description("manage team API tokens");
  token
    .command("create")
    .description("create a team API token; the secret is printed once")
    .requiredOption("--team <slug>", "team slug")
    .option("--name <name>", "what the token is for", "cli")
    .option("--role <role>", "owner | editor | viewer", "editor")
    .option("--expires-days <days>", "expire after this many days", intOption)
    .action(async (o: { team: string; name: string; role: "owner" | "editor" | "viewer"; expiresDays?: number }) => {
      const { createToken } = await import("@/lib/tokens/tokens");
      const t = await createToken(await ownerOf(o.team), o.team, { name: o.name, role: o.role, expiresInDays: o.expiresDays });
      io.out(t.token);
      io.err(`Token "${t.name}" (${t.role}) for team ${o.team}. Store it now: it is not shown again.`);
    });
  token
    .command("list")
    .description("list a team's API tokens: role, creator, last use and whether each still works")
    .requiredOption("--team <slug>", "team slug")
    .action(async (o: { team: string }) => {
      const { listTokens } = await import("@/lib/tokens/tokens");
      const tokens = await listTokens(await actingFor(o.team), o.team);
      if (!tokens.length) io.out(`No API tokens in ${o.team}: create one with \`sluice token create --team ${o.team}\`.`);
      const when = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace("T", " ") : "never");
      for (const t of tokens) {
        const state = t.state === "revoked" && t.revokedReason ? `revoked (${t.revokedReason})` : t.state;
        io.out([t.name, `${t.prefix}…`, t.role, `created by ${t.createdBy?.email ?? "a deleted account"} ${when(t.createdAt)}`, `last used ${when(t.lastUsedAt)}`, state].join("\t"));
      }
    });
}
