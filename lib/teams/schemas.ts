import { z } from "zod";
import { displayName } from "@/lib/validation/display-name";

export const teamSlug = z
  .string()
  .min(2)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "use lowercase letters, digits and dashes (e.g. ads-analytics)");

export const createTeamInput = z.object({
  name: displayName(2, 80),
  slug: teamSlug.optional(),
});
export type CreateTeamInput = z.infer<typeof createTeamInput>;

export const roleInput = z.enum(["owner", "editor", "viewer"]);

export const addMemberInput = z.object({
  email: z.email(),
  role: roleInput.default("viewer"),
});

export const changeRoleInput = z.object({ role: roleInput });

/** "Ads Analytics!" → "ads-analytics" */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
}
