/**
 * {@linkcode Sealed}: an immutable read view of a paged blob (commonware's
 * `paged::Sealed`), from `PagedWriter.seal` or `PagedWriter.snapshot`.
 *
 * @module
 */

import type { Blob } from "../core/types.ts";
import type { CacheCore, Where } from "./_cache_core.ts";
import { RECORD_SIZE } from "./_page_format.ts";
import * as view from "./_paged_view.ts";
import { createReplay, type Replay } from "./_replay.ts";

/** What a sealed view is made of. */
export interface SealedInit {
  blob: Blob;
  core: CacheCore;
  id: number;
  where: Where;
  size: number;
  /** A copy of the partial last page's bytes (empty when the last page is full). */
  tail: Uint8Array;
}

let creating: SealedInit | undefined;

/** Builds a sealed view (for `PagedWriter.seal` and `PagedWriter.snapshot`). */
export function createSealed(init: SealedInit): Sealed {
  creating = init;
  try {
    return new Sealed();
  } finally {
    creating = undefined;
  }
}

/** Default bytes per replay read: 64 KiB. */
export const DEFAULT_REPLAY_BUFFER = 65536;

/** Checks a replay buffer size and turns it into pages per read. */
export function prefetchPages(bufferSize: number | undefined, physical: number): number {
  const bytes = bufferSize ?? DEFAULT_REPLAY_BUFFER;
  view.checkIndex(bytes, "bufferSize");
  if (bytes === 0) throw new RangeError("bufferSize must be positive");
  return Math.max(1, Math.floor(bytes / physical));
}

/**
 * A read-only view of a paged blob whose logical content no longer changes:
 * full pages come from the page cache or the blob (verified), the partial
 * last page from memory. Reads work as on `PagedWriter`. Get one from
 * `PagedWriter.seal` (which also makes everything durable and retires the
 * writer) or `PagedWriter.snapshot` (the writer goes on; if it later shrinks
 * into the snapshot's range, the snapshot's reads of that range are
 * unspecified).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const { blob, size } = await new MemoryStorage().open("p", "b");
 * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 8 }) });
 * await writer.append(new TextEncoder().encode("sealed bytes"));
 * const sealed = await writer.seal();
 * assert.equal(sealed.size, 12);
 * assert.equal(new TextDecoder().decode(await sealed.readAt(7, 5)), "bytes");
 * await assert.rejects(writer.append(new Uint8Array(1)), { code: "Closed" });
 * ```
 */
export class Sealed {
  readonly #v: view.ViewSource;

