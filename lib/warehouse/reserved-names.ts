import { PLATFORM_TOPIC_PREFIXES } from "@/lib/runtime/naming";

/**
 * Kafka refuses a topic whose name differs from an existing one only by '.'
 * versus '_' (both become '_' in its metric names), so `dlq_ads_clicks` would
 * block the platform from ever creating `dlq.ads.clicks` on a real cluster:
 * names are compared with '_' read as '.'.
 */
const collisionForm = (name: string) => name.replace(/_/g, ".");

/** The reserved prefix a stream name falls under, if any (see PLATFORM_TOPIC_PREFIXES). */
export function reservedPrefixOf(name: string): (typeof PLATFORM_TOPIC_PREFIXES)[number] | undefined {
  const n = collisionForm(name);
  return PLATFORM_TOPIC_PREFIXES.find((p) => n.startsWith(collisionForm(p.prefix)));
}

/** Why a team may not create a stream with this name, or undefined when it may. */
export function reservedNameProblem(name: string): string | undefined {
  const reserved = reservedPrefixOf(name);
  if (!reserved) return undefined;
  return `names starting with "${reserved.prefix}"${reserved.prefix.includes(".") ? ` (or "${reserved.prefix.replace(/\./g, "_")}")` : ""} are reserved for ${reserved.holds}, which the platform creates itself: choose another name`;
}
