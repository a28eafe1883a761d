import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { AppError } from "@/lib/errors";
import { authenticate, type Principal } from "./principal";

/** For server components and server actions: the signed-in user, or a redirect to sign-in. */
export async function requirePageUser(): Promise<Extract<Principal, { kind: "user" }>> {
  try {
    const p = await authenticate(await headers());
    if (p.kind === "user") return p;
  } catch (e) {
    if (!(e instanceof AppError && e.code === "unauthenticated")) throw e;
  }
  redirect("/sign-in");
}
