/**
 * {@linkcode Replay}: a sequential reader of a paged blob's logical bytes
 * that verifies every page it reads (commonware's `paged::Replay`).
 *
 * @module
 */

import { StorageError } from "../core/errors.ts";
import type { Blob } from "../core/types.ts";
import { corrupt, type Where } from "./_cache_core.ts";
import { RECORD_SIZE, validatePage } from "./_page_format.ts";

/** What a replay reads: a blob and the extent of its pages. */
export interface ReplayInit {
  blob: Blob;
  where: Where;
  pageSize: number;
  /** Bytes of whole physical pages to read (a multiple of the physical page size). */
  physicalSize: number;
  /** Logical bytes they hold. */
  logicalSize: number;
  /** Pages per blob read, at least 1. */
  prefetchPages: number;
}

/** One batch of physical pages read from the blob. */
interface Batch {
  buf: Uint8Array;
  pages: number;
  /** Logical bytes exposed by the batch's last page. */
  lastLen: number;
}

let creating: ReplayInit | undefined;

/** Builds a replay (for `PagedWriter.replay` and `Sealed.replay`). */
export function createReplay(init: ReplayInit): Replay {
  creating = init;
  try {
    return new Replay();
  } finally {
    creating = undefined;
  }
}

/**
 * Reads the logical bytes of a paged blob from the start (or from
 * {@linkcode Replay.seekTo}), a batch of pages at a time, checking every
 * page's CRC record and skipping it in the output. Every page but the last
 * must be full. Obtained from `PagedWriter.replay` or `Sealed.replay`.
 *
 * The interface is commonware's (`bytes::Buf` plus `ensure`):
 * {@linkcode Replay.ensure} loads at least `n` bytes (or reports the end),
 * {@linkcode Replay.chunk} shows the next contiguous bytes without copying,
 * {@linkcode Replay.advance} consumes them, {@linkcode Replay.remaining}
 * counts what is loaded and not consumed.
 *
 * @example Replay every byte, chunk by chunk
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const { blob, size } = await new MemoryStorage().open("p", "b");
 * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 100, capacity: 4 }) });
 * const data = new Uint8Array(250).map((_, i) => i);
 * await writer.append(data);
 * const replay = await writer.replay();
 * const seen: number[] = [];
 * while (await replay.ensure(1)) {
 *   const chunk = replay.chunk();
 *   seen.push(...chunk);
 *   replay.advance(chunk.length);
 * }
 * assert.deepEqual(new Uint8Array(seen), data);
 * ```
 */
export class Replay {
  readonly #blob: Blob;
  readonly #where: Where;
  readonly #pageSize: number;
  readonly #physical: number;
  readonly #physicalSize: number;
  readonly #logicalSize: number;
  readonly #prefetch: number;
  /** Next page to read from the blob. */
  #nextPage = 0;
  readonly #batches: Batch[] = [];
  #head = 0;
  /** Page within the front batch. */
  #page = 0;
  /** Offset within that page. */
  #inPage = 0;
  #remaining = 0;
  #exhausted = false;

  /**
   * Not for direct use: replays come from `PagedWriter.replay` and
   * `Sealed.replay`.
   *
   * @throws {TypeError} Always, when called directly.
   */
  constructor() {
    const init = creating;
    if (init === undefined) {
      throw new TypeError("Replay is created by PagedWriter.replay() or Sealed.replay()");
    }
    this.#blob = init.blob;
    this.#where = init.where;
    this.#pageSize = init.pageSize;
    this.#physical = init.pageSize + RECORD_SIZE;
    this.#physicalSize = init.physicalSize;
    this.#logicalSize = init.logicalSize;
    this.#prefetch = Math.max(1, init.prefetchPages);
  }

  /**
   * The logical size of the replayed blob.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 4 }) });
   * await writer.append(new Uint8Array(100));
   * assert.equal((await writer.replay()).size, 100);
   * ```
   */
  get size(): number {
    return this.#logicalSize;
  }

  /**
   * Whether every page has been read from the blob (loaded bytes may remain:
   * see {@linkcode Replay.remaining}).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 4 }) });
   * const replay = await writer.replay();
   * assert.equal(await replay.ensure(1), false);
   * assert.equal(replay.isExhausted, true);
   * ```
   */
  get isExhausted(): boolean {
    return this.#exhausted;
  }

  /**
   * Logical bytes loaded and not yet consumed.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 4 }) });
   * await writer.append(new Uint8Array(10));
   * const replay = await writer.replay();
   * assert.equal(replay.remaining, 0);
   * await replay.ensure(10);
   * assert.equal(replay.remaining, 10);
   * ```
   */
  get remaining(): number {
    return this.#remaining;
  }

  /**
   * Loads pages until at least `n` bytes are available or the blob ends.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 4 }) });
   * await writer.append(new Uint8Array(10));
   * const replay = await writer.replay();
   * assert.equal(await replay.ensure(10), true);
   * assert.equal(await replay.ensure(11), false);
   * ```
   *
   * @param n How many bytes the caller needs.
   * @returns `true` when `n` bytes are available, `false` at the end of the
   *   blob with fewer (what is left can still be consumed).
   * @throws {StorageError} `BlobCorrupt` for a page that fails its checks (or
   *   a partial page before the last), and the blob's read errors.
   */
  async ensure(n: number): Promise<boolean> {
    while (this.#remaining < n && !this.#exhausted) {
      const batch = await this.#fill();
      if (batch === undefined) {
        this.#exhausted = true;
        break;
      }
      const skip = this.#batches.length === this.#head ? this.#inPage : 0;
      this.#batches.push(batch.state);
      this.#remaining += Math.max(0, batch.logical - skip);
    }
    return this.#remaining >= n;
  }

