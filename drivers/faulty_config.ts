/**
 * The knobs of a `FaultyStorage` ({@linkcode FaultyConfig}), their checks, and
 * how to recognise the faults it injects ({@linkcode isInjectedFault}).
 *
 * - `seed`: the one source of randomness; the same seed and the same calls
 *   give the same faults.
 * - `rates` ({@linkcode FaultRates}): per operation, the probability that it
 *   fails with `StorageError` code `Io`, reason
 *   {@linkcode INJECTED_FAULT_REASON}. Rates of exactly 0 and 1 draw nothing.
 * - `partialWrites` ({@linkcode PartialWriteMode}) and `partialResizes`: what
 *   a failed write or resize leaves behind, without sync.
 * - `retention` and `tearing`: at a crash, how many of the unsynced writes and
 *   resizes come back, and whether a kept write comes back whole.
 *
 * @example
 * ```ts
 * import { type FaultyConfig, FaultyStorage } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const config: FaultyConfig = { seed: 7, rates: { read: 0.1 }, partialWrites: "subset" };
 * new FaultyStorage(new MemoryStorage(), config);
 * assert.throws(() => new FaultyStorage(new MemoryStorage(), { seed: 7, tearing: 2 }), RangeError);
 * ```
 *
 * @module
 */

import { StorageError } from "../core/errors.ts";
import { checkSeed } from "../core/random.ts";

/**
 * The `reason` of every injected fault: `"injected storage fault"`.
 *
 * @example
 * ```ts
 * import { FaultyStorage, INJECTED_FAULT_REASON } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new FaultyStorage(new MemoryStorage(), { seed: 1, rates: { scan: 1 } });
 * await assert.rejects(storage.scan("p"), { code: "Io", reason: INJECTED_FAULT_REASON });
 * ```
 */
export const INJECTED_FAULT_REASON = "injected storage fault";

/**
 * Whether `err` is a fault injected by `FaultyStorage`: a
 * `StorageError` with code `Io` and reason {@linkcode INJECTED_FAULT_REASON}.
 *
 * @example
 * ```ts
 * import { isInjectedFault } from "@blobrt/storage/faulty";
 * import { StorageError } from "@blobrt/storage/errors";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isInjectedFault(new StorageError("Io", { reason: "injected storage fault" })));
 * assert.ok(!isInjectedFault(new StorageError("Io", { reason: "disk on fire" })));
 * assert.ok(!isInjectedFault(new Error("injected storage fault")));
 * ```
 *
 * @param err The value to test.
 * @returns `true` for an injected fault.
 */
export function isInjectedFault(err: unknown): err is StorageError {
  return err instanceof StorageError && err.code === "Io" && err.reason === INJECTED_FAULT_REASON;
}

/**
 * The probability, in `[0, 1]`, that each operation fails. A rate left out
 * is 0; rates of exactly 0 or 1 draw no randomness.
 *
 * @example
 * ```ts
 * import { type FaultRates, FaultyStorage } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const rates: FaultRates = { open: 1 };
 * const storage = new FaultyStorage(new MemoryStorage(), { seed: 1, rates });
 * await assert.rejects(storage.open("p", "b"), { code: "Io" });
 * ```
 */
export interface FaultRates {
  /** `open`: fails before the inner storage is called (nothing is created). */
  open?: number;
  /** `readAt` and `readAtBuf`. */
  read?: number;
  /** `writeAt`; what a failed write keeps is set by {@linkcode FaultyConfig.partialWrites}. */
  write?: number;
  /** `sync`, and the sync of a `{ sync: true }` write (drawn after its `write` draw passes). */
  sync?: number;
  /** `resize`; see {@linkcode FaultyConfig.partialResizes}. */
  resize?: number;
  /** `remove`, of a blob or a partition: nothing is removed. */
  remove?: number;
  /** `scan`. */
  scan?: number;
}

/**
 * What a failed write keeps, all written without sync before it rejects:
 * - `"none"`: nothing;
 * - `"prefix"`: the first `k` bytes, `k` uniform in `[0, n)` (one draw);
 * - `"subset"`: each byte independently with probability 1/2 (one draw per 32
 *   bytes), written as one inner write per run of kept bytes, in order.
 *
 * @example
 * ```ts
 * import { FaultyStorage, type PartialWriteMode } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 *
 * const partialWrites: PartialWriteMode = "prefix";
 * new FaultyStorage(new MemoryStorage(), { seed: 1, rates: { write: 0.1 }, partialWrites });
 * ```
 */
export type PartialWriteMode = "none" | "prefix" | "subset";

