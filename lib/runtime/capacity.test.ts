import { describe, expect, it } from "vitest";
import { capacityOf, waitingReason } from "./capacity";
import type { WorkerInfo } from "./worker-registry";

const worker = (slots: number, running: number): WorkerInfo => ({ id: `w${slots}-${running}`, host: "h", pid: 1, slots, running, startedAt: 0, heartbeatAt: 0 });

describe("capacity", () => {
  it("counts slots over live workers and the busier of the queue and the heartbeats", () => {
    expect(capacityOf([worker(4, 4), worker(4, 3)], 5)).toEqual({ workers: 2, slots: 8, inUse: 7 });
    expect(capacityOf([worker(4, 1), worker(4, 0)], 8)).toEqual({ workers: 2, slots: 8, inUse: 8 });
    // Tasks of workers that went away still count in the queue for a moment: never more than the slots.
    expect(capacityOf([worker(4, 0)], 9)).toEqual({ workers: 1, slots: 4, inUse: 4 });
  });
  it("says why a task waits only when capacity is the reason", () => {
    expect(waitingReason({ workers: 2, slots: 8, inUse: 8 })).toBe("waiting for a free worker slot: 8 of 8 in use");
    expect(waitingReason({ workers: 2, slots: 8, inUse: 7 })).toBeNull();
    expect(waitingReason({ workers: 0, slots: 0, inUse: 0 })).toMatch(/^waiting for a worker: no worker process is running/);
  });
});
