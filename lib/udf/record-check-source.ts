import type { Field, FieldType, StreamSchema } from "@/lib/pipeline/schema";
import { isListType } from "@/lib/pipeline/schema";

/**
 * The source stream's record check (lib/pipeline/record-check.ts
 * `compileRecordCheck`) as JavaScript text, for the encoded UDF path: there
 * the records are parsed inside the isolate only, so the check runs there too.
 * It answers only yes/no; for a record that fails, the host decodes that one
 * record and describes its problems with the host check, so the reason a user
 * reads is the same on both paths.
 *
 * The body uses only operators (typeof, ===, arithmetic) and the runner's own
 * `isArray`, never globals the user's function could have replaced. It reads
 * fields as the host check does (`o[name]`), so a function that adds
 * properties to Object.prototype can make records it will receive pass — it
 * only fools itself: the encoded path is used only when that function is the
 * Source's sole consumer.
 */
export function recordCheckSource(schema: StreamSchema): string {
  // One function per struct and per list type; the top level is struct 0.
  const defs: string[] = [];

  function value(type: FieldType, v: string): string {
    if (typeof type === "string") {
      switch (type) {
        case "string": return `typeof ${v} === "string"`;
        // Number.isInteger / Number.isFinite without the globals: NaN and ±Infinity fail `x - x === 0`.
        case "int": return `(typeof ${v} === "number" && ${v} - ${v} === 0 && ${v} % 1 === 0)`;
        case "float": return `typeof ${v} === "number"`;
        case "bool": return `typeof ${v} === "boolean"`;
        case "timestamp": return `(typeof ${v} === "number" && ${v} - ${v} === 0)`;
        case "json": return "true";
      }
    }
    if (isListType(type)) {
      const name = `c${defs.length}`;
      defs.push("");
      // A loop rather than Array.prototype.every, which the function could replace.
      defs[Number(name.slice(1))] = `function ${name}(a) { if (!isArray(a)) return false; for (let i = 0; i < a.length; i++) { const x = a[i]; if (x !== null && !(${value(type.list, "x")})) return false; } return true; }`;
      return `${name}(${v})`;
    }
    return `${struct(type.struct)}(${v})`;
  }

  function struct(list: Field[]): string {
    const name = `c${defs.length}`;
    defs.push("");
    const lines = list.map(
      (f) => `v = o[${JSON.stringify(f.name)}]; if (v === undefined || v === null) { ${f.nullable === true ? "" : "return false;"} } else if (!(${value(f.type, "v")})) return false;`,
    );
    defs[Number(name.slice(1))] = `function ${name}(o) { if (o === null || typeof o !== "object" || isArray(o)) return false; let v; ${lines.join(" ")} return true; }`;
    return name;
  }

  const top = struct(schema);
  return `${defs.join("\n")}\nreturn ${top};`;
}
