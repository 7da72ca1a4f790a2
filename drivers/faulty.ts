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

import { checkOpenArgs, checkRemoveArgs, checkStorage } from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import { toHex, validatePartitionName } from "../core/names.ts";
import { openedBlob } from "../core/opened.ts";
import { Serial } from "../core/_serial.ts";
import { closeInner } from "../core/_close.ts";
import type { BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import { FaultyBlob } from "./_faulty_blob.ts";
import { Core, type Generation, injected, replay } from "./_faulty_state.ts";
import type { FaultyConfig } from "./faulty_config.ts";

export {
  type FaultRates,
  type FaultyConfig,
  INJECTED_FAULT_REASON,
  isInjectedFault,
  type PartialWriteMode,
} from "./faulty_config.ts";

const noop = (): void => {};

type Crashable = Storage & { crash(): unknown };

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
  /** Set by `close()`: later calls reject with `Closed`. */
  #closing: Promise<void> | undefined;

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
    this.#checkOpen(partition, hex);
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
    this.#checkOpen(partition, hex);
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
  async scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]> {
    validatePartitionName(partition);
    this.#checkOpen(partition, undefined);
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
    const pending = this.#core.killAll();
    this.#gens.clear();
    this.#epoch++;
    const innerDone = inner.crash.call(this.#inner);
    const plans = this.#core.survivors(pending);
    const target = this.#inner;
    return this.#serial.run(async () => {
      await innerDone;
      await replay(target, plans);
    });
  }

  /**
   * Closes every handle of this storage (what they did not sync is
   * forgotten, as their own `close` forgets it), then the inner storage;
   * operations issued before run first, later ones reject with `Closed`.
   *
   * @example
   * ```ts
   * import { FaultyStorage } from "@blobrt/storage/faulty";
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new FaultyStorage(new MemoryStorage(), { seed: 1 });
   * const { blob } = await storage.open("p", "b");
   * await storage.close();
   * await assert.rejects(blob.sync(), { code: "Closed" });
   * ```
   *
   * @returns A promise that resolves once the handles and the inner storage are closed.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#serial.run(async () => {
      await Promise.all([...this.#core.handles].map((h) => (h as FaultyBlob).close()));
      await closeInner(this.#inner);
    });
  }

  /**
   * Same as {@linkcode FaultyStorage.close}, for `await using`.
   *
   * @returns The promise of `close()`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkOpen(partition: string, blob: string | undefined): void {
    if (this.#closing !== undefined) throw new StorageError("Closed", { partition, blob });
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
