/**
 * {@linkcode PagedWriter}: the single-owner appender of commonware-runtime's
 * checksummed paged format (`utils/buffer/paged`), byte for byte, with its
 * read views {@linkcode Sealed} and {@linkcode Replay}.
 *
 * **Format.** A blob's logical bytes are cut into pages of `pageSize` bytes
 * (the {@linkcode PageCache}'s). Physical page `p` starts at blob offset
 * `p * (pageSize + 12)`: the page's bytes, zero-padded when it is the partial
 * last page, then a 12-byte record of two checksum slots,
 * `len1 u16 | crc1 u32 | len2 u16 | crc2 u32` (big-endian), each claiming
 * `crc = CRC32C(page[0, len))`. The valid slot with the larger `len` wins.
 * When a committed partial page grows, the whole physical page is rewritten
 * with the old slot byte-identical and the new checksum in the other slot, so
 * a torn rewrite still leaves the old prefix valid.
 *
 * **Durability.** Appended bytes are readable at once and durable after
 * {@linkcode PagedWriter.sync}. A sync with nothing else pending is one
 * `{ sync: true }` write; after plain writes or a resize it is a write and a
 * `Blob.sync`.
 *
 * **Crashes.** Between two syncs a disk may persist the unsynced writes in
 * any subset and order, or tear them at any byte: a page can be lost while a
 * later one survives. So the writer bounds what is unsynced: it never writes
 * more than the *window*, 1 MiB of physical pages (at least 4 pages; 256
 * pages of 4,084 bytes), past the first page that is not yet full and
 * durable. A write that would end further out is preceded by a `Blob.sync`
 * (a write longer than the window is cut at its end). The writer also syncs
 * before its first write when `open` did not cut the blob (its contents may
 * not be durable yet), and before the first write after a shrink to a page
 * boundary. A rewrite of a partial page keeps the slot of its durable
 * checksum byte-identical, also on a second rewrite before a sync.
 *
 * **Recovery.** {@linkcode PagedWriter.open} reads and checks the last
 * window's pages from the window's start (no earlier page can have been
 * touched since the last sync): it keeps them up to the first page that
 * fails its checks, or up to and including the first partial page, and cuts
 * off the rest (a hole, a torn page, a fragment of a page), syncing the cut.
 * After any crash, every byte in `[0, size)` reads, and `size` covers every
 * byte the last completed `sync` acknowledged; no reader needs
 * {@linkcode PagedWriter.recoverablePrefixLen}. Pages before the window are
 * not read at open: one damaged there otherwise (bit rot, or a crashed file
 * of a writer without this bound, such as commonware's) fails its reads
 * with `BlobCorrupt`, and `recoverablePrefixLen` finds it. The format is
 * unchanged: commonware reads these files, and we read its files.
 *
 * **Cost** (bench/RESULTS.md, "The unsynced window"): appends that never
 * sync pay one `Blob.sync` per MiB; appends that sync at least once per
 * window pay nothing more; `open` reads and checksums up to 1 MiB (the
 * whole blob when smaller) instead of the last page: about 10 ms on the test
 * machine under load, against under 1 ms before.
 *
 * **Failures.** A mutation (`append`, `flush`, `sync`, `resize`, `replay`,
 * `snapshot`, `seal`) that fails leaves the writer unusable: later calls
 * reject with `StorageError` code `Closed` whose `cause` is the first failure.
 * Reopen the blob to recover. Nothing else may write the blob while a writer
 * owns it.
 *
 * @example Append, crash, recover
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const cache = new PageCache({ pageSize: 4084, capacity: 32 });
 * let { blob, size } = await storage.open("journal", "0");
 * const writer = await PagedWriter.open(blob, size, { cache });
 * await writer.append(new TextEncoder().encode("kept"));
 * await writer.sync();
 * await writer.append(new TextEncoder().encode(" lost"));
 * storage.crash();
 * ({ blob, size } = await storage.open("journal", "0"));
 * const recovered = await PagedWriter.open(blob, size, { cache });
 * assert.equal(recovered.size, 4);
 * assert.equal(new TextDecoder().decode(await recovered.readAt(0, 4)), "kept");
 * ```
 *
 * @module
 */

import { crc32c } from "../core/crc32c.ts";
import { StorageError } from "../core/errors.ts";
import type { Blob } from "../core/types.ts";
import { type CacheCore, coreOf, corrupt, type Where } from "./_cache_core.ts";
import {
  type ActiveChecksum,
  putNewRecord,
  putSlot,
  RECORD_SIZE,
  SLOT_SIZE,
  validatePage,
} from "./_page_format.ts";
import * as view from "./_paged_view.ts";
import { recover, windowPages } from "./_recover.ts";
import { createReplay, Replay } from "./_replay.ts";
import { createSealed, prefetchPages, Sealed } from "./_sealed.ts";
import { whereOf } from "./_buffered_queue.ts";
import type { PageCache } from "./page_cache.ts";

