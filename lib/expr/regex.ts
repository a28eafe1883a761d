import { RE2JS } from "re2js";
import { EvalError } from "./errors";

/**
 * User regexes run on RE2 semantics (re2js): matching time is linear in the
 * input, so a pattern like `(a+)+$` cannot stall a worker. Patterns compile
 * once and are cached; the cache is bounded because patterns built from record
 * values would otherwise grow it without limit.
 */
const MAX_CACHED = 256;
const cache = new Map<string, RE2JS>();

/** Returns an error message when the pattern is not valid RE2 syntax. */
export function checkRegex(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    return `invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`;
  }
}

export function regex(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new EvalError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, re);
  return re;
}

/** CEL `matches`: true when the pattern matches any substring (RE2 "find"). */
export function regexFind(s: string, pattern: string): boolean {
  return regex(pattern).matcher(s).find();
}

/** First capture group of the first match, or the whole match when the pattern has no group; null when no match. */
export function regexExtract(s: string, pattern: string): string | null {
  const m = regex(pattern).matcher(s);
  if (!m.find()) return null;
  return m.groupCount() >= 1 ? (m.group(1) ?? null) : m.group();
}

export function regexReplaceAll(s: string, pattern: string, replacement: string): string {
  return regex(pattern).matcher(s).replaceAll(replacement);
}
