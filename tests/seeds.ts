/**
 * How many seeds the property tests run: a modest default that finishes in a
 * few seconds on a busy machine, or `BLOBRT_SEEDS` from the environment (the
 * nightly or release run, e.g. `BLOBRT_SEEDS=5000`); `BLOBRT_ONLY_SEED`
 * replays one failing seed.
 *
 * @module
 */

import process from "node:process";

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${name} must be a count, got ${raw}`);
  }
  return n;
}

/**
 * The seeds to run, `first, first + 1, …`: `BLOBRT_ONLY_SEED` alone when
 * set, else `BLOBRT_SEEDS` of them, else `defaultCount`.
 */
export function seedsToRun(defaultCount: number, first = 0): number[] {
  const only = envInt("BLOBRT_ONLY_SEED");
  if (only !== undefined) return [only];
  const count = envInt("BLOBRT_SEEDS") ?? defaultCount;
  return Array.from({ length: count }, (_, i) => first + i);
}

/** Cuts `seeds` into chunks of at most `size`, one test each. */
export function chunks(seeds: number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < seeds.length; i += size) out.push(seeds.slice(i, i + size));
  return out;
}
