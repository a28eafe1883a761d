import type { Command } from "commander";
import { prisma } from "@/lib/db/prisma";
import { principalFor, type Cli } from "../context";

/** `sluice team …`: teams. */
export function register(program: Command, { io }: Cli): void {
  const team = program.command("team").description("manage teams");
  team
    .command("create")
    .description("create a team owned by an existing user")
    .requiredOption("--name <name>", "team name")
    .requiredOption("--owner <email>", "email of the user who will own the team")
    .option("--slug <slug>", "URL name (default: derived from the name)")
    .action(async (o: { name: string; owner: string; slug?: string }) => {
      const { createTeam } = await import("@/lib/teams/teams");
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
}
