"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Logo } from "@/components/ui/logo";
import { requestNavigation } from "@/components/ui/navigation-guard";

const NAV = [
  { href: "pipelines", label: "Pipelines", icon: "M4 6h6v4H4zM14 14h6v4h-6zM10 8h4v8" },
  { href: "streams", label: "Streams", icon: "M3 8c3 0 3-2 6-2s3 2 6 2 3-2 6-2M3 14c3 0 3-2 6-2s3 2 6 2 3-2 6-2" },
  { href: "monitor", label: "Monitor", icon: "M3 12h4l3-8 4 16 3-8h4" },
  { href: "alerts", label: "Alerts", icon: "M6 16V11a6 6 0 1 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0" },
  { href: "lineage", label: "Lineage", icon: "M5 6a2 2 0 1 0 0 .01M19 12a2 2 0 1 0 0 .01M5 18a2 2 0 1 0 0 .01M7 6l10 5M7 18l10-5" },
  { href: "functions", label: "Functions", icon: "M9 4c-2 0-2 2-2 4s-2 4-2 4 2 0 2 4 0 4 2 4M15 4c2 0 2 2 2 4s2 4 2 4-2 0-2 4 0 4-2 4" },
  { href: "teams", label: "Teams", icon: "M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 20c0-3 3-5 6-5s6 2 6 5M16 11a3 3 0 1 0 0-6M18 15c2 .5 4 2 4 5" },
  { href: "settings", label: "Settings", icon: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .5-1.5-1.5.5-2-3-1-1 2h-2l-1-2-3 1 .5 2L6 7.5 4 7 3 10l2 1v2l-2 1 1 3 2-.5 1.5 1.5-.5 2 3 1 1-2h2l1 2 3-1-.5-2 1.5-1.5 2 .5 1-3-2-1z" },
] as const;

export interface SidebarTeam {
  slug: string;
  name: string;
  role: string;
}

/** The inbox badge is re-read this often (a layout is not re-rendered on client navigation). */
const INBOX_POLL_MS = 10_000;

/** Unread alert notifications of the team, kept current while the page is open. */
function useUnreadAlerts(team: string, initial: number): number {
  const [unread, setUnread] = useState(initial);
  useEffect(() => setUnread(initial), [initial]);
  useEffect(() => {
    const read = () => fetch(`/api/v1/teams/${team}/alerts/inbox?limit=1`).then(async (r) => (r.ok ? setUnread((await r.json()).unread) : undefined)).catch(() => {});
    const t = setInterval(() => !document.hidden && void read(), INBOX_POLL_MS);
    window.addEventListener("sluice:inbox-seen", read);
    return () => {
      clearInterval(t);
      window.removeEventListener("sluice:inbox-seen", read);
    };
  }, [team]);
  return unread;
}

export function Sidebar({ team, teams, user, pendingRequests = 0, unreadAlerts = 0 }: { team: SidebarTeam; teams: SidebarTeam[]; user: { name: string; email: string }; pendingRequests?: number; unreadAlerts?: number }) {
  const pathname = usePathname();
  const router = useRouter();
  const unread = useUnreadAlerts(team.slug, unreadAlerts);
  async function signOut() {
    await fetch("/api/auth/sign-out", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    router.push("/sign-in");
    router.refresh();
  }
  return (
    <aside className="flex w-60 shrink-0 flex-col border-r border-slate-200 bg-white">
      <div className="flex items-center gap-2 px-4 py-4">
        <Logo />
        <span className="text-lg font-semibold tracking-tight">Sluice</span>
      </div>
      <div className="px-3 pb-3">
        <label htmlFor="team-switcher" className="sr-only">Team</label>
        <select
          id="team-switcher"
          aria-label="Switch team"
          value={team.slug}
          onChange={(e) => {
            const to = e.target.value === "__new" ? "/onboarding" : `/t/${e.target.value}/pipelines`;
            if (requestNavigation(to)) router.push(to);
          }}
          className="w-full rounded-md border border-slate-300 bg-slate-50 px-2 py-1.5 text-sm font-medium"
        >
          {teams.map((t) => (
            <option key={t.slug} value={t.slug}>{t.name}</option>
          ))}
          <option value="__new">+ Create team…</option>
        </select>
        <p className="mt-1 px-1 text-xs text-slate-500">You are {team.role === "owner" ? "an owner" : team.role === "editor" ? "an editor" : "a viewer"}</p>
      </div>
      <nav aria-label="Main" className="flex-1 space-y-0.5 px-2">
        {NAV.map((item) => {
          const href = `/t/${team.slug}/${item.href}`;
          const active = pathname?.startsWith(href);
          return (
            <Link key={item.href} href={href} aria-current={active ? "page" : undefined} className={`flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium ${active ? "bg-brand-50 text-brand-700" : "text-slate-700 hover:bg-slate-100"}`}>
              <svg viewBox="0 0 24 24" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true"><path d={item.icon} /></svg>
              {item.label}
              {item.href === "streams" && pendingRequests > 0 ? (
                <span className="ml-auto rounded-full bg-amber-500 px-1.5 text-xs font-semibold text-white" title={`${pendingRequests} access request(s) waiting for your team`}>
                  {pendingRequests}
                </span>
              ) : null}
              {item.href === "alerts" && unread > 0 ? (
                <span data-testid="inbox-badge" className="ml-auto rounded-full bg-red-600 px-1.5 text-xs font-semibold text-white" title={`${unread} unread alert notification(s)`}>
                  {unread}
                </span>
              ) : null}
            </Link>
          );
        })}
      </nav>
      <div className="border-t border-slate-200 px-4 py-3">
        <p className="truncate text-sm font-medium">{user.name}</p>
        <p className="truncate text-xs text-slate-500">{user.email}</p>
        <button onClick={signOut} className="mt-2 text-xs font-medium text-slate-600 hover:text-slate-900">Sign out</button>
      </div>
    </aside>
  );
}
