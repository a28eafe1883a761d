import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { checkFunctionVersion, functionVersionInput, nextFunctionVersion, type FunctionVersionInput } from "@/lib/udf";

/**
 * The team's function registry (UDFs). Saving a function validates its source
 * (it must compile in the sandbox) and creates an immutable new version unless
 * the source and form are unchanged; deployments pin the version they resolved.
 */
export async function saveFunction(principal: Principal, teamSlug: string, raw: FunctionVersionInput) {
  const input = functionVersionInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const diagnostics = checkFunctionVersion(input);
  if (diagnostics.some((d) => d.severity === "error")) {
    throw new AppError("invalid_input", `Function "${input.name}" does not compile: ${diagnostics[0].message}`, diagnostics.map((d) => ({ path: ["source"], message: d.message })));
  }
  return prisma().$transaction(async (tx) => {
    const fn = await tx.function.upsert({
      where: { teamId_name: { teamId: team.id, name: input.name } },
      create: { teamId: team.id, name: input.name, description: input.description ?? "" },
      update: input.description !== undefined ? { description: input.description } : {},
      include: { versions: true },
    });
    const next = nextFunctionVersion(fn.versions, input);
    if (next === null) {
      const latest = fn.versions.reduce((a, b) => (b.version > a.version ? b : a));
      return { name: fn.name, version: latest.version, created: false };
    }
    await tx.functionVersion.create({ data: { functionId: fn.id, version: next, form: input.form, source: input.source, authorId: actorUserId(principal) } });
    await recordAudit(principal, { teamId: team.id, action: "function.version", entityType: "function", entityId: fn.id, details: { name: fn.name, version: next } }, tx);
    return { name: fn.name, version: next, created: true };
  });
}

export async function listFunctions(principal: Principal, teamSlug: string) {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().function.findMany({ where: { teamId: team.id }, include: { versions: { orderBy: { version: "desc" } } }, orderBy: { name: "asc" } });
  return rows.map((f) => ({ name: f.name, description: f.description, latestVersion: f.versions[0]?.version ?? null, form: f.versions[0]?.form ?? null, versions: f.versions.length }));
}

export async function getFunction(principal: Principal, teamSlug: string, name: string, version?: number) {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const f = await prisma().function.findUnique({ where: { teamId_name: { teamId: team.id, name } }, include: { versions: { orderBy: { version: "desc" } } } });
  const v = version ? f?.versions.find((x) => x.version === version) : f?.versions[0];
  if (!f || !v) throw notFound(`Function "${name}"${version ? ` version ${version}` : ""}`);
  return { name: f.name, description: f.description, version: v.version, form: v.form, source: v.source, createdAt: v.createdAt, versions: f.versions.map((x) => x.version) };
}