  /**
   * Not for direct use: sealed views come from `PagedWriter.seal` and
   * `PagedWriter.snapshot`.
   *
   * @throws {TypeError} Always, when called directly.
   */
  constructor() {
    const init = creating;
    if (init === undefined) {
      throw new TypeError("Sealed is created by PagedWriter.seal() or PagedWriter.snapshot()");
    }
    this.#v = {
      blob: init.blob,
      core: init.core,
      id: init.id,
      where: init.where,
      size: init.size,
      tailOffset: init.size - init.tail.length,
      tail: init.tail,
    };
  }

  /**
   * The logical size.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 8 }) });
   * await writer.append(new Uint8Array(100));
   * assert.equal((await writer.snapshot()).size, 100);
   * ```
   */
  get size(): number {
    return this.#v.size;
  }

  /**
   * Reads exactly `length` bytes at `offset` into a new array.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
   * const sealed = await writer.snapshot();
   * assert.deepEqual(await sealed.readAt(2, 4), new Uint8Array([3, 4, 5, 6]));
   * await assert.rejects(sealed.readAt(2, 5), { code: "BlobInsufficientLength" });
   * ```
   *
   * @param offset Logical offset.
   * @param length How many bytes.
   * @returns The bytes.
   * @throws {TypeError} When an argument is not a number.
   * @throws {RangeError} When an argument is not a non-negative safe integer.
   * @throws {StorageError} `BlobInsufficientLength` past the size, `BlobCorrupt`
   *   for a page that fails its checks, and the blob's read errors.
   */
  readAt(offset: number, length: number): Promise<Uint8Array> {
    return view.readAt(this.#v, offset, length);
  }

  /**
   * Fills `target` with the bytes at `offset`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
   * const sealed = await writer.snapshot();
   * const target = new Uint8Array(2);
   * await sealed.readInto(target, 3);
   * assert.deepEqual(target, new Uint8Array([4, 5]));
   * ```
   *
   * @param target Where the bytes go; its length is how many.
   * @param offset Logical offset.
   * @throws {TypeError} When `target` is not a `Uint8Array` or `offset` not a number.
   * @throws {RangeError} When `offset` is not a non-negative safe integer.
   * @throws {StorageError} As {@linkcode Sealed.readAt}.
   */
  readInto(target: Uint8Array, offset: number): Promise<void> {
    return view.readInto(this.#v, target, offset);
  }

  /**
   * Reads items of `itemSize` bytes at sorted, non-overlapping `offsets` into
   * `target`, back to back (commonware's `read_many_into`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
   * const sealed = await writer.seal();
   * const target = new Uint8Array(4);
   * await sealed.readManyInto(target, [1, 8], 2);
   * assert.deepEqual(target, new Uint8Array([1, 2, 8, 9]));
   * ```
   *
   * @param target Exactly `offsets.length * itemSize` bytes.
   * @param offsets Logical offsets, ascending, items not overlapping.
   * @param itemSize Bytes per item.
   * @returns How many items were served without reading the blob.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} When `target` has the wrong length, the offsets are
   *   not sorted or items overlap, or a number is out of range.
   * @throws {StorageError} As {@linkcode Sealed.readAt}.
   */
  readManyInto(target: Uint8Array, offsets: readonly number[], itemSize: number): Promise<number> {
    return view.readManyInto(this.#v, target, offsets, itemSize);
  }

  /**
   * Reads up to `length` bytes at `offset`: as many as exist, at least one
   * (commonware's `read_up_to`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([1, 2, 3]));
   * const sealed = await writer.snapshot();
   * assert.deepEqual(await sealed.readUpTo(1, 10), new Uint8Array([2, 3]));
   * ```
   *
   * @param offset Logical offset.
   * @param length The most bytes to read.
   * @param target Optional buffer of at least `length` bytes to read into.
   * @returns The bytes read (a view of `target` when given).
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} When an argument is out of range or `target` is too short.
   * @throws {StorageError} `BlobInsufficientLength` when no byte exists at `offset`
   *   (and `length > 0`), and as {@linkcode Sealed.readAt}.
   */
  readUpTo(offset: number, length: number, target?: Uint8Array): Promise<Uint8Array> {
    return view.readUpTo(this.#v, offset, length, target);
  }

  /**
   * Reads into `target` only if no I/O is needed (the bytes are in the page
   * cache or in memory).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([1, 2, 3]));
   * const sealed = await writer.snapshot();
   * const target = new Uint8Array(3);
   * assert.equal(sealed.tryReadSyncInto(target, 0), true); // the partial page is in memory
   * ```
   *
   * @param target Where the bytes go.
   * @param offset Logical offset.
   * @returns `true` if every byte was served; otherwise `target` holds unspecified bytes.
   */
  tryReadSyncInto(target: Uint8Array, offset: number): boolean {
    return view.tryReadSyncInto(this.#v, target, offset);
  }

  /**
   * A sequential, verifying reader of every logical byte (see
   * {@linkcode Replay}).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5]));
   * const replay = (await writer.seal()).replay();
   * await replay.ensure(5);
   * assert.deepEqual(replay.copyToBytes(5), new Uint8Array([1, 2, 3, 4, 5]));
   * ```
   *
   * @param bufferSize Bytes per blob read (rounded down to whole physical
   *   pages, at least one); default 64 KiB.
   * @returns The replay, positioned at offset 0.
   * @throws {RangeError} When `bufferSize` is not a positive safe integer.
   */
  replay(bufferSize?: number): Replay {
    const v = this.#v;
    const pageSize = v.core.pageSize;
    const physical = pageSize + RECORD_SIZE;
    const prefetch = prefetchPages(bufferSize, physical);
    const pages = Math.ceil(v.size / pageSize);
    return createReplay({
      blob: v.blob,
      where: v.where,
      pageSize,
      physicalSize: pages * physical,
      logicalSize: v.size,
      prefetchPages: prefetch,
    });
  }
}
