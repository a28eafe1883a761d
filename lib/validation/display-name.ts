import { z } from "zod";

/**
 * Characters that change how the text around them displays without showing
 * themselves, or look like nothing at all: controls (newlines, tabs, C1),
 * format characters (bidi overrides, isolates and marks, zero-width spaces and
 * joiners, the BOM, soft hyphens), line/paragraph separators, private-use and
 * surrogate code points, spaces other than U+0020, and the blank "letters"
 * (Hangul fillers, braille blank) used to fake empty or look-alike names.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u115f\u1160\u3164\uffa0\u2800]/u;

/**
 * A name people read in lists and audit logs (team names, user names, token
 * names): NFC-normalised, trimmed, between `min` and `max` characters, and free
 * of HIDDEN characters, so one name cannot pass for another or reorder what is
 * shown around it.
 */
export function displayName(min: number, max: number) {
  return z
    .string()
    .transform((s) => s.normalize("NFC").trim())
    .pipe(
      z
        .string()
        .min(min, `must be at least ${min} character${min === 1 ? "" : "s"}`)
        .max(max, `must be at most ${max} characters`)
        .refine((s) => !HIDDEN.test(s), "must not contain control, formatting or invisible characters (such as line breaks, right-to-left overrides or zero-width spaces)"),
    );
}

/** The first problem with a display name, or undefined (for callers outside zod, e.g. better-auth hooks). */
export function displayNameProblem(value: unknown, min: number, max: number): string | undefined {
  const r = displayName(min, max).safeParse(value);
  return r.success ? undefined : r.error.issues[0]?.message;
}