export { Replay, Sealed };

/**
 * Options of {@linkcode PagedWriter.open}.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter, type PagedWriterOptions } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const { blob, size } = await new MemoryStorage().open("p", "b");
 * const options: PagedWriterOptions = {
 *   cache: new PageCache({ pageSize: 4084, capacity: 64 }),
 *   bufferSize: 16 * 4084,
 *   partition: "p",
 *   blob: "62",
 * };
 * const writer = await PagedWriter.open(blob, size, options);
 * assert.equal(writer.size, 0);
 * ```
 */
export interface PagedWriterOptions {
  /** The page cache; its `pageSize` is the blob's page size. */
  cache: PageCache;
  /**
   * Bytes of appends buffered before whole pages are written: rounded up to
   * whole pages, at least two. Default 64 KiB. Appends larger than the buffer
   * skip it and write their whole pages directly.
   */
  bufferSize?: number;
  /** The blob's partition, for the errors this writer raises itself. */
  partition?: string;
  /** The lowercase hex of the blob's name, for the errors this writer raises itself. */
  blob?: string;
}

/** Default write buffer: 64 KiB. */
const DEFAULT_BUFFER = 65536;
/** Most pages one direct (large-append) write carries. */
const DIRECT_WRITE_PAGES = 256;
/** Zeros for growing resizes (never written to). */
let zeros: Uint8Array | undefined;
const noop = (): void => {};

/** What `open` hands the constructor. */
interface Init {
  blob: Blob;
  core: CacheCore;
  where: Where;
  capacity: number;
  pages: number;
  partial: { bytes: Uint8Array; checksum: ActiveChecksum } | undefined;
  clean: boolean;
}

/**
 * The single owner of a paged blob: appends, reads back (from its buffer, the
 * page cache or the blob), syncs, resizes, and recovers on open (see the
 * module docs for the format). Calls may overlap: mutations run one at a time
 * in call order, reads run at once.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const { blob, size } = await new MemoryStorage().open("p", "b");
 * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 100, capacity: 8 }) });
 * assert.equal(await writer.append(new Uint8Array(150).fill(7)), 0);
 * assert.equal(await writer.append(new Uint8Array([1, 2])), 150);
 * await writer.sync();
 * assert.deepEqual(await writer.readAt(149, 3), new Uint8Array([7, 1, 2]));
 * ```
 */
export class PagedWriter {
  readonly #blob: Blob;
  readonly #core: CacheCore;
  readonly #id: number;
  readonly #where: Where;
  readonly #pageSize: number;
  readonly #physical: number;
  /** Buffer capacity in bytes, whole pages. */
  readonly #capacity: number;
  /** The largest logical size whose physical end a blob can address. */
  readonly #maxSize: number;
  /** Logical bytes from `#currentPage * pageSize` on; room for `#capacity` plus a page. */
  readonly #tip: Uint8Array;
  #tipLen: number;
  /** The page the tip starts at (every page before it is full on the blob). */
  #currentPage: number;
  /** The checksum of the partial page committed to the blob at `#currentPage`, if any. */
  #partial: ActiveChecksum | undefined;
  /** Whether mutations since the last sync are not yet durable. */
  #dirty: boolean;
  /** The window: the most pages written past `#anchor` before a sync (see `_recover.ts`). */
  readonly #window: number;
  /**
   * The first page that is not full and durable (pages before it are), as of
   * the last sync; -1 when unknown (the blob's contents at open, or an
   * unsynced resize): then the next write syncs first.
   */
  #anchor: number;
  /** The durable checksum of page `#anchor`, when it is a durable partial page. */
  #syncedPartial: ActiveChecksum | undefined;
  /** Records of one buffered flush. */
  readonly #records: Uint8Array;
  /** The tail of the mutation queue, while one runs. */
  #lock: Promise<void> | undefined;
  /** Mutations queued or running. */
  #pending = 0;
  #failure: unknown = undefined;
  #sealed = false;
  readonly #view: view.ViewSource;