/**
 * The configuration of a `FaultyStorage`.
 *
 * @example
 * ```ts
 * import { type FaultyConfig, FaultyStorage } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 *
 * const config: FaultyConfig = { seed: 3, rates: { write: 0.01 }, retention: 0.5, tearing: 0.1 };
 * new FaultyStorage(new MemoryStorage(), config);
 * ```
 */
export interface FaultyConfig {
  /** Seeds the generator (`SeededRandom`); any safe integer. */
  seed: number;
  /** Per-operation failure probabilities; each defaults to 0. */
  rates?: FaultRates;
  /** What a failed write keeps; default `"none"`. */
  partialWrites?: PartialWriteMode;
  /**
   * Whether a failed resize from `old` to `n` first resizes to a length
   * uniform strictly between them (one draw; skipped when `|n - old| < 2`),
   * without sync. Default `false`.
   */
  partialResizes?: boolean;
  /**
   * At `FaultyStorage.crash`, the probability that each unsynced write or
   * resize is kept. Default 0: a crash keeps only what was synced, exactly as
   * the inner storage's own crash does.
   */
  retention?: number;
  /**
   * At `FaultyStorage.crash`, the probability that a kept unsynced write is
   * torn: only a strict prefix of it (uniform length, possibly empty) is kept.
   * Default 0.
   */
  tearing?: number;
}

const RATE_KEYS = [
  "open",
  "read",
  "write",
  "sync",
  "resize",
  "remove",
  "scan",
] as const satisfies readonly (keyof FaultRates)[];
const CONFIG_KEYS = new Set([
  "seed",
  "rates",
  "partialWrites",
  "partialResizes",
  "retention",
  "tearing",
]);
const PARTIAL_WRITES: readonly string[] = ["none", "prefix", "subset"];

function checkProbability(p: unknown, what: string): number {
  if (typeof p !== "number") throw new TypeError(`${what} must be a number, got ${typeof p}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what} must be in [0, 1], got ${p}`);
  return p;
}

/**
 * Checks a {@linkcode FaultyConfig} and fills in the defaults; the
 * `FaultyStorage` constructor runs it (after checking its inner storage).
 *
 * @example Bad configs throw before anything is wrapped
 * ```ts
 * import { FaultyStorage } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const make = (config: object) => () => new FaultyStorage(new MemoryStorage(), config as never);
 * assert.throws(make({ seed: 1, rates: { write: 1.5 } }), RangeError);
 * assert.throws(make({ seed: 1, rates: { fsync: 0.5 } }), TypeError);
 * assert.throws(make({ seed: 1, partialWrites: "some" }), RangeError);
 * assert.throws(make({ seed: 1, retention: "all" }), TypeError);
 * ```
 *
 * @param config The configuration as given.
 * @returns Every rate (0 when left out) and every knob, with its default.
 * @throws {TypeError} When a field has the wrong type or is unknown.
 * @throws {RangeError} When a rate, `retention` or `tearing` is outside
 *   `[0, 1]`, the seed is not a safe integer, or `partialWrites` is not one of
 *   its values.
 */
export function checkConfig(config: FaultyConfig): {
  rates: Required<FaultRates>;
  partialWrites: PartialWriteMode;
  partialResizes: boolean;
  retention: number;
  tearing: number;
} {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new TypeError("FaultyStorage config must be an object { seed, rates?, ... }");
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.has(key)) throw new TypeError(`unknown FaultyStorage config key: ${key}`);
  }
  checkSeed(config.seed);
  const rates = {} as Required<FaultRates>;
  const given: unknown = config.rates;
  if (
    given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))
  ) {
    throw new TypeError("rates must be an object");
  }
  const table = (given ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(table)) {
    if (!(RATE_KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`unknown fault rate: ${key}`);
    }
  }
  for (const key of RATE_KEYS) {
    const v = table[key];
    rates[key] = v === undefined ? 0 : checkProbability(v, `rates.${key}`);
  }
  const partialWrites: unknown = config.partialWrites ?? "none";
  if (typeof partialWrites !== "string") {
    throw new TypeError(`partialWrites must be a string, got ${typeof partialWrites}`);
  }
  if (!PARTIAL_WRITES.includes(partialWrites)) {
    throw new RangeError(
      `partialWrites must be "none", "prefix" or "subset", got ${JSON.stringify(partialWrites)}`,
    );
  }
  const partialResizes: unknown = config.partialResizes ?? false;
  if (typeof partialResizes !== "boolean") {
    throw new TypeError(`partialResizes must be a boolean, got ${typeof partialResizes}`);
  }
  const retention = config.retention === undefined
    ? 0
    : checkProbability(config.retention, "retention");
  const tearing = config.tearing === undefined ? 0 : checkProbability(config.tearing, "tearing");
  return {
    rates,
    partialWrites: partialWrites as PartialWriteMode,
    partialResizes,
    retention,
    tearing,
  };
}
