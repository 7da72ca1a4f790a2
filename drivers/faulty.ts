/**
 * {@linkcode FaultyStorage}: a wrapper that injects seeded, reproducible storage
 * faults into any {@linkcode Storage}, and replays what a disk could have kept
 * when the process crashes.
 *
 * **Faults.** Each operation that passes its argument checks draws once against
 * its rate (`config.rates`): `open`, `remove`, `scan`, `readAt`/`readAtBuf`
 * (`read`), `writeAt` (`write`), `sync` (`sync`, also drawn by a
 * `{ sync: true }` write after its `write` draw passes) and `resize`. A drawn
 * fault rejects with `StorageError` code `Io`, reason `injected storage fault`
 * ({@linkcode INJECTED_FAULT_REASON}), and the `partition` and `blob` involved.
 * What a failed operation leaves behind:
 * - `open`, `remove`, `scan`, `readAt`, `readAtBuf`, `sync`: nothing; the inner
 *   storage is not called (a failed `sync` syncs nothing).
 * - `writeAt`: by `partialWrites`, nothing (`"none"`), a strict prefix of the
 *   bytes (`"prefix"`), or a random subset of them (`"subset"`), written
 *   without sync. A `{ sync: true }` write whose sync draw fails writes all its
 *   bytes without sync, so they are not durable.
 * - `resize`: nothing, or with `partialResizes`, a resize to a length strictly
 *   between the old and the requested one (when one exists), without sync.
 *
 * Argument errors (`TypeError`, `RangeError`, `PartitionNameInvalid`), `Closed`
 * and `OffsetOverflow` are checked first, with the same shared checks as every
 * driver, and draw nothing. Rates of exactly 0 and 1 draw nothing either, so
 * turning one operation's faults fully on or off leaves every other draw where
 * it was. The same seed and the same sequence of calls give the same faults.
 *
 * **Crash replay.** With an inner storage that models crashes (it has a
 * `crash()` method, as `MemoryStorage` does), {@linkcode FaultyStorage.crash}
 * crashes the inner storage, which drops every unsynced change, then puts back
 * what a real disk might have written before losing power. For each open
 * handle, FaultyStorage records every write and resize it issued to the inner
 * blob since that handle's last successful `sync()`. A `close()` forgets them,
 * as the inner storage drops them; a successful `remove` of the blob (or its
 * partition) forgets them too, so a removed blob never comes back. At a crash,
 * taking these operations across all handles in issue order:
 * - a `{ sync: true }` write that succeeded is kept (it is already durable, and
 *   replaying it keeps later operations ordered after it);
 * - any other write or resize is kept with probability `retention`; a kept
 *   write is then torn with probability `tearing`, keeping only a strict prefix
 *   of its bytes (uniform length, possibly empty);
 * - for each blob with at least one kept unsynced operation, the kept
 *   operations are applied in issue order on a handle opened on the inner
 *   storage's durable image, then synced.
 *
 * Everything that was synced stays. Outcomes follow issue order: a later write
 * can be lost while an earlier one survives, but never applied before it. The
 * model assumes the inner storage applies each call as it is issued (as
 * `MemoryStorage` does), and the replay goes through the inner storage (so an
 * inner storage that injects faults of its own can make it fail). Operations
 * are only recorded when `retention > 0` and the inner storage has `crash()`;
 * then each unsynced write is copied and kept until its handle syncs or closes.
 * Blobs removed through the inner storage directly are not tracked: a replay
 * would recreate them.
 *
 * @example Faults and a crash
 * ```ts
 * import { FaultyStorage, isInjectedFault } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new FaultyStorage(new MemoryStorage(), {
 *   seed: 42,
 *   rates: { write: 0.5 },
 *   partialWrites: "prefix",
 *   retention: 0.5,
 * });
 * const { blob } = await storage.open("journal", "0");
 * let failures = 0;
 * for (let i = 0; i < 16; i++) {
 *   try {
 *     await blob.writeAt(i, new Uint8Array([i]), { sync: true });
 *   } catch (err) {
 *     assert.ok(isInjectedFault(err));
 *     failures++;
 *   }
 * }
 * assert.ok(failures > 0 && failures < 16);
 * await storage.crash(); // resolves once the replay is durable
 * await assert.rejects(blob.readAt(0, 1), { code: "Closed" });
 * ```
 *
 * @module
 */

