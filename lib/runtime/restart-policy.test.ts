import { describe, expect, it } from "vitest";
import { restartBackoffMs } from "./restart-policy";

describe("restart backoff", () => {
  it("starts at 1 s, doubles per failure of the task in the window, and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartBackoffMs(n, 60_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000]);
    expect(restartBackoffMs(50, 60_000)).toBe(60_000);
    expect(restartBackoffMs(3, 2_000)).toBe(2_000);
  });
});
