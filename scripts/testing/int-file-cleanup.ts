import { afterAll } from "vitest";

/**
 * Integration test files share one Postgres, one task queue and one broker. A
 * file whose test failed or timed out can leave deployments running; their
 * task jobs stay queued and the next file's workers would run them beside
 * that file's own pipelines (extra load, slot use), so one failure cascaded
 * into unrelated files. After each file (this hook runs after the file's own
 * afterAll, which kills its workers), every deployment still meant to run is
 * marked stopped: a worker that picks up one of its jobs sees that and ends it.
 */
afterAll(async () => {
  if (!process.env.DATABASE_URL) return;
  const { prisma } = await import("@/lib/db/prisma");
  const left = await prisma().deployment.findMany({ where: { desiredState: "running" }, select: { id: true, pipeline: { select: { name: true } } } });
  if (!left.length) return;
  console.warn(`int-file-cleanup: stopping ${left.length} deployment(s) the file left running: ${left.map((d) => d.pipeline.name).join(", ")}`);
  await prisma().deployment.updateMany({ where: { id: { in: left.map((d) => d.id) } }, data: { desiredState: "stopped", actualState: "stopped" } });
});