import {
  checkOpenArgs,
  checkRead,
  checkReadBuf,
  checkRemoveArgs,
  checkResize,
  checkStorage,
  checkSync,
  checkWrite,
} from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import type { IoBufsMut } from "../core/io_bufs_mut.ts";
import { toHex, validatePartitionName } from "../core/names.ts";
import { checkSeed, SeededRandom } from "../core/random.ts";
import { concat } from "../core/_view.ts";
import { Serial } from "../core/_serial.ts";
import type { Blob, BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import type { ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { openedBlob } from "../core/opened.ts";

/** The `reason` of every injected fault: `"injected storage fault"`. */
export const INJECTED_FAULT_REASON = "injected storage fault";

/**
 * Whether `err` is a fault injected by {@linkcode FaultyStorage}: a
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

// ---------------------------------------------------------------------------
// The generator

function checkProbability(p: unknown, what: string): number {
  if (typeof p !== "number") throw new TypeError(`${what} must be a number, got ${typeof p}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what} must be in [0, 1], got ${p}`);
  return p;
}

// ---------------------------------------------------------------------------
// Configuration

/**
 * The probability, in `[0, 1]`, that each operation fails. A rate left out
 * is 0; rates of exactly 0 or 1 draw no randomness.
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
 */
export type PartialWriteMode = "none" | "prefix" | "subset";

/** The configuration of a {@linkcode FaultyStorage}. */
export interface FaultyConfig {
  /** Seeds the generator ({@linkcode SeededRandom}); any safe integer. */
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
   * At {@linkcode FaultyStorage.crash}, the probability that each unsynced
   * write or resize is kept. Default 0: a crash keeps only what was synced,
   * exactly as the inner storage's own crash does.
   */
  retention?: number;
  /**
   * At {@linkcode FaultyStorage.crash}, the probability that a kept unsynced
   * write is torn: only a strict prefix of it (uniform length, possibly empty)
   * is kept. Default 0.
   */
  tearing?: number;
}

const RATE_KEYS = ["open", "read", "write", "sync", "resize", "remove", "scan"] as const;
const CONFIG_KEYS = new Set([
  "seed",
  "rates",
  "partialWrites",
  "partialResizes",
  "retention",
  "tearing",
]);
const PARTIAL_WRITES: readonly string[] = ["none", "prefix", "subset"];

type Rates = { [K in (typeof RATE_KEYS)[number]]: number };

function checkConfig(config: FaultyConfig): {
  rates: Rates;
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
  const rates = {} as Rates;
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

// ---------------------------------------------------------------------------
// Shared state

/** An unsynced write (or a durable sync write) or resize, as issued to the inner blob. */
type Op =
  | { seq: number; kind: "write"; offset: number; data: Uint8Array; durable: boolean }
  | { seq: number; kind: "resize"; length: number };

/** One blob file: shared by the handles opened on it until it is removed. */
interface Generation {
  partition: string;
  name: Uint8Array;
  hex: string;
  version: number;
  removed: boolean;
}

/** What the storage and its handles share. */
class Core {
  readonly rng: SeededRandom;
  readonly rates: Rates;
  readonly partialWrites: PartialWriteMode;
  readonly partialResizes: boolean;
  readonly retention: number;
  readonly tearing: number;
  /** Whether to record operations for crash replay (a crash can keep some). */
  readonly logging: boolean;
  readonly handles = new Set<FaultyBlob>();
  seq = 0;

  constructor(config: FaultyConfig, canCrash: boolean) {
    const c = checkConfig(config);
    this.rng = new SeededRandom(config.seed);
    this.rates = c.rates;
    this.partialWrites = c.partialWrites;
    this.partialResizes = c.partialResizes;
    this.retention = c.retention;
    this.tearing = c.tearing;
    this.logging = canCrash && c.retention > 0;
  }
}

function injected(partition: string, blob?: string): StorageError {
  return new StorageError("Io", { reason: INJECTED_FAULT_REASON, partition, blob });
}

const SYNC: WriteOptions = Object.freeze({ sync: true });
const noop = (): void => {};

type Crashable = Storage & { crash(): unknown };

// ---------------------------------------------------------------------------
// The storage

/**
 * A {@linkcode Storage} that wraps another one and injects seeded,
 * deterministic faults (see the module docs for the full model). With every
 * rate at 0 it behaves exactly like the inner storage.
 *
 * @example Every write fails, keeping a prefix
 * ```ts
 * import { FaultyStorage } from "@blobrt/storage/faulty";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const inner = new MemoryStorage();
 * const storage = new FaultyStorage(inner, { seed: 1, rates: { write: 1 }, partialWrites: "prefix" });
 * await using opened = await storage.open("p", "b");
 * await assert.rejects(opened.blob.writeAt(0, new Uint8Array([1, 2, 3, 4])), {
 *   name: "StorageError",
 *   code: "Io",
 *   reason: "injected storage fault",
 *   partition: "p",
 *   blob: "62",
 * });
 * ```
 */
export class FaultyStorage implements Storage {
  #inner: Storage;
  #core: Core;
  #gens = new Map<string, Map<string, Generation>>();
  /** Open, remove, scan and crash replay run in call order. */
  #serial = new Serial();
  /** Bumped by each crash: storage calls made before it reject with `Closed`. */
  #epoch = 0;

  /**
   * Wraps `inner`.
   *
   * @param inner Any storage.
   * @param config Seed, rates and the other knobs of {@linkcode FaultyConfig}.
   * @throws {TypeError} When `inner` is not a storage, or a config field has
   *   the wrong type or is unknown.
   * @throws {RangeError} When a rate, `retention` or `tearing` is outside
   *   `[0, 1]`, the seed is not a safe integer, or `partialWrites` is not one
   *   of its values.
   */
  constructor(inner: Storage, config: FaultyConfig) {
    this.#inner = checkStorage(inner, "FaultyStorage");
    this.#core = new Core(config, typeof (inner as Partial<Crashable>).crash === "function");
  }

  /**
   * Opens or creates a blob (see {@linkcode Storage.open}); an injected fault
   * happens before the inner storage is called, so nothing is created.
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @param options Accepted versions.
   * @returns The handle, logical size and version.
   */
  async open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob> {
    const bytes = checkOpenArgs(partition, name, options).name;
    const hex = toHex(bytes);
    const fail = this.#core.rng.chance(this.#core.rates.open);
    const epoch = this.#epoch;
    return await this.#serial.run(async () => {
      this.#checkEpoch(epoch);
      if (fail) throw injected(partition, hex);
      const opened = await this.#inner.open(partition, name, options);
      if (epoch !== this.#epoch) {
        await opened.blob.close().catch(noop);
        throw new StorageError("Closed");
      }
      let files = this.#gens.get(partition);
      if (files === undefined) this.#gens.set(partition, files = new Map());
      let gen = files.get(hex);
      if (gen === undefined) {
        gen = { partition, name: bytes.slice(), hex, version: opened.version, removed: false };
        files.set(hex, gen);
      }
      const blob = new FaultyBlob(this.#core, opened.blob, gen, opened.size);
      this.#core.handles.add(blob);
      return openedBlob(blob, opened.size, opened.version);
    });
  }

  /**
   * Removes a blob, or a whole partition when `name` is omitted (see
   * {@linkcode Storage.remove}); an injected fault removes nothing.
   *
   * @param partition Partition name.
   * @param name Blob name; omit to remove the partition.
   */
  async remove(partition: string, name?: BlobName): Promise<void> {
    const bytes = checkRemoveArgs(partition, name);
    const hex = bytes === undefined ? undefined : toHex(bytes);
    const fail = this.#core.rng.chance(this.#core.rates.remove);
    const epoch = this.#epoch;
    await this.#serial.run(async () => {
      this.#checkEpoch(epoch);
      if (fail) throw injected(partition, hex);
      await this.#inner.remove(partition, name);
      this.#forget(partition, hex);
    });
  }

  /**
   * The blob names of a partition, sorted bytewise (see {@linkcode Storage.scan}).
   *
   * @param partition Partition name.
   * @returns The names.
   */
  async scan(partition: string): Promise<Uint8Array[]> {
    validatePartitionName(partition);
    const fail = this.#core.rng.chance(this.#core.rates.scan);
    const epoch = this.#epoch;
    return await this.#serial.run(async () => {
      this.#checkEpoch(epoch);
      if (fail) throw injected(partition);
      return await this.#inner.scan(partition);
    });
  }

  /**
   * Simulates a process crash with replay (see the module docs). Synchronously:
   * every handle of this storage is closed (its calls reject with `Closed`),
   * `inner.crash()` runs, and which unsynced operations survive is drawn. The
   * returned promise resolves once the survivors are durable on the inner
   * storage; `open`, `remove` and `scan` called after `crash()` wait for it, and
   * ones called before it that have not run yet reject with `Closed`. If the
   * replay fails (the inner storage refuses to reopen a blob, say), the
   * promise rejects with that error. Crash through this method rather than the
   * inner storage's own `crash()`: that one leaves this wrapper's records in
   * place, and a later crash here would replay them.
   *
   * @example Retained unsynced writes come back in issue order
   * ```ts
   * import { FaultyStorage } from "@blobrt/storage/faulty";
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new FaultyStorage(new MemoryStorage(), { seed: 9, retention: 1 });
   * const { blob } = await storage.open("p", "b");
   * await blob.writeAt(0, new Uint8Array([1, 1, 1]));
   * await blob.writeAt(1, new Uint8Array([2]));
   * await storage.crash();
   * const again = await storage.open("p", "b");
   * assert.deepEqual((await again.blob.readAt(0, 3)).bytes(), new Uint8Array([1, 2, 1]));
   * ```
   *
   * @returns A promise that resolves when the replay is durable.
   * @throws {TypeError} When the inner storage has no `crash()` method.
   */
  crash(): Promise<void> {
    const inner = this.#inner as Partial<Crashable>;
    if (typeof inner.crash !== "function") {
      throw new TypeError("FaultyStorage.crash needs an inner storage with a crash() method");
    }
    const core = this.#core;
    const pending: { gen: Generation; op: Op }[] = [];
    for (const handle of core.handles) {
      for (const op of handle.kill()) pending.push({ gen: handle.gen, op });
    }
    core.handles.clear();
    this.#gens.clear();
    this.#epoch++;
    const innerDone = inner.crash.call(this.#inner);
    pending.sort((x, y) => x.op.seq - y.op.seq);
    const plans = new Map<Generation, { ops: Op[]; replay: boolean }>();
    for (const { gen, op } of pending) {
      let kept: Op | undefined = op;
      const durable = op.kind === "write" && op.durable;
      if (!durable) {
        if (!core.rng.chance(core.retention)) kept = undefined;
        else if (op.kind === "write" && core.rng.chance(core.tearing)) {
          const k = core.rng.below(op.data.length);
          kept = k === 0 ? undefined : { ...op, data: op.data.subarray(0, k) };
        }
      }
      if (kept === undefined) continue;
      let plan = plans.get(gen);
      if (plan === undefined) plans.set(gen, plan = { ops: [], replay: false });
      plan.ops.push(kept);
      if (!durable) plan.replay = true;
    }
    const target = this.#inner;
    return this.#serial.run(async () => {
      await innerDone;
      for (const [gen, plan] of plans) {
        if (!plan.replay) continue;
        const versions = { min: gen.version, max: gen.version };
        const { blob } = await target.open(gen.partition, gen.name, { versions });
        try {
          for (const op of plan.ops) {
            if (op.kind === "write") await blob.writeAt(op.offset, op.data);
            else await blob.resize(op.length);
          }
          await blob.sync();
        } finally {
          await blob.close();
        }
      }
    });
  }

  #checkEpoch(epoch: number): void {
    if (epoch !== this.#epoch) throw new StorageError("Closed");
  }

  /** After a remove: the blob (or partition) is gone, its unsynced operations too. */
  #forget(partition: string, hex: string | undefined): void {
    const files = this.#gens.get(partition);
    if (files === undefined) return;
    for (const [key, gen] of files) {
      if (hex === undefined || key === hex) {
        gen.removed = true;
        files.delete(key);
      }
    }
    if (files.size === 0) this.#gens.delete(partition);
    // Handles opened before keep working (read-after-remove), on a file that no
    // longer has a name: nothing of it can come back at a crash.
    for (const handle of this.#core.handles) if (handle.gen.removed) handle.forget();
  }
}

