import type { Metadata } from "next";
import { CreateTeamForm } from "@/components/teams/create-team-form";
import { Logo } from "@/components/ui/logo";
import { requirePageUser } from "@/lib/auth/server-session";

export const metadata: Metadata = { title: "Create your team" };
export const dynamic = "force-dynamic";

export default async function OnboardingPage() {
  const user = await requirePageUser();
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-12">
      <div className="w-full max-w-md">
        <div className="mb-6 flex items-center gap-3">
          <Logo className="h-9 w-9" />
          <div>
            <h1 className="text-xl font-semibold">Welcome, {user.name}</h1>
            <p className="text-sm text-slate-600">Pipelines and streams belong to teams. Create yours to start.</p>
          </div>
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
          <CreateTeamForm />
        </div>
        <p className="mt-4 text-center text-xs text-slate-500">Joining an existing team instead? Ask one of its owners to add {user.email}.</p>
      </div>
    </main>
  );
}
