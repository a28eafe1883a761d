import type { Metadata } from "next";
import { FleetView } from "@/components/monitor/fleet-view";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageUser } from "@/lib/auth/server-session";
import { fleetOverview } from "@/lib/monitor/fleet";

export const metadata: Metadata = { title: "Monitor" };
export const dynamic = "force-dynamic";

export default async function FleetPage({ params }: { params: Promise<{ team: string }> }) {
  const { team } = await params;
  const user = await requirePageUser();
  const fleet = await fleetOverview(user, team);
  return (
    <>
      <PageHeader title="Monitor" description="Every pipeline of the team at a glance, and the worker processes that run them. Open a pipeline for its charts and reconciliation." />
      <FleetView team={team} initial={JSON.parse(JSON.stringify(fleet))} />
    </>
  );
}
