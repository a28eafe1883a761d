import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
/** zxcvbn's "safely unguessable" level: at least ~10^8 guesses even for an attacker who knows common patterns. */
const MIN_SCORE = 3;

/** What makes a password acceptable, as the sign-up form and every refusal say it. */
export const PASSWORD_RULE = `${MIN_PASSWORD_LENGTH}–${MAX_PASSWORD_LENGTH} characters, and not a common or easily guessed password (a few unrelated words work well)`;

/**
 * zxcvbn-ts (maintained TypeScript zxcvbn) with its shipped lists — about 30,000
 * common passwords, names and frequent words — plus its detection of keyboard
 * patterns, sequences, repeats, dates and l33t spellings, all offline.
 */
let estimator: ZxcvbnFactory | undefined;
const zxcvbn = () =>
  (estimator ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations }));

/** Why a new password is refused, or undefined when it is acceptable. `related` are the account's own email and name. */
export function passwordProblem(password: unknown, related: string[] = []): string | undefined {
  if (typeof password !== "string") return undefined; // better-auth refuses the body itself
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) return `A password needs ${PASSWORD_RULE}.`;
  // The whole email, its local part, and each word of them and of the name.
  const inputs = related.flatMap((r) => [r, r.split("@")[0], ...r.split(/[@.\s_-]+/)]).filter((r) => r.length >= 3);
  const result = zxcvbn().check(password, inputs);
  if (result.score >= MIN_SCORE) return undefined;
  const why = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(" ");
  return `This password is too easy to guess${why ? `: ${why}` : "."} A password needs ${PASSWORD_RULE}.`;
}
