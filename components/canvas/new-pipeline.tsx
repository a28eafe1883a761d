"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/ui/api";

export function NewPipeline({ team }: { team: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      action={async (form) => {
        setError(null);
        try {
          const p = await apiFetch<{ name: string }>(`/api/v1/teams/${team}/pipelines`, { body: { name: String(form.get("name")) } });
          router.push(`/t/${team}/pipelines/${p.name}`);
        } catch (e) {
          setError(e instanceof Error ? e.message : String(e));
        }
      }}
      className="flex items-start gap-2"
    >
      <div>
        <input name="name" aria-label="New pipeline name" required placeholder="clicks-cleaning" className="rounded-md border border-slate-300 px-3 py-2 font-mono text-sm" />
        {error ? <p role="alert" className="mt-1 max-w-xs text-xs text-red-700">{error}</p> : null}
      </div>
      <button className="rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700">New pipeline</button>
    </form>
  );
}