  private constructor(init: Init) {
    const core = init.core;
    this.#blob = init.blob;
    this.#core = core;
    this.#id = core.nextId();
    this.#where = init.where;
    this.#pageSize = core.pageSize;
    this.#physical = core.physicalPageSize;
    this.#capacity = init.capacity;
    const addressable = Math.floor((Number.MAX_SAFE_INTEGER - 4096) / this.#physical);
    this.#maxSize = addressable * this.#pageSize;
    this.#tip = new Uint8Array(init.capacity + this.#pageSize);
    this.#records = new Uint8Array((init.capacity / this.#pageSize + 2) * RECORD_SIZE);
    if (init.partial === undefined) {
      this.#currentPage = init.pages;
      this.#partial = undefined;
      this.#tipLen = 0;
    } else {
      this.#currentPage = init.pages - 1;
      this.#partial = init.partial.checksum;
      this.#tip.set(init.partial.bytes);
      this.#tipLen = init.partial.bytes.length;
    }
    this.#dirty = !init.clean;
    this.#window = windowPages(this.#physical);
    this.#anchor = init.clean ? this.#currentPage : -1;
    this.#syncedPartial = init.clean ? this.#partial : undefined;
    this.#lock = undefined;
    // deno-lint-ignore no-this-alias
    const self = this;
    this.#view = {
      blob: init.blob,
      core,
      id: this.#id,
      where: init.where,
      get size(): number {
        return self.size;
      },
      get tailOffset(): number {
        return self.#currentPage * self.#pageSize;
      },
      get tail(): Uint8Array {
        return self.#tip;
      },
    };
  }

  /**
   * Takes ownership of `blob` and recovers it: checks the pages of the last
   * 1 MiB window (see the module docs) from its start, keeps them up to the
   * first that fails its checks or through the first partial one, cuts off
   * (and syncs the cut of) anything after, and loads a partial last page
   * into the buffer.
   *
   * @example A torn tail is cut off
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const cache = new PageCache({ pageSize: 64, capacity: 8 });
   * let { blob, size } = await storage.open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache });
   * await writer.append(new Uint8Array(100).fill(1));
   * await writer.sync();
   * await blob.writeAt(152, new Uint8Array(30).fill(9), { sync: true }); // garbage after page 2
   * ({ blob, size } = await storage.open("p", "b"));
   * assert.equal(size, 182);
   * const recovered = await PagedWriter.open(blob, size, { cache });
   * assert.equal(recovered.size, 100);
   * assert.equal((await storage.open("p", "b")).size, 152); // the cut is durable
   * ```
   *
   * @param blob The blob; nothing else may write it while the writer owns it.
   * @param size The blob's size as `Storage.open` returned it.
   * @param options The page cache and buffer size.
   * @returns The writer, positioned after the last valid byte.
   * @throws {TypeError} When `blob` is not a blob, `options.cache` not a
   *   {@linkcode PageCache}, or a number argument not a number.
   * @throws {RangeError} When `size` or `bufferSize` is out of range.
   * @throws {StorageError} The blob's read, resize and sync errors.
   */
  static async open(blob: Blob, size: number, options: PagedWriterOptions): Promise<PagedWriter> {
    if (
      typeof blob !== "object" || blob === null || typeof blob.readAt !== "function" ||
      typeof blob.writeAt !== "function" || typeof blob.resize !== "function" ||
      typeof blob.sync !== "function"
    ) {
      throw new TypeError("PagedWriter.open needs a Blob");
    }
    view.checkIndex(size, "size");
    if (typeof options !== "object" || options === null) {
      throw new TypeError("PagedWriter.open options must be an object");
    }
    const core = coreOf(options.cache);
    if (core === undefined) throw new TypeError("options.cache must be a PageCache");
    const bufferSize = options.bufferSize ?? DEFAULT_BUFFER;
    view.checkIndex(bufferSize, "bufferSize");
    if (bufferSize === 0) throw new RangeError("bufferSize must be positive");
    const where: Where = whereOf(options);
    const pageSize = core.pageSize;
    const capacity = Math.max(Math.ceil(bufferSize / pageSize), 2) * pageSize;

    const found = await recover(blob, size, pageSize);
    if (found.invalid) {
      await blob.resize(found.pages * core.physicalPageSize);
      await blob.sync();
    }
    return new PagedWriter({
      blob,
      core,
      where,
      capacity,
      pages: found.pages,
      partial: found.partial,
      clean: found.invalid,
    });
  }

  /**
   * The logical size: every byte appended (or recovered), flushed or not.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 8 }) });
   * await writer.append(new Uint8Array(10));
   * assert.equal(writer.size, 10);
   * ```
   */
  get size(): number {
    return this.#currentPage * this.#pageSize + this.#tipLen;
  }

