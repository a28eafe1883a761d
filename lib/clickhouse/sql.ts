/**
 * SQL literal and identifier helpers. ClickHouse 18.16 (the server Debian
 * ships) has no server-side query parameters, so values are escaped here — in
 * this one tested place — and identifiers are validated, never escaped.
 */
export function quoteString(value: string): string {
  let out = "'";
  for (const ch of value) {
    switch (ch) {
      case "\\": out += "\\\\"; break;
      case "'": out += "\\'"; break;
      case "\n": out += "\\n"; break;
      case "\r": out += "\\r"; break;
      case "\t": out += "\\t"; break;
      case "\0": out += "\\0"; break;
      default: out += ch;
    }
  }
  return out + "'";
}

export type SqlValue = string | number | bigint | boolean | Date | null;

export function literal(value: SqlValue): string {
  if (value === null) return "NULL";
  if (typeof value === "string") return quoteString(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot use ${value} as a SQL literal`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "1" : "0";
  // DateTime literal in UTC, second precision (18.16 has no DateTime64).
  return `toDateTime(${Math.floor(value.getTime() / 1000)})`;
}

export function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Tagged template: values become literals. `sql\`SELECT * FROM t WHERE id = ${id}\``.
 * Use `identifier()` for table or column names and pass them through `raw()`.
 */
export interface RawSql {
  readonly __raw: string;
}
export const raw = (s: string): RawSql => ({ __raw: s });

export function sql(strings: TemplateStringsArray, ...values: (SqlValue | RawSql | SqlValue[])[]): string {
  let out = strings[0];
  values.forEach((v, i) => {
    if (Array.isArray(v)) out += `(${v.map(literal).join(", ")})`;
    else if (v !== null && typeof v === "object" && "__raw" in v) out += v.__raw;
    else out += literal(v as SqlValue);
    out += strings[i + 1];
  });
  return out;
}
