import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compilePipeline } from "./plan";
import { parsePipeline } from "@/lib/pipeline/parse";
import { validatePipeline } from "./validate";

// Keeps docs/pipeline-format.md true: its example must parse, validate and run.
const doc = readFileSync(fileURLToPath(new URL("../../docs/pipeline-format.md", import.meta.url)), "utf8");
const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)![1]);
const ctx = {
  streams: (n: string) =>
    n === "ods.web.clicks"
      ? {
          schema: [
            { name: "user_id", type: "string" as const },
            { name: "status", type: "int" as const },
            { name: "amount", type: "float" as const },
            { name: "country", type: "string" as const },
            { name: "geo", type: { struct: [{ name: "city", type: "string" as const }] } },
          ],
        }
      : undefined,
};

describe("docs/pipeline-format.md example", () => {
  it("parses, validates cleanly and routes records", async () => {
    const parsed = parsePipeline(example);
    expect(parsed.diagnostics).toBeUndefined();
    expect(validatePipeline(parsed.pipeline!, ctx).diagnostics).toEqual([]);
    const r = await compilePipeline(parsed.pipeline!, ctx).processBatch("ods.web.clicks", [
      { user_id: "u1", status: 200, amount: 12.5, country: "FR", geo: { city: "Lyon" } },
      { user_id: "u2", status: 200, amount: 99, country: "BR", geo: { city: "Rio" } },
      { user_id: "u3", status: 500, amount: 99, country: "US", geo: { city: "NYC" } },
    ]);
    expect(r.sinks.get("euSink")).toEqual([{ user: "u1", amount_cents: 1250, city: "Lyon", country: "FR" }]);
    expect(r.sinks.get("restSink")!.map((x) => x.user)).toEqual(["u2"]);
    expect(r.sinks.get("usSink")).toEqual([]);
  });
});
