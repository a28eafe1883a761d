"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useAction } from "@/components/ui/use-action";

type Mode = "sign-in" | "sign-up";

/** Sign-in and sign-up against better-auth's endpoints; shows the server's reason when it says no. */
export function AuthForm({ mode }: { mode: Mode }) {
  const router = useRouter();
  // Only same-site paths: an open redirect to another host would help phishing.
  const nextParam = useSearchParams().get("next");
  const next = nextParam && nextParam.startsWith("/") && !nextParam.startsWith("//") ? nextParam : "/";
  const { busy: pending, error, run } = useAction({ staysBusyOnSuccess: true });

  const submit = (form: FormData) =>
    run(async () => {
      const body =
        mode === "sign-up"
          ? { name: String(form.get("name")), email: String(form.get("email")), password: String(form.get("password")) }
          : { email: String(form.get("email")), password: String(form.get("password")) };
      const res = await fetch(`/api/auth/${mode}/email`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const data = (await res.json().catch(() => null)) as { message?: string } | null;
      // The per-account limit says how long to wait; the per-address one says nothing.
      if (res.status === 429) throw new Error(data?.message ?? "Too many attempts from here. Wait a minute, then try again.");
      if (!res.ok) throw new Error(data?.message ?? "That did not work; try again.");
      router.push(next);
      router.refresh();
    });

  return (
    <form action={submit} className="space-y-4" noValidate={false}>
      {mode === "sign-up" ? (
        <Field label="Your name" name="name" type="text" autoComplete="name" required minLength={1} />
      ) : null}
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete={mode === "sign-up" ? "new-password" : "current-password"}
        required
        minLength={mode === "sign-up" ? 10 : 1}
        hint={mode === "sign-up" ? "10 or more characters, and not a common or easily guessed password — a few unrelated words work well." : undefined}
      />
      {error ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={pending} className="w-full rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700 disabled:opacity-60">
        {pending ? "Please wait…" : mode === "sign-up" ? "Create account" : "Sign in"}
      </button>
      <p className="text-center text-sm text-slate-600">
        {mode === "sign-up" ? (
          <>Already have an account? <Link className="font-medium text-brand-700 hover:underline" href="/sign-in">Sign in</Link></>
        ) : (
          <>New to Sluice? <Link className="font-medium text-brand-700 hover:underline" href="/sign-up">Create an account</Link></>
        )}
      </p>
    </form>
  );
}

function Field({ label, hint, ...input }: { label: string; hint?: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label className="block">
      <span className="text-sm font-medium text-slate-700">{label}</span>
      <input {...input} className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100" />
      {hint ? <span className="mt-1 block text-xs text-slate-500">{hint}</span> : null}
    </label>
  );
}
