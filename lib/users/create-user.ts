import { z } from "zod";
import { auth } from "@/lib/auth/better-auth";
import { AppError } from "@/lib/errors";

export const createUserInput = z.object({
  email: z.email(),
  name: z.string().trim().min(1).max(80),
  password: z.string().min(10, "must be at least 10 characters").max(128),
});

/** Creates an email/password account through the same code path as the sign-up page. */
export async function createUser(raw: z.input<typeof createUserInput>): Promise<{ id: string; email: string; name: string }> {
  const input = createUserInput.parse(raw);
  try {
    const res = await auth().api.signUpEmail({ body: { email: input.email.toLowerCase(), name: input.name, password: input.password } });
    return { id: res.user.id, email: res.user.email, name: res.user.name };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/exist/i.test(message)) throw new AppError("conflict", `An account with ${input.email} already exists.`);
    throw new AppError("invalid_input", message);
  }
}