// ---------------------------------------------------------------------------
// The blob

/** A handle: checks, draws, then forwards to the inner blob, recording for replay. */
class FaultyBlob implements Blob {
  readonly gen: Generation;
  #core: Core;
  #inner: Blob;
  /** The logical size as issued so far (for partial resizes). */
  #size: number;
  #closed = false;
  /** Writes and resizes issued since the last successful sync, in issue order. */
  #log: Op[] = [];

  constructor(core: Core, inner: Blob, gen: Generation, size: number) {
    this.#core = core;
    this.#inner = inner;
    this.gen = gen;
    this.#size = size;
  }

  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    checkRead(offset, length, this.#closed);
    this.#maybeFail(this.#core.rates.read);
    return await this.#inner.readAt(offset, length);
  }

  async readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    checkReadBuf(offset, length, target, this.#closed);
    this.#maybeFail(this.#core.rates.read);
    return await this.#inner.readAtBuf(offset, length, target);
  }

  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const { chunks, length, sync } = checkWrite(offset, data, options, this.#closed);
    const core = this.#core;
    if (core.rng.chance(core.rates.write)) {
      await this.#partialWrite(offset, chunks, length);
      throw this.#fault();
    }
    if (sync && core.rng.chance(core.rates.sync)) {
      await this.#write(offset, chunks, length, false);
      throw this.#fault();
    }
    await this.#write(offset, chunks, length, sync);
  }

