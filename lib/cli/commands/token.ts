import type { Command } from "commander";
import { intOption, ownerOf, type Cli } from "../context";

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
}
