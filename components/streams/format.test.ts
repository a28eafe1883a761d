import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatCount, formatRate } from "./format";

describe("stream stats formats", () => {
  it("formats rates from a trickle to a firehose", () => {
    expect(formatRate(0)).toBe("0/s");
    expect(formatRate(5 / 60)).toBe("5.0/min");
    expect(formatRate(0.5)).toBe("0.5/s");
    expect(formatRate(123.4)).toBe("123/s");
    expect(formatRate(25_300)).toBe("25.3k/s");
  });
  it("formats sizes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(200 * 1024 * 1024)).toBe("200 MB");
  });
  it("formats counts and ages", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    const now = 1_000_000_000;
    expect(formatAgo(now + 5000, now)).toBe("just now");
    expect(formatAgo(now - 42_000, now)).toBe("42 s ago");
    expect(formatAgo(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(formatAgo(now - 2 * 86_400_000, now)).toBe("2 d ago");
  });
});