  async #fill(): Promise<{ state: Batch; logical: number } | undefined> {
    const physical = this.#physical;
    const start = this.#nextPage * physical;
    if (start >= this.#physicalSize) return undefined;
    const maxPages = Math.floor((this.#physicalSize - start) / physical);
    const pages = Math.min(maxPages, this.#prefetch);
    if (pages === 0) return undefined;
    const buf = (await this.#blob.readAt(start, pages * physical)).bytes();
    const finalBatch = pages === maxPages;
    let logical = 0;
    let lastLen = 0;
    for (let i = 0; i < pages; i++) {
      const checksum = validatePage(buf, i * physical, this.#pageSize);
      if (checksum === undefined) throw corrupt(this.#where);
      const isLast = finalBatch && i + 1 === pages;
      if (!isLast && checksum.len !== this.#pageSize) throw corrupt(this.#where);
      const logicalStart = (this.#nextPage + i) * this.#pageSize;
      const left = Math.max(0, this.#logicalSize - logicalStart);
      const exposed = Math.min(checksum.len, left, this.#pageSize);
      logical += exposed;
      lastLen = exposed;
    }
    this.#nextPage += pages;
    return { state: { buf, pages, lastLen }, logical };
  }

  #pageLen(b: Batch, page: number): number {
    return page + 1 === b.pages ? b.lastLen : this.#pageSize;
  }

  /**
   * The next loaded bytes, up to the end of the current page: a view, not a
   * copy (valid until the replay moves on). Empty when nothing is loaded.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 4 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
   * const replay = await writer.replay();
   * await replay.ensure(6);
   * assert.deepEqual(replay.chunk(), new Uint8Array([1, 2, 3, 4])); // one page
   * ```
   *
   * @returns The bytes.
   */
  chunk(): Uint8Array {
    const b = this.#batches[this.#head];
    if (b === undefined || this.#page >= b.pages) return new Uint8Array(0);
    const base = this.#page * this.#physical;
    return b.buf.subarray(base + this.#inPage, base + this.#pageLen(b, this.#page));
  }

  /**
   * Consumes `n` loaded bytes.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 4 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
   * const replay = await writer.replay();
   * await replay.ensure(6);
   * replay.advance(3);
   * assert.deepEqual(replay.chunk(), new Uint8Array([4]));
   * assert.equal(replay.remaining, 3);
   * ```
   *
   * @param n How many bytes, at most {@linkcode Replay.remaining}.
   * @throws {RangeError} When `n` is more than is loaded.
   */
  advance(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.#remaining) {
      throw new RangeError(`cannot advance ${n} bytes with ${this.#remaining} loaded`);
    }
    this.#remaining -= n;
    let left = n;
    while (left > 0) {
      const b = this.#batches[this.#head];
      if (b === undefined) break;
      while (left > 0 && this.#page < b.pages) {
        const available = this.#pageLen(b, this.#page) - this.#inPage;
        if (left < available) {
          this.#inPage += left;
          return;
        }
        left -= available;
        this.#page++;
        this.#inPage = 0;
      }
      if (this.#page >= b.pages) this.#dropFront();
    }
    // Drop a batch consumed exactly, so chunk() moves on to the next one.
    const front = this.#batches[this.#head];
    if (front !== undefined && this.#page >= front.pages) this.#dropFront();
  }

  #dropFront(): void {
    this.#batches[this.#head] = undefined as unknown as Batch;
    this.#head++;
    this.#page = 0;
    this.#inPage = 0;
    if (this.#head === this.#batches.length) {
      this.#batches.length = 0;
      this.#head = 0;
    }
  }

  /**
   * Copies the next `n` loaded bytes out (across pages) and consumes them.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 4 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
   * const replay = await writer.replay();
   * await replay.ensure(6);
   * replay.advance(2);
   * assert.deepEqual(replay.copyToBytes(3), new Uint8Array([3, 4, 5])); // spans two pages
   * ```
   *
   * @param n How many bytes, at most {@linkcode Replay.remaining}.
   * @returns A copy of them.
   * @throws {RangeError} When fewer than `n` bytes are loaded.
   */
  copyToBytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.#remaining) {
      throw new RangeError(`cannot copy ${n} bytes with ${this.#remaining} loaded`);
    }
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const chunk = this.chunk();
      const take = Math.min(chunk.length, n - done);
      out.set(chunk.subarray(0, take), done);
      done += take;
      this.advance(take);
    }
    return out;
  }

  /**
   * Moves to logical `offset`, dropping what is loaded; the next
   * {@linkcode Replay.ensure} reads from the page holding it.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 4 }) });
   * await writer.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
   * const replay = await writer.replay();
   * replay.seekTo(5);
   * await replay.ensure(1);
   * assert.deepEqual(replay.copyToBytes(1), new Uint8Array([6]));
   * assert.throws(() => replay.seekTo(7), { code: "BlobInsufficientLength" });
   * ```
   *
   * @param offset A logical offset, at most {@linkcode Replay.size}.
   * @throws {TypeError} When `offset` is not a number.
   * @throws {RangeError} When `offset` is not a non-negative safe integer.
   * @throws {StorageError} `BlobInsufficientLength` past the size.
   */
  seekTo(offset: number): void {
    if (typeof offset !== "number") throw new TypeError("offset must be a number");
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`offset must be a non-negative safe integer, got ${offset}`);
    }
    if (offset > this.#logicalSize) throw new StorageError("BlobInsufficientLength", this.#where);
    this.#batches.length = 0;
    this.#head = 0;
    this.#remaining = 0;
    this.#exhausted = false;
    this.#nextPage = Math.floor(offset / this.#pageSize);
    this.#page = 0;
    this.#inPage = offset % this.#pageSize;
  }
}
