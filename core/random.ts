/**
 * {@linkcode SeededRandom}: a small, fast, deterministic generator for fault
 * injection, property tests and benchmarks. Not for anything secret.
 *
 * @example
 * ```ts
 * import { SeededRandom } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new SeededRandom(1).nextUint32(), new SeededRandom(1).nextUint32());
 * ```
 *
 * @module
 */

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/** splitmix32: one step from `state`, as `[nextState, output]`. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/**
 * Checks a seed: a safe integer.
 *
 * @example
 * ```ts
 * import { checkSeed } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * checkSeed(42);
 * assert.throws(() => checkSeed(1.5), RangeError);
 * ```
 *
 * @param seed The seed.
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is not a safe integer.
 */
export function checkSeed(seed: number): void {
  if (typeof seed !== "number") throw new TypeError(`seed must be a number, got ${typeof seed}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
}

/**
 * The seeded generator behind `FaultyStorage` and the workload harness: sfc32 (Chris Doty-Humphrey's
 * Small Fast Counting generator, 128-bit state, 32-bit output), seeded from a
 * safe integer through splitmix32. The low 32 bits of the seed seed one
 * splitmix32 stream (giving sfc32's `a` and `b`), the high bits another (`c`
 * and the counter `d`), and the first 12 outputs are discarded; so distinct
 * seeds give distinct states. Exported so property tests can draw their
 * operation sequences from the same kind of seed.
 *
 * Draws: {@linkcode SeededRandom.nextUint32} is one draw;
 * {@linkcode SeededRandom.chance} is one draw unless `p` is exactly 0 or 1 (then
 * none); {@linkcode SeededRandom.below} is one draw for `n <= 2 ** 32`, two above.
 *
 * @example
 * ```ts
 * import { SeededRandom } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const a = new SeededRandom(7);
 * const b = new SeededRandom(7);
 * assert.equal(a.nextUint32(), b.nextUint32());
 * assert.ok(a.below(10) < 10);
 * assert.equal(a.chance(0), false); // draws nothing
 * assert.equal(a.chance(1), true); // draws nothing
 * b.below(10);
 * assert.equal(a.nextUint32(), b.nextUint32());
 * ```
 */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * Seeds the generator.
   *
   * @param seed Any safe integer.
   * @throws {TypeError} When `seed` is not a number.
   * @throws {RangeError} When it is not a safe integer.
   */
  constructor(seed: number) {
    checkSeed(seed);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_32) >>> 0;
    let s = lo;
    [s, this.#a] = splitmix32(s);
    [s, this.#b] = splitmix32(s);
    s = (hi ^ 0x6a09e667) | 0;
    [s, this.#c] = splitmix32(s);
    [s, this.#d] = splitmix32(s);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /**
   * The next 32-bit output: an integer in `[0, 2 ** 32)`.
   *
   * @example
   * ```ts
   * import { SeededRandom } from "@blobrt/storage/driver";
   * import assert from "node:assert/strict";
   *
   * const n = new SeededRandom(1).nextUint32();
   * assert.ok(Number.isInteger(n) && n >= 0 && n < 2 ** 32);
   * ```
   *
   * @returns The output.
   */
  nextUint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /**
   * A uniform integer in `[0, n)`.
   *
   * @example
   * ```ts
   * import { SeededRandom } from "@blobrt/storage/driver";
   * import assert from "node:assert/strict";
   *
   * const rng = new SeededRandom(3);
   * for (let i = 0; i < 100; i++) assert.ok(rng.below(6) < 6);
   * assert.throws(() => rng.below(0), RangeError);
   * ```
   *
   * @param n A positive safe integer.
   * @returns The integer.
   * @throws {RangeError} When `n` is not a positive safe integer.
   */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new RangeError(`bound must be a positive safe integer, got ${n}`);
    }
    if (n <= TWO_32) return Math.floor((this.nextUint32() / TWO_32) * n);
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return Math.floor(((high * 67108864 + low) / TWO_53) * n);
  }

  /**
   * `true` with probability `p`. A `p` of exactly 0 or 1 draws nothing.
   *
   * @example
   * ```ts
   * import { SeededRandom } from "@blobrt/storage/driver";
   * import assert from "node:assert/strict";
   *
   * const rng = new SeededRandom(5);
   * let hits = 0;
   * for (let i = 0; i < 1000; i++) if (rng.chance(0.25)) hits++;
   * assert.ok(hits > 150 && hits < 350);
   * ```
   *
   * @param p A probability in `[0, 1]`.
   * @returns Whether the event happened.
   * @throws {RangeError} When `p` is not a number in `[0, 1]`.
   */
  chance(p: number): boolean {
    if (p === 0) return false;
    if (p === 1) return true;
    if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`);
    return this.nextUint32() / TWO_32 < p;
  }
}
