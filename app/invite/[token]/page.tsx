import type { Metadata } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import { AcceptInvitation } from "@/components/invite/accept-button";
import { Logo } from "@/components/ui/logo";
import { authenticate } from "@/lib/auth/principal";
import { AppError } from "@/lib/errors";
import { describeInvitation } from "@/lib/teams/invitations";

export const metadata: Metadata = { title: "Invitation" };
export const dynamic = "force-dynamic";

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const invitation = await describeInvitation(token).catch((e) => (e instanceof AppError ? e.message : Promise.reject(e)));
  const me = await authenticate(await headers()).catch(() => null);
  const next = encodeURIComponent(`/invite/${token}`);
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-12">
      <div className="w-full max-w-md rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
        <Logo className="mb-4 h-9 w-9" />
        {typeof invitation === "string" ? (
          <p className="text-sm text-slate-700">{invitation}</p>
        ) : (
          <>
            <h1 className="text-xl font-semibold">Join {invitation.teamName}</h1>
            <p className="mt-1 text-sm text-slate-600">
              {invitation.email} is invited as {invitation.role === "owner" ? "an owner" : invitation.role === "editor" ? "an editor" : "a viewer"}.
            </p>
            <div className="mt-5">
              {me?.kind === "user" ? (
                me.email.toLowerCase() === invitation.email ? (
                  <AcceptInvitation token={token} />
                ) : (
                  <p className="text-sm text-red-700">You are signed in as {me.email}. Sign out and sign in as {invitation.email} to accept.</p>
                )
              ) : (
                <div className="flex gap-3 text-sm">
                  <Link className="rounded-md bg-brand-600 px-4 py-2 font-semibold text-white" href={`/sign-up?next=${next}`}>Create an account</Link>
                  <Link className="rounded-md border border-slate-300 px-4 py-2" href={`/sign-in?next=${next}`}>Sign in</Link>
                </div>
              )}
            </div>
          </>
        )}
      </div>
    </main>
  );
}
