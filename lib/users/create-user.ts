import { z } from "zod";
import { auth, USER_NAME_MAX } from "@/lib/auth/better-auth";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "@/lib/auth/password-policy";
import { displayName } from "@/lib/validation/display-name";
import { AppError } from "@/lib/errors";

export const createUserInput = z.object({
  email: z.email(),
  name: displayName(1, USER_NAME_MAX),
  // The rest of the password rule (not common, not easily guessed) is checked where every sign-up is: better-auth.ts.
  password: z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(MAX_PASSWORD_LENGTH),
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