  /**
   * Appends `data`; its bytes are readable at once and durable after
   * {@linkcode PagedWriter.sync}. Small appends go to the buffer, which writes
   * its whole pages when it overflows; an append larger than the buffer writes
   * its whole pages directly. The caller must not change `data` until the
   * promise settles.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 8 }) });
   * assert.equal(await writer.append(new Uint8Array(3)), 0);
   * assert.equal(await writer.append(new Uint8Array(1000)), 3); // bypasses the buffer
   * assert.equal(writer.size, 1003);
   * ```
   *
   * @param data The bytes.
   * @returns The logical offset of the first byte.
   * @throws {TypeError} When `data` is not a `Uint8Array`.
   * @throws {StorageError} `OffsetOverflow` past what a blob can address,
   *   `Closed` after a failure or `seal`, and the blob's write errors.
   */
  append(data: Uint8Array): Promise<number> {
    if (!(data instanceof Uint8Array)) {
      return Promise.reject(new TypeError("data must be a Uint8Array"));
    }
    const tipLen = this.#tipLen;
    const len = data.length;
    if (
      this.#pending === 0 && tipLen + len <= this.#capacity && this.#failure === undefined &&
      !this.#sealed
    ) {
      // Fast path: fits in the buffer, nothing to write.
      const offset = this.#currentPage * this.#pageSize + tipLen;
      if (offset + len > this.#maxSize) {
        return Promise.reject(new StorageError("OffsetOverflow", this.#where));
      }
      if (len <= 16) {
        const tip = this.#tip;
        for (let i = 0; i < len; i++) tip[tipLen + i] = data[i]!;
      } else {
        this.#tip.set(data, tipLen);
      }
      this.#tipLen = tipLen + len;
      return Promise.resolve(offset);
    }
    return this.#mutate(() => this.#append(data));
  }

  async #append(data: Uint8Array): Promise<number> {
    const pageSize = this.#pageSize;
    const len = data.length;
    const tipLen = this.#tipLen;
    const offset = this.size;
    if (offset + len > this.#maxSize) throw new StorageError("OffsetOverflow", this.#where);
    if (len === 0) return offset;
    const fill = Math.ceil(tipLen / pageSize) * pageSize - tipLen;
    if (tipLen + len > this.#capacity && len >= fill + pageSize) {
      await this.#appendDirect(data, fill);
      return offset;
    }
    this.#tip.set(data, tipLen);
    this.#tipLen = tipLen + len;
    if (this.#tipLen > this.#capacity) await this.#flush(false, false);
    return offset;
  }

  /** A large append: top up the current page, write whole pages directly, buffer the rest. */
  async #appendDirect(data: Uint8Array, fill: number): Promise<void> {
    const pageSize = this.#pageSize;
    if (fill > 0) {
      this.#tip.set(data.subarray(0, fill), this.#tipLen);
      this.#tipLen += fill;
    }
    if (this.#tipLen > 0) await this.#flush(false, false);
    const pages = Math.floor((data.length - fill) / pageSize);
    for (let done = 0; done < pages;) {
      const count = Math.min(pages - done, DIRECT_WRITE_PAGES);
      await this.#reserve(count);
      const from = fill + done * pageSize;
      const records = new Uint8Array(count * RECORD_SIZE);
      const chunks: Uint8Array[] = new Array(count * 2);
      for (let i = 0; i < count; i++) {
        const page = data.subarray(from + i * pageSize, from + (i + 1) * pageSize);
        putNewRecord(records, i * RECORD_SIZE, pageSize, crc32c(page), undefined);
        chunks[2 * i] = page;
        chunks[2 * i + 1] = records.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE);
      }
      await this.#writePages(chunks, false);
      this.#core.insert(this.#id, data, from, count, this.#currentPage);
      this.#currentPage += count;
      done += count;
    }
    const rest = data.subarray(fill + pages * pageSize);
    this.#tip.set(rest, 0);
    this.#tipLen = rest.length;
  }

  /**
   * Writes the buffer's whole pages (and, with `withPartial`, its partial
   * page) in one write at the current page. A committed partial page is
   * rewritten whole, its old checksum kept in its slot.
   *
   * @returns Whether anything was written.
   */
  async #flush(withPartial: boolean, durable: boolean): Promise<boolean> {
    const pageSize = this.#pageSize;
    const tip = this.#tip;
    const tipLen = this.#tipLen;
    const full = Math.floor(tipLen / pageSize);
    const partialLen = tipLen - full * pageSize;
    const old = this.#partial;
    const withTail = withPartial && partialLen > 0 &&
      !(full === 0 && old !== undefined && old.len === partialLen);
    if (full === 0 && !withTail) return false;
    await this.#reserve(full + (withTail ? 1 : 0));
    // A rewrite of the partial page keeps its durable checksum's slot as it is:
    // a second rewrite before a sync must not overwrite the one a crash needs.
    const keep = this.#anchor === this.#currentPage && this.#syncedPartial !== undefined
      ? this.#syncedPartial
      : old;
    const records = this.#records;
    const chunks: Uint8Array[] = new Array((full + (withTail ? 1 : 0)) * 2);
    for (let i = 0; i < full; i++) {
      const page = tip.subarray(i * pageSize, (i + 1) * pageSize);
      // The committed prefix of a grown partial page is already checksummed: continue its CRC.
      const crc = i === 0 && old !== undefined
        ? crc32c(page.subarray(old.len), old.crc)
        : crc32c(page);
      putNewRecord(records, i * RECORD_SIZE, pageSize, crc, i === 0 ? keep : undefined);
      chunks[2 * i] = page;
      chunks[2 * i + 1] = records.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE);
    }
    let next: ActiveChecksum | undefined;
    if (withTail) {
      const at = full * pageSize;
      tip.fill(0, tipLen, at + pageSize);
      const crc = full === 0 && old !== undefined
        ? crc32c(tip.subarray(old.len, tipLen), old.crc)
        : crc32c(tip.subarray(at, tipLen));
      next = putNewRecord(
        records,
        full * RECORD_SIZE,
        partialLen,
        crc,
        full === 0 ? keep : undefined,
      );
      chunks[2 * full] = tip.subarray(at, at + pageSize);
      chunks[2 * full + 1] = records.subarray(full * RECORD_SIZE, (full + 1) * RECORD_SIZE);
    }
    await this.#writePages(chunks, durable);
    // Publish: the whole pages move from the buffer to the cache in one step.
    if (full > 0) {
      this.#core.insert(this.#id, tip, 0, full, this.#currentPage);
      this.#currentPage += full;
      if (partialLen > 0) tip.copyWithin(0, full * pageSize, tipLen);
      this.#tipLen = partialLen;
    }
    this.#partial = next;
    if (durable) this.#markDurable();
    return true;
  }

