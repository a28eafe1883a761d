import Link from "next/link";

/** What a page shows when there is nothing yet: what this is for and the next step. */
export function EmptyState({ title, children, action }: { title: string; children: React.ReactNode; action?: { href: string; label: string } }) {
  return (
    <div className="rounded-xl border border-dashed border-slate-300 bg-white px-8 py-14 text-center">
      <h2 className="text-lg font-semibold text-slate-900">{title}</h2>
      <div className="mx-auto mt-2 max-w-xl text-sm leading-6 text-slate-600">{children}</div>
      {action ? (
        <Link href={action.href} className="mt-6 inline-flex rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white hover:bg-brand-700">
          {action.label}
        </Link>
      ) : null}
    </div>
  );
}
