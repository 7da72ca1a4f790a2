/**
 * {@linkcode PageCache}: the page cache of the checksummed paged format,
 * shared by any number of `PagedWriter`s (the TypeScript counterpart
 * of commonware-runtime's `paged::CacheRef`).
 *
 * - It holds *logical* pages of `pageSize` bytes; on disk each page takes
 *   `pageSize + 12` bytes (the page, then its CRC record).
 * - Only full pages whose checksum was verified (or that a writer just wrote)
 *   are cached; the partial last page of a blob lives in its writer.
 * - At most `capacity` pages, in memory allocated once, up front; when full,
 *   CLOCK (second chance) picks the page to evict.
 * - Concurrent reads that miss on the same page share one read of the blob.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const cache = new PageCache({ pageSize: 4084, capacity: 64 }); // 4096-byte physical pages
 * const storage = new MemoryStorage();
 * const a = await storage.open("log", "a");
 * const b = await storage.open("log", "b");
 * const wa = await PagedWriter.open(a.blob, a.size, { cache });
 * const wb = await PagedWriter.open(b.blob, b.size, { cache });
 * await wa.append(new Uint8Array(5000).fill(1));
 * await wb.append(new Uint8Array(5000).fill(2));
 * await wa.sync();
 * await wb.sync();
 * assert.equal(cache.cachedPages, 2); // one full page of each blob
 * ```
 *
 * @module
 */

import { bindCore, CacheCore } from "./_cache_core.ts";
import { RECORD_SIZE } from "./_page_format.ts";

/**
 * Options of {@linkcode PageCache}.
 *
 * @example
 * ```ts
 * import { PageCache, type PageCacheOptions } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const options: PageCacheOptions = { pageSize: 4084, capacity: 1024 };
 * assert.equal(new PageCache(options).physicalPageSize, 4096);
 * ```
 */
export interface PageCacheOptions {
  /**
   * Logical bytes per page, an integer from 1 to 65535. Fixed per store and
   * stored nowhere: opening a blob with another page size fails its checks and
   * a writer truncates it. 4084 makes each physical page exactly 4096 bytes.
   */
  pageSize: number;
  /** How many pages the cache holds, a positive integer. */
  capacity: number;
}

/**
 * A cache of verified logical pages shared by many paged writers and views
 * (see the module docs).
 *
 * @example
 * ```ts
 * import { PageCache } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const cache = new PageCache({ pageSize: 1024, capacity: 16 });
 * assert.equal(cache.physicalPageSize, 1036);
 * assert.throws(() => new PageCache({ pageSize: 0, capacity: 16 }), RangeError);
 * assert.throws(() => new PageCache({ pageSize: 1024, capacity: 0 }), RangeError);
 * ```
 */
export class PageCache {
  readonly #core: CacheCore;

  /**
   * Allocates a cache of `capacity` pages of `pageSize` bytes.
   *
   * @param options Page size and capacity.
   * @throws {TypeError} When `options` is not an object or a field is not a number.
   * @throws {RangeError} When `pageSize` is not an integer in `[1, 65535]` or
   *   `capacity` not a positive safe integer, or the cache would not fit in one
   *   `ArrayBuffer`.
   */
  constructor(options: PageCacheOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("PageCache options must be an object");
    }
    const { pageSize, capacity } = options;
    if (typeof pageSize !== "number") throw new TypeError("pageSize must be a number");
    if (typeof capacity !== "number") throw new TypeError("capacity must be a number");
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 0xffff) {
      throw new RangeError(`pageSize must be an integer in [1, 65535], got ${pageSize}`);
    }
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive safe integer, got ${capacity}`);
    }
    if (pageSize * capacity > 2 ** 32) {
      throw new RangeError(`a cache of ${capacity} pages of ${pageSize} bytes is too large`);
    }
    this.#core = new CacheCore(pageSize, capacity);
    bindCore(this, this.#core);
  }

  /**
   * Logical bytes per page.
   *
   * @example
   * ```ts
   * import { PageCache } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new PageCache({ pageSize: 100, capacity: 1 }).pageSize, 100);
   * ```
   */
  get pageSize(): number {
    return this.#core.pageSize;
  }

  /**
   * Bytes per page on disk: `pageSize + 12` (the CRC record).
   *
   * @example
   * ```ts
   * import { PageCache } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new PageCache({ pageSize: 100, capacity: 1 }).physicalPageSize, 112);
   * ```
   */
  get physicalPageSize(): number {
    return this.#core.pageSize + RECORD_SIZE;
  }

  /**
   * The most pages the cache holds.
   *
   * @example
   * ```ts
   * import { PageCache } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new PageCache({ pageSize: 100, capacity: 8 }).capacity, 8);
   * ```
   */
  get capacity(): number {
    return this.#core.capacity;
  }

  /**
   * How many pages are cached now.
   *
   * @example
   * ```ts
   * import { PageCache } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new PageCache({ pageSize: 100, capacity: 8 }).cachedPages, 0);
   * ```
   */
  get cachedPages(): number {
    return this.#core.size;
  }

  /**
   * Drops every cached page (the memory is kept for reuse). Reads then go to
   * the blobs again. Meant for tests and benchmarks.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const cache = new PageCache({ pageSize: 64, capacity: 8 });
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache });
   * await writer.append(new Uint8Array(200));
   * await writer.sync();
   * assert.equal(cache.cachedPages, 3);
   * cache.clear();
   * assert.equal(cache.cachedPages, 0);
   * assert.deepEqual(await writer.readAt(0, 200), new Uint8Array(200)); // from the blob
   * ```
   */
  clear(): void {
    this.#core.clear();
  }

  /**
   * The logical page size whose physical page is exactly `physicalPageSize`
   * bytes (commonware's `paged::page_size`): `physicalPageSize - 12`.
   * `PageCache.pageSizeFor(4096)` is 4084, which puts every page of a V1 blob
   * on its own 4 KiB disk page.
   *
   * @example
   * ```ts
   * import { PageCache } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * assert.equal(PageCache.pageSizeFor(4096), 4084);
   * assert.throws(() => PageCache.pageSizeFor(1000), RangeError); // not a power of two
   * ```
   *
   * @param physicalPageSize A power of two from 16 to 65536.
   * @returns The logical page size.
   * @throws {RangeError} When `physicalPageSize` is not a power of two in `[16, 65536]`.
   */
  static pageSizeFor(physicalPageSize: number): number {
    const p = physicalPageSize;
    if (!Number.isInteger(p) || p < 16 || p > 65536 || (p & (p - 1)) !== 0) {
      throw new RangeError(`physical page size must be a power of two in [16, 65536], got ${p}`);
    }
    return p - RECORD_SIZE;
  }
}
