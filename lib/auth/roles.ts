import type { Role } from "@prisma/client";

const rank: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

/** True when `role` grants at least what `needed` grants (owner ⊇ editor ⊇ viewer). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

export const ROLES: readonly Role[] = ["owner", "editor", "viewer"];
