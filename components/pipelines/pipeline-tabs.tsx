import Link from "next/link";

/** Editor | Monitor: the two faces of a pipeline's page. */
export function PipelineTabs({ team, pipeline, active }: { team: string; pipeline: string; active: "editor" | "monitor" }) {
  const tab = (key: "editor" | "monitor", href: string, label: string) => (
    <Link
      href={href}
      role="tab"
      aria-selected={active === key}
      className={`rounded-md px-3 py-1.5 text-sm font-medium ${active === key ? "bg-brand-50 text-brand-700" : "text-slate-600 hover:bg-slate-100"}`}
    >
      {label}
    </Link>
  );
  return (
    <nav role="tablist" aria-label="Pipeline views" className="inline-flex gap-1">
      {tab("editor", `/t/${team}/pipelines/${pipeline}`, "Editor")}
      {tab("monitor", `/t/${team}/pipelines/${pipeline}/monitor`, "Monitor")}
    </nav>
  );
}