  /** Everything issued is durable: the anchor moves to the current page. */
  #markDurable(): void {
    this.#anchor = this.#currentPage;
    this.#syncedPartial = this.#partial;
  }

  /** Syncs the blob if anything is not durable. */
  async #syncBlob(): Promise<void> {
    if (!this.#dirty) return;
    await this.#blob.sync();
    this.#dirty = false;
  }

  /**
   * Before a write of `pages` pages at the current page: syncs first unless
   * they (or, for more than a window, a window of them) end within the window
   * past the anchor.
   */
  async #reserve(pages: number): Promise<void> {
    const end = this.#currentPage + Math.min(pages, this.#window);
    if (this.#anchor >= 0 && end <= this.#anchor + this.#window) return;
    await this.#syncBlob();
    this.#markDurable();
  }

  /**
   * Writes `chunks` (page, record, page, record, …) at the current page,
   * keeping every write within the window past the anchor: a write longer
   * than the rest of the window is cut at its end, and the blob synced
   * before the rest (whose pages are all fresh).
   */
  async #writePages(chunks: Uint8Array[], durable: boolean): Promise<void> {
    const pages = chunks.length / 2;
    let page = this.#currentPage;
    for (let i = 0; i < pages;) {
      let fit = this.#anchor < 0 ? 0 : this.#anchor + this.#window - page;
      if (fit <= 0) {
        await this.#syncBlob();
        this.#anchor = page;
        this.#syncedPartial = page === this.#currentPage ? this.#partial : undefined;
        fit = this.#window;
      }
      const n = Math.min(fit, pages - i);
      const part = n === pages ? chunks : chunks.slice(2 * i, 2 * (i + n));
      await this.#write(page * this.#physical, part, durable && i + n === pages);
      i += n;
      page += n;
    }
  }

  /**
   * Writes, keeping track of what is durable: a durable write with nothing
   * else pending is one `{ sync: true }` write; otherwise a write and a sync.
   */
  async #write(offset: number, data: Uint8Array | Uint8Array[], durable: boolean): Promise<void> {
    if (!durable) {
      this.#dirty = true;
      await this.#blob.writeAt(offset, data);
    } else if (this.#dirty) {
      await this.#blob.writeAt(offset, data);
      await this.#blob.sync();
      this.#dirty = false;
    } else {
      this.#dirty = true;
      await this.#blob.writeAt(offset, data, { sync: true });
      this.#dirty = false;
    }
  }

  /**
   * Runs a mutation after those before it; a failure makes the writer
   * unusable.
   */
  #mutate<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    const run = async (): Promise<T> => {
      try {
        this.#checkUsable();
        return await fn();
      } catch (err) {
        const harmless = err instanceof TypeError || err instanceof RangeError ||
          (err instanceof StorageError && err.code === "OffsetOverflow");
        if (!harmless && this.#failure === undefined) this.#failure = err;
        throw err;
      } finally {
        // The last queued mutation reopens the fast path before its caller resumes.
        if (--this.#pending === 0) this.#lock = undefined;
      }
    };
    const prev = this.#lock;
    const result = prev === undefined ? run() : prev.then(run);
    if (this.#pending > 0) this.#lock = result.then(noop, noop);
    return result;
  }

  #checkUsable(): void {
    if (this.#sealed) {
      throw new StorageError("Closed", { ...this.#where, reason: "the writer was sealed" });
    }
    if (this.#failure !== undefined) {
      const f = this.#failure;
      throw new StorageError("Closed", {
        ...this.#where,
        reason: `the writer failed: ${f instanceof Error ? f.message : String(f)}`,
        cause: f,
      });
    }
  }

  /**
   * Reads exactly `length` bytes at `offset` into a new array: from the
   * buffer, the page cache, or the blob (each page read verified and cached).
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
   * assert.deepEqual(await writer.readAt(3, 3), new Uint8Array([4, 5, 6]));
   * await assert.rejects(writer.readAt(3, 4), { code: "BlobInsufficientLength" });
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
    return view.readAt(this.#view, offset, length);
  }

  /**
   * Fills `target` with the bytes at `offset` (commonware's `read_into`): the
   * allocation-free {@linkcode PagedWriter.readAt}.
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
   * const target = new Uint8Array(2);
   * await writer.readInto(target, 4);
   * assert.deepEqual(target, new Uint8Array([5, 6]));
   * ```
   *
   * @param target Where the bytes go; its length is how many.
   * @param offset Logical offset.
   * @throws {TypeError} When `target` is not a `Uint8Array` or `offset` not a number.
   * @throws {RangeError} When `offset` is not a non-negative safe integer.
   * @throws {StorageError} As {@linkcode PagedWriter.readAt}.
   */
  readInto(target: Uint8Array, offset: number): Promise<void> {
    return view.readInto(this.#view, target, offset);
  }

  /**
   * Reads items of `itemSize` bytes at sorted, non-overlapping `offsets` into
   * `target`, back to back (commonware's `read_many_into`). Items the buffer
   * and the page cache cannot serve are read from the blob concurrently.
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
   * const target = new Uint8Array(6);
   * assert.equal(await writer.readManyInto(target, [0, 4, 7], 2), 3); // all from memory
   * assert.deepEqual(target, new Uint8Array([0, 1, 4, 5, 7, 8]));
   * ```
   *
   * @param target Exactly `offsets.length * itemSize` bytes.
   * @param offsets Logical offsets, ascending, items not overlapping.
   * @param itemSize Bytes per item.
   * @returns How many items were served without reading the blob.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} When `target` has the wrong length, the offsets are
   *   not sorted or items overlap, or a number is out of range.
   * @throws {StorageError} As {@linkcode PagedWriter.readAt}.
   */
  readManyInto(target: Uint8Array, offsets: readonly number[], itemSize: number): Promise<number> {
    return view.readManyInto(this.#view, target, offsets, itemSize);
  }

  /**
   * Reads up to `length` bytes at `offset`: as many as exist (commonware's
   * `read_up_to`). A zero `length` gives an empty result.
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
   * assert.deepEqual(await writer.readUpTo(1, 100), new Uint8Array([2, 3]));
   * const target = new Uint8Array(8);
   * assert.equal((await writer.readUpTo(0, 8, target)).length, 3); // a view of target
   * assert.equal((await writer.readUpTo(0, 0, target)).length, 0);
   * await assert.rejects(writer.readUpTo(3, 1), { code: "BlobInsufficientLength" });
   * ```
   *
   * @param offset Logical offset.
   * @param length The most bytes to read.
   * @param target Optional buffer of at least `length` bytes to read into.
   * @returns The bytes read (a view of `target` when given).
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} When an argument is out of range or `target` is too short.
   * @throws {StorageError} `BlobInsufficientLength` when no byte exists at
   *   `offset` (and `length > 0`), and as {@linkcode PagedWriter.readAt}.
   */
  readUpTo(offset: number, length: number, target?: Uint8Array): Promise<Uint8Array> {
    return view.readUpTo(this.#view, offset, length, target);
  }

  /**
   * Reads into `target` only if it needs no I/O: every byte is in the buffer
   * or the page cache (commonware's `try_read_sync_into`).
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
   * const target = new Uint8Array(2);
   * assert.equal(writer.tryReadSyncInto(target, 1), true);
   * assert.deepEqual(target, new Uint8Array([2, 3]));
   * assert.equal(writer.tryReadSyncInto(target, 2), false); // past the end
   * ```
   *
   * @param target Where the bytes go.
   * @param offset Logical offset.
   * @returns `true` if every byte was served; otherwise `target` holds unspecified bytes.
   * @throws {TypeError} When `target` is not a `Uint8Array` or `offset` not a number.
   * @throws {RangeError} When `offset` is not a non-negative safe integer.
   */
  tryReadSyncInto(target: Uint8Array, offset: number): boolean {
    return view.tryReadSyncInto(this.#view, target, offset);
  }

  /**
   * Writes everything buffered, the partial last page included, and makes
   * every mutation durable: one `{ sync: true }` write when nothing else is
   * pending, otherwise a write and a `Blob.sync` (or just the sync).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob, size } = await storage.open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 8 }) });
   * await writer.append(new Uint8Array(10));
   * await writer.sync();
   * storage.crash();
   * assert.equal((await storage.open("p", "b")).size, 76); // one physical page
   * ```
   *
   * @throws {StorageError} `Closed` after a failure or `seal`, and the blob's
   *   write and sync errors.
   */
  sync(): Promise<void> {
    return this.#mutate(() => this.#sync());
  }

  /**
   * Writes everything buffered, the partial last page included, without
   * making it durable (a later {@linkcode PagedWriter.sync} does). Other
   * handles on the blob then see the bytes.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const { blob, size } = await new MemoryStorage().open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 64, capacity: 8 }) });
   * await writer.append(new Uint8Array(10));
   * await writer.flush();
   * assert.equal((await blob.readAt(0, 76)).length, 76); // one physical page, not yet durable
   * ```
   *
   * @throws {StorageError} `Closed` after a failure or `seal`, and the blob's
   *   write and sync errors (a flush may sync first to bound what is unsynced).
   */
  flush(): Promise<void> {
    return this.#mutate(async () => {
      await this.#flush(true, false);
    });
  }

  async #sync(): Promise<void> {
    if (await this.#flush(true, true)) return;
    await this.#syncBlob();
    this.#markDurable();
  }

  /**
   * Sets the logical size to `size`. Growing appends zeros. Shrinking syncs,
   * resizes the blob to the pages left, drops the cut pages from the cache,
   * and when `size` ends inside a page, makes the shorter checksum
   * authoritative in three durable writes of at most 6 bytes each (stage the
   * new checksum with length 0 in the free slot, publish its length, zero the
   * old slot's length), so a crash at any point recovers the old page or the
   * new one. The blob's resize itself is durable after the next sync.
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
   * await writer.resize(3);
   * await writer.resize(5);
   * assert.deepEqual(await writer.readAt(0, 5), new Uint8Array([1, 2, 3, 0, 0]));
   * ```
   *
   * @param size The new logical size.
   * @throws {TypeError} When `size` is not a number.
   * @throws {RangeError} When `size` is not a non-negative safe integer.
   * @throws {StorageError} `BlobCorrupt` when the page `size` ends in fails its
   *   checks, `Closed` after a failure or `seal`, and the blob's errors.
   */
  resize(size: number): Promise<void> {
    try {
      view.checkIndex(size, "size");
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#mutate(() => this.#resize(size));
  }

  async #resize(target: number): Promise<void> {
    const size = this.size;
    if (target === size) return;
    if (target > size) {
      if (target > this.#maxSize) throw new StorageError("OffsetOverflow", this.#where);
      zeros ??= new Uint8Array(1 << 20);
      for (let left = target - size; left > 0;) {
        const n = Math.min(left, zeros.length);
        await this.#append(zeros.subarray(0, n));
        left -= n;
      }
      return;
    }
    await this.#shrink(target);
  }

  async #shrink(target: number): Promise<void> {
    const pageSize = this.#pageSize;
    const physical = this.#physical;
    await this.#sync();
    const full = Math.floor(target / pageSize);
    const rest = target - full * pageSize;
    const newPhysical = (full + (rest > 0 ? 1 : 0)) * physical;
    const oldPhysical = (this.#currentPage + (this.#partial !== undefined ? 1 : 0)) * physical;
    if (newPhysical !== oldPhysical) {
      this.#dirty = true;
      // Until the resize is durable, a crash may keep the old length: the
      // next write syncs first (see `#reserve`).
      this.#anchor = -1;
      await this.#blob.resize(newPhysical);
    }
    this.#core.invalidateFrom(this.#id, full);
    this.#currentPage = full;
    this.#tipLen = 0;
    this.#partial = undefined;
    if (rest === 0) return;

    const raw = (await this.#blob.readAt(full * physical, physical)).bytes();
    const old = validatePage(raw, 0, pageSize);
    if (old === undefined || old.len < rest) throw corrupt(this.#where);
    this.#tip.set(raw.subarray(0, rest));
    this.#tipLen = rest;
    const crc = crc32c(this.#tip.subarray(0, rest));
    const recordAt = full * physical + pageSize;
    const slot = old.slot === 0 ? 1 : 0;
    const staged = new Uint8Array(SLOT_SIZE);
    putSlot(staged, 0, 0, crc);
    await this.#write(recordAt + slot * SLOT_SIZE, staged, true);
    await this.#write(recordAt + slot * SLOT_SIZE, new Uint8Array([rest >>> 8, rest & 0xff]), true);
    await this.#write(recordAt + old.slot * SLOT_SIZE, new Uint8Array(2), true);
    this.#partial = { slot, len: rest, crc };
    this.#markDurable();
  }

  /**
   * Writes what is buffered (without syncing) and returns a sequential reader
   * of every logical byte that verifies each page it reads (commonware's
   * `replay`).
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
   * const replay = await writer.replay(8);
   * assert.equal(await replay.ensure(5), true);
   * assert.deepEqual(replay.copyToBytes(5), new Uint8Array([1, 2, 3, 4, 5]));
   * ```
   *
   * @param bufferSize Bytes per blob read (rounded down to whole physical
   *   pages, at least one); default 64 KiB.
   * @returns The replay, at offset 0.
   * @throws {RangeError} When `bufferSize` is not a positive safe integer.
   * @throws {StorageError} `Closed` after a failure or `seal`, and the blob's
   *   write errors.
   */
  replay(bufferSize?: number): Promise<Replay> {
    let prefetch: number;
    try {
      prefetch = prefetchPages(bufferSize, this.#physical);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#mutate(async () => {
      await this.#flush(true, false);
      const partial = this.#partial;
      const pages = this.#currentPage + (partial !== undefined ? 1 : 0);
      return createReplay({
        blob: this.#blob,
        where: this.#where,
        pageSize: this.#pageSize,
        physicalSize: pages * this.#physical,
        logicalSize: this.#currentPage * this.#pageSize + (partial?.len ?? 0),
        prefetchPages: prefetch,
      });
    });
  }

  /**
   * Writes what is buffered (without syncing) and returns an immutable view of
   * the blob as it is now; the writer goes on. If the writer later shrinks
   * into the snapshot's range, the snapshot's reads of that range are
   * unspecified.
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
   * const snapshot = await writer.snapshot();
   * await writer.append(new Uint8Array([4]));
   * assert.equal(snapshot.size, 3);
   * assert.deepEqual(await snapshot.readAt(0, 3), new Uint8Array([1, 2, 3]));
   * ```
   *
   * @returns The view.
   * @throws {StorageError} `Closed` after a failure or `seal`, and the blob's write errors.
   */
  snapshot(): Promise<Sealed> {
    return this.#mutate(async () => {
      await this.#flush(true, false);
      return this.#sealedView(this.#core.nextId());
    });
  }

  /**
   * Makes everything durable (as {@linkcode PagedWriter.sync}) and turns the
   * writer into an immutable view: later calls on the writer reject with
   * `Closed`. The view keeps the writer's cached pages. Unlike commonware's
   * `seal`, which returns a handle of the sync it starts, this resolves when
   * the sync is done.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob, size } = await storage.open("p", "b");
   * const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4, capacity: 8 }) });
   * await writer.append(new Uint8Array([1, 2, 3]));
   * const sealed = await writer.seal();
   * assert.deepEqual(await sealed.readAt(0, 3), new Uint8Array([1, 2, 3]));
   * await assert.rejects(writer.sync(), { code: "Closed" });
   * storage.crash();
   * assert.equal((await storage.open("p", "b")).size, 16); // durable
   * ```
   *
   * @returns The view.
   * @throws {StorageError} `Closed` after a failure or an earlier `seal`, and
   *   the blob's write and sync errors.
   */
  seal(): Promise<Sealed> {
    return this.#mutate(async () => {
      await this.#sync();
      this.#sealed = true;
      return this.#sealedView(this.#id);
    });
  }

  #sealedView(id: number): Sealed {
    return createSealed({
      blob: this.#blob,
      core: this.#core,
      id,
      where: this.#where,
      size: this.size,
      tail: this.#tip.slice(0, this.#tipLen),
    });
  }

  /**
   * The length of the longest run of well-formed pages from the start of the
   * blob (commonware's `recoverable_prefix_len`): scans forward, verifying
   * every page, and stops at the first invalid page or after a partial one.
   * After `open` it is the size unless a page before the last window was
   * damaged (crashes cannot do that to this writer's blobs; see the module
   * docs). Expects every appended byte to be on the blob (as right after
   * `open` or `sync`).
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
   * await writer.sync();
   * assert.equal(await writer.recoverablePrefixLen(), 6);
   * await blob.writeAt(0, new Uint8Array([9])); // corrupt page 0
   * assert.equal(await writer.recoverablePrefixLen(), 0);
   * ```
   *
   * @returns The number of logical bytes.
   * @throws {StorageError} The blob's read errors.
   */
  async recoverablePrefixLen(): Promise<number> {
    const pages = this.#currentPage + (this.#partial !== undefined ? 1 : 0);
    const physical = this.#physical;
    const batch = 16;
    let valid = 0;
    for (let first = 0; first < pages; first += batch) {
      const count = Math.min(batch, pages - first);
      const buf = (await this.#blob.readAt(first * physical, count * physical)).bytes();
      for (let i = 0; i < count; i++) {
        const checksum = validatePage(buf, i * physical, this.#pageSize);
        if (checksum === undefined) return valid;
        valid += checksum.len;
        if (checksum.len < this.#pageSize) return valid;
      }
    }
    return valid;
  }
}
