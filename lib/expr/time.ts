import { EvalError } from "./errors";

/**
 * Timestamps are epoch milliseconds and durations are milliseconds at run time
 * (records carry them as JSON numbers). Parsing and formatting follow CEL's
 * textual forms: RFC 3339 timestamps and Go-style durations ("1h30m", "1.5s").
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const DURATION_PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g;

export function parseDuration(text: string): number {
  if (text === "0") return 0;
  if (!DURATION_RE.test(text)) throw new EvalError(`invalid duration ${JSON.stringify(text)} (expected e.g. "90s", "1h30m", "250ms")`);
  let total = 0;
  for (const m of text.matchAll(DURATION_PART_RE)) total += Number(m[1]) * UNIT_MS[m[2]];
  return text.startsWith("-") ? -total : total;
}

export function formatDuration(ms: number): string {
  return `${ms / 1000}s`;
}

// RFC 3339 only: Date.parse accepts many locale formats we do not want to promise.
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(text: string): number {
  if (!RFC3339_RE.test(text)) throw new EvalError(`invalid timestamp ${JSON.stringify(text)} (expected RFC 3339, e.g. "2024-05-01T12:00:00Z")`);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new EvalError(`invalid timestamp ${JSON.stringify(text)}`);
  return ms;
}

export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new EvalError(`timestamp out of range: ${ms}`);
  return d.toISOString();
}

const OFFSET_RE = /^([+-])(\d{2}):(\d{2})$/;
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of a time zone ("+08:00", "UTC", "Asia/Shanghai") at an instant, in ms. */
export function zoneOffsetMs(zone: string, at: number): number {
  if (zone === "UTC" || zone === "Z") return 0;
  const m = OFFSET_RE.exec(zone);
  if (m) return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  let f = zoneFormatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new EvalError(`unknown time zone ${JSON.stringify(zone)}`);
    }
    zoneFormatters.set(zone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(at))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUtc - (at - (at % 1000));
}

/** Calendar fields of a timestamp in a zone, CEL-style (month and day-of-month are 0-based). */
export function calendarField(ms: number, field: string, zone?: string): number {
  const d = new Date(zone ? ms + zoneOffsetMs(zone, ms) : ms);
  switch (field) {
    case "getFullYear":
      return d.getUTCFullYear();
    case "getMonth":
      return d.getUTCMonth();
    case "getDayOfMonth":
      return d.getUTCDate() - 1;
    case "getDate":
      return d.getUTCDate();
    case "getDayOfWeek":
      return d.getUTCDay();
    case "getDayOfYear":
      return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
    case "getHours":
      return d.getUTCHours();
    case "getMinutes":
      return d.getUTCMinutes();
    case "getSeconds":
      return d.getUTCSeconds();
    case "getMilliseconds":
      return d.getUTCMilliseconds();
    default:
      throw new EvalError(`unknown timestamp accessor ${field}`);
  }
}
