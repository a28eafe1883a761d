import { describe, expect, it } from "vitest";
import { bucketsOf, parseTimeRange } from "./range";

const now = Date.UTC(2026, 11, 4, 12, 30, 20);

describe("monitor time ranges", () => {
  it("reads minutes up to a day and hourly rollups beyond", () => {
    const h = parseTimeRange(new URLSearchParams("range=1h"), { now });
    expect(h).toEqual({ from: now / 1000 - 20 - 3_600, to: now / 1000 - 20 + 60, step: 60, hourly: false });
    expect(bucketsOf(h)).toHaveLength(61);
    const week = parseTimeRange(new URLSearchParams("range=7d"), { now });
    expect(week.step).toBe(3_600);
    expect(week.hourly).toBe(true);
    expect(bucketsOf(week)).toHaveLength(169);
  });

  it("accepts custom ranges in ISO or epoch ms and uses the rollup for minutes past retention", () => {
    const r = parseTimeRange(new URLSearchParams({ from: "2026-12-04T10:00:00Z", to: String(Date.UTC(2026, 11, 4, 11)) }), { now });
    expect(r).toMatchObject({ from: Date.UTC(2026, 11, 4, 10) / 1000, to: Date.UTC(2026, 11, 4, 11, 1) / 1000, step: 60 });
    const old = parseTimeRange(new URLSearchParams({ from: "2026-10-01T10:00:00Z", to: "2026-10-01T11:00:00Z" }), { now, rawRetentionDays: 30 });
    expect(old.hourly).toBe(true);
  });

  it("says what is wrong with a bad range", () => {
    expect(() => parseTimeRange(new URLSearchParams("range=2w"), { now })).toThrow(/must be one of 15m, 1h, 6h, 24h, 7d/);
    expect(() => parseTimeRange(new URLSearchParams("from=yesterday"), { now })).toThrow(/ISO 8601/);
    expect(() => parseTimeRange(new URLSearchParams({ from: "2026-12-04T10:00:00Z", to: "2026-12-04T09:00:00Z" }), { now })).toThrow(/after/);
    expect(() => parseTimeRange(new URLSearchParams({ from: "2025-01-01T00:00:00Z" }), { now })).toThrow(/at most 90 days/);
  });
});
