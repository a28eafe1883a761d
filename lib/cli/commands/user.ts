import type { Command } from "commander";
import { AppError } from "@/lib/errors";
import type { Cli } from "../context";

/** `sluice user …`: accounts. */
export function register(program: Command, { io }: Cli): void {
  const user = program.command("user").description("manage user accounts");
  user
    .command("create")
    .description("create an email + password account")
    .requiredOption("--email <email>", "sign-in email")
    .requiredOption("--name <name>", "display name")
    // The rule as lib/auth/password-policy.ts's PASSWORD_RULE says it (not imported: the CLI loads commands lazily).
    .option("--password <password>", "password: 10–128 characters, not a common or easily guessed one; prefer --password-stdin")
    .option("--password-stdin", "read the password from standard input")
    .action(async (o: { email: string; name: string; password?: string; passwordStdin?: boolean }) => {
      const password = o.passwordStdin ? (await io.readStdin()).replace(/\r?\n$/, "") : o.password;
      if (!password) throw new AppError("invalid_input", "Give a password with --password-stdin (or --password).");
      const { createUser } = await import("@/lib/users/create-user");
      const u = await createUser({ email: o.email, name: o.name, password });
      io.out(`Created user ${u.email} (${u.id})`);
    });
}