  async resize(length: number): Promise<void> {
    checkResize(length, this.#closed);
    const core = this.#core;
    if (core.rng.chance(core.rates.resize)) {
      const old = this.#size;
      const gap = Math.abs(length - old);
      if (core.partialResizes && gap >= 2) {
        await this.#resize(Math.min(old, length) + 1 + core.rng.below(gap - 1));
      }
      throw this.#fault();
    }
    await this.#resize(length);
  }

  async sync(): Promise<void> {
    checkSync(this.#closed);
    this.#maybeFail(this.#core.rates.sync);
    // The inner blob syncs what it was issued so far: that is now durable.
    this.#log = [];
    await this.#inner.sync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.kill();
    this.#core.handles.delete(this);
    await this.#inner.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Closes this handle (the inner one is the caller's business); returns its log. */
  kill(): Op[] {
    const log = this.#log;
    this.#closed = true;
    this.#log = [];
    return log;
  }

  /** Drops the log: the blob was removed. */
  forget(): void {
    this.#log = [];
  }

  #fault(): StorageError {
    return injected(this.gen.partition, this.gen.hex);
  }

  #maybeFail(rate: number): void {
    if (this.#core.rng.chance(rate)) throw this.#fault();
  }

  /** Issues one write to the inner blob and records it; resolves when the inner write does. */
  #write(offset: number, chunks: Uint8Array[], length: number, sync: boolean): Promise<void> {
    const options = sync ? SYNC : undefined;
    const data = chunks.length === 1 ? chunks[0] : chunks;
    if (length === 0) return this.#inner.writeAt(offset, data, options);
    if (offset + length > this.#size) this.#size = offset + length;
    const op = this.#record(() => ({
      seq: 0,
      kind: "write",
      offset,
      data: concat(chunks, new Uint8Array(length)),
      durable: sync,
    }));
    return this.#settle(this.#inner.writeAt(offset, data, options), op);
  }

  #resize(length: number): Promise<void> {
    this.#size = length;
    const op = this.#record(() => ({ seq: 0, kind: "resize", length }));
    return this.#settle(this.#inner.resize(length), op);
  }

  /** What a failed write keeps, issued without sync (see {@linkcode PartialWriteMode}). */
  #partialWrite(offset: number, chunks: Uint8Array[], length: number): Promise<void> {
    const core = this.#core;
    if (length === 0 || core.partialWrites === "none") return Promise.resolve();
    if (core.partialWrites === "prefix") {
      let k = core.rng.below(length);
      if (k === 0) return Promise.resolve();
      const kept: Uint8Array[] = [];
      for (const c of chunks) {
        if (k === 0) break;
        const part = c.length <= k ? c : c.subarray(0, k);
        kept.push(part);
        k -= part.length;
      }
      let n = 0;
      for (const c of kept) n += c.length;
      return this.#write(offset, kept, n, false);
    }
    const bytes = chunks.length === 1 ? chunks[0] : concat(chunks, new Uint8Array(length));
    const keep = new Uint8Array(length);
    let bits = 0;
    for (let i = 0; i < length; i++) {
      if ((i & 31) === 0) bits = core.rng.nextUint32();
      keep[i] = (bits >>> (i & 31)) & 1;
    }
    const writes: Promise<void>[] = [];
    for (let i = 0; i < length;) {
      if (keep[i] === 0) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < length && keep[j] === 1) j++;
      writes.push(this.#write(offset + i, [bytes.subarray(i, j)], j - i, false));
      i = j;
    }
    return Promise.all(writes).then(noop);
  }

  #record(make: () => Op): Op | undefined {
    if (!this.#core.logging || this.gen.removed) return undefined;
    const op = make();
    op.seq = this.#core.seq++;
    this.#log.push(op);
    return op;
  }

  /** Forgets `op` if the inner call fails: then it did not happen. */
  #settle(p: Promise<void>, op: Op | undefined): Promise<void> {
    if (op === undefined) return p;
    return p.catch((err) => {
      const i = this.#log.indexOf(op);
      if (i >= 0) this.#log.splice(i, 1);
      throw err;
    });
  }
}
