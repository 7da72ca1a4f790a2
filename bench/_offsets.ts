/**
 * Random aligned offsets for every benchmark, drawn from {@linkcode SeededRandom}
 * (sfc32, the generator behind `FaultyStorage` and the workload harness). No
 * benchmark keeps a generator of its own.
 *
 * Why: the benchmarks used to carry five copies of the LCG
 * `seed = (seed * 1103515245 + 12345) & 0x7fffffff`. In JavaScript the product
 * is a double above 2 ** 53, so it loses its low bits, and from seed 1 the
 * sequence cycles after 10,466 draws: "4 KiB at random over 16 MiB" touched 159
 * of its 4,096 slots (and 4 KiB over 1 MiB 18 of 256, 64 KiB over 1 MiB 4 of
 * 16), however long it ran. That hot set (636 KiB for the main workload) fits
 * in the CPU caches and flattered whatever is bound by copying bytes: in an A/B
 * on 2026-11-30, MemoryStorage ÷ random-access-memory on Deno 4 KiB writes was
 * 5.8 with the LCG and 3.4 with this helper, and one 64 KiB write ran twice as
 * fast with it; the file-vs-peer ratios moved within noise (bench/RESULTS.md).
 *
 * Coverage, measured with {@linkcode distinctSlots} (seed 1) and the same
 * loop over the old LCG: distinct slots touched by so many draws.
 *
 * | workload                         | slots |  draws | SeededRandom | old LCG (at most, ever) |
 * | -------------------------------- | ----: | -----: | -----------: | ----------------------: |
 * | 4 KiB over 16 MiB (the main one) | 4,096 |  4,096 |        2,597 |               126 (159) |
 * | 4 KiB over 16 MiB                | 4,096 | 40,000 |        4,096 |               159 (159) |
 * | 4 KiB over 1 MiB                 |   256 |  2,000 |          256 |                 17 (18) |
 * | 64 KiB over 1 MiB                |    16 |    200 |           16 |                   3 (4) |
 *
 * (A uniform generator is expected to touch 4,096 × (1 − e^−1) ≈ 2,589 slots in
 * 4,096 draws, and all but 0.24 of them in 40,000.) `bench/compare.ts` prints
 * the count for its main workload when it starts.
 *
 * @module
 */

import { SeededRandom } from "../core/random.ts";

/**
 * A source of offsets `below(slots) * size`: uniform over the `slots` aligned
 * slots of `size` bytes, deterministic for a given `seed`.
 *
 * @param seed Any safe integer.
 * @param slots How many slots (the region's size over `size`).
 * @param size The slot size in bytes.
 * @returns A function returning the next offset.
 */
export function randomOffsets(seed: number, slots: number, size: number): () => number {
  const rng = new SeededRandom(seed);
  return () => rng.below(slots) * size;
}

/**
 * How many distinct slots `draws` offsets from {@linkcode randomOffsets} touch.
 *
 * @param seed The seed.
 * @param slots How many slots.
 * @param draws How many offsets to draw.
 * @returns The count of distinct slots.
 */
export function distinctSlots(seed: number, slots: number, draws: number): number {
  const next = randomOffsets(seed, slots, 1);
  const seen = new Set<number>();
  for (let i = 0; i < draws; i++) seen.add(next());
  return seen.size;
}
