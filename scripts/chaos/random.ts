import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

/**
 * A seeded random source (pure-rand's xoroshiro128+, the generator fast-check
 * uses): the same seed gives the same workload and the same fault schedule,
 * so a failing chaos run can be repeated with `--seed`.
 */
export class Random {
  private readonly rng;

  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.rng, min, max);
  }

  /** A number in [0, 1). */
  unit(): number {
    return uniformInt(this.rng, 0, 2 ** 30 - 1) / 2 ** 30;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.unit() < p;
  }

  /** A new, independent generator derived from this one (for one stream, or the fault schedule). */
  fork(): Random {
    return new Random(this.int(0, 2 ** 31 - 1));
  }
}
