import type { Metadata } from "next";
import { AlertsView } from "@/components/alerts/alerts-view";
import { PageHeader } from "@/components/ui/page-header";
import { deliveryLog, listInbox } from "@/lib/alerts/inbox";
import { listChannels, listRules } from "@/lib/alerts/rules";
import { roleAtLeast } from "@/lib/auth/roles";
import { requirePageUser } from "@/lib/auth/server-session";
import { listPipelines } from "@/lib/pipelines/pipelines";
import { getTeam } from "@/lib/teams/teams";
import { listStreams } from "@/lib/warehouse/streams";

export const metadata: Metadata = { title: "Alerts" };
export const dynamic = "force-dynamic";

export default async function AlertsPage({ params, searchParams }: { params: Promise<{ team: string }>; searchParams: Promise<{ tab?: string; pipeline?: string }> }) {
  const { team } = await params;
  const { tab, pipeline } = await searchParams;
  const user = await requirePageUser();
  const [{ role }, rules, channels, inbox, deliveries, pipelines, streams] = await Promise.all([
    getTeam(user, team),
    listRules(user, team),
    listChannels(user, team),
    listInbox(user, team),
    deliveryLog(user, team),
    listPipelines(user, team),
    listStreams(user, team),
  ]);
  const initialTab = tab === "rules" ? "Rules" : tab === "channels" ? "Channels" : tab === "deliveries" ? "Delivery log" : "Inbox";
  return (
    <>
      <PageHeader title="Alerts" description="Rules on the team's pipelines and streams, evaluated every 10 seconds; firings and resolutions go to this inbox and to the webhook or e-mail channels a rule names." />
      <AlertsView
        team={team}
        canEdit={roleAtLeast(role, "editor")}
        pipelines={pipelines.map((p) => p.name)}
        streams={streams.filter((s) => s.access === "owner" || s.access === "read").map((s) => s.name)}
        initial={JSON.parse(JSON.stringify({ rules, channels, inbox, deliveries }))}
        initialTab={initialTab}
        preset={{ pipeline }}
      />
    </>
  );
}
