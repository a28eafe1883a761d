import { evalError } from "@/lib/expr/errors";
import { describeValue } from "@/lib/expr/types";
import { parseTimestamp, formatTimestamp } from "@/lib/expr/time";
import type { CastTarget } from "@/lib/pipeline/nodes/projection";
import type { FieldType } from "@/lib/pipeline/schema";
import { formatFieldType } from "@/lib/pipeline/schema";

export type Caster = (v: unknown) => unknown;

const INT_RE = /^\s*[+-]?\d+\s*$/;

/**
 * Conversion of a value of (declared) type `from` to a cast target. Null stays
 * null; a value that cannot convert is a per-record error, never a silent NaN.
 * Returns an error message when the conversion can never succeed.
 */
export function casterFor(from: FieldType, to: CastTarget): Caster | string {
  const composite = typeof from === "object";
  if (composite && to !== "string" && to !== "json") return `cannot cast ${formatFieldType(from)} to ${to}`;
  switch (to) {
    case "json":
      return (v) => v;
    case "string":
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === "string") return v;
        if (from === "timestamp" && typeof v === "number") return formatTimestamp(v);
        return typeof v === "object" ? JSON.stringify(v) : String(v);
      };
    case "int":
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : evalError(`cannot cast ${v} to int`);
        if (typeof v === "boolean") return v ? 1 : 0;
        if (typeof v === "string" && INT_RE.test(v)) {
          const n = Number(v);
          return Number.isSafeInteger(n) ? n : evalError(`${v} is out of the int range`);
        }
        return evalError(`cannot cast ${describeValue(v)} ${JSON.stringify(v)} to int`);
      };
    case "float":
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === "number") return v;
        if (typeof v === "boolean") return v ? 1 : 0;
        if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
        return evalError(`cannot cast ${describeValue(v)} ${JSON.stringify(v)} to float`);
      };
    case "bool":
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === "boolean") return v;
        if (typeof v === "number") return v !== 0;
        if (typeof v === "string") {
          const s = v.trim().toLowerCase();
          if (s === "true" || s === "1") return true;
          if (s === "false" || s === "0") return false;
        }
        return evalError(`cannot cast ${describeValue(v)} ${JSON.stringify(v)} to bool`);
      };
    case "timestamp":
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : evalError(`cannot cast ${v} to timestamp`);
        if (typeof v === "string") return INT_RE.test(v) ? Number(v) : parseTimestamp(v.trim());
        return evalError(`cannot cast ${describeValue(v)} to timestamp`);
      };
  }
}
