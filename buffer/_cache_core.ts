/**
 * The machinery behind `PageCache` (private): page slots in one preallocated
 * buffer, an index by `(id, page number)`, CLOCK (second chance) eviction,
 * single-flight fetches of missing pages, and per-id epochs so a fetch that
 * started before an invalidation never re-inserts stale bytes.
 *
 * Only full, verified logical pages enter. Every writer, snapshot or sealed
 * view takes its own id ({@linkcode CacheCore.nextId}).
 *
 * @module
 */

import { StorageError } from "../core/errors.ts";
import type { Blob } from "../core/types.ts";
import { INVALID_CHECKSUM, RECORD_SIZE, validatePage } from "./_page_format.ts";

/** Partition and blob (hex) that errors carry. */
export interface Where {
  readonly partition?: string;
  readonly blob?: string;
}

/** A `BlobCorrupt` for a page that fails its checks. */
export function corrupt(where: Where): StorageError {
  return new StorageError("BlobCorrupt", { ...where, reason: INVALID_CHECKSUM });
}

/** The pages of one id: page number to slot, and the id's invalidation epoch. */
interface IdPages {
  slots: Map<number, number>;
  epoch: number;
  fetches: Map<number, Promise<Uint8Array>>;
}

/** The shared state of one `PageCache`. */
export class CacheCore {
  readonly pageSize: number;
  readonly physicalPageSize: number;
  readonly capacity: number;
  /** `capacity` pages back to back. */
  readonly data: Uint8Array;
  /** Per slot: its owner id, or -1 when free. */
  readonly #slotId: Float64Array;
  /** Per slot: its page number. */
  readonly #slotPage: Float64Array;
  /** Per slot: the CLOCK reference bit. */
  readonly #ref: Uint8Array;
  /** Free slots (never used, or freed by an invalidation). */
  readonly #free: number[] = [];
  #hand = 0;
  #used = 0;
  #nextId = 0;
  readonly #ids = new Map<number, IdPages>();

  constructor(pageSize: number, capacity: number) {
    this.pageSize = pageSize;
    this.physicalPageSize = pageSize + RECORD_SIZE;
    this.capacity = capacity;
    this.data = new Uint8Array(pageSize * capacity);
    this.#slotId = new Float64Array(capacity).fill(-1);
    this.#slotPage = new Float64Array(capacity);
    this.#ref = new Uint8Array(capacity);
  }

  /** How many pages are cached. */
  get size(): number {
    return this.#used - this.#free.length;
  }

  /** A fresh id for a writer or view. */
  nextId(): number {
    const id = this.#nextId++;
    this.#ids.set(id, { slots: new Map(), epoch: 0, fetches: new Map() });
    return id;
  }

  /** The pages of `id` (created on first use, for ids handed out elsewhere). */
  pages(id: number): IdPages {
    let p = this.#ids.get(id);
    if (p === undefined) {
      p = { slots: new Map(), epoch: 0, fetches: new Map() };
      this.#ids.set(id, p);
    }
    return p;
  }

  /** Drops every page of `id` and forgets the id. */
  release(id: number): void {
    this.invalidateFrom(id, 0);
    this.#ids.delete(id);
  }

  /**
   * Caches `src[from, from + count * pageSize)` as pages `page, page + 1, ...`
   * of `id`, overwriting pages already cached.
   */
  insert(id: number, src: Uint8Array, from: number, count: number, page: number): void {
    const p = this.pages(id);
    const size = this.pageSize;
    for (let i = 0; i < count; i++) {
      const slot = this.#slotFor(p, id, page + i);
      this.data.set(src.subarray(from + i * size, from + (i + 1) * size), slot * size);
    }
  }

  #slotFor(p: IdPages, id: number, page: number): number {
    const found = p.slots.get(page);
    if (found !== undefined) {
      this.#ref[found] = 1;
      return found;
    }
    let slot: number;
    if (this.#free.length > 0) {
      slot = this.#free.pop()!;
    } else if (this.#used < this.capacity) {
      slot = this.#used++;
    } else {
      // CLOCK: clear reference bits until a slot without one comes around.
      const ref = this.#ref;
      let hand = this.#hand;
      while (ref[hand] === 1) {
        ref[hand] = 0;
        hand = hand + 1 === this.capacity ? 0 : hand + 1;
      }
      slot = hand;
      this.#hand = hand + 1 === this.capacity ? 0 : hand + 1;
      const oldId = this.#slotId[slot]!;
      this.#ids.get(oldId)?.slots.delete(this.#slotPage[slot]!);
    }
    this.#slotId[slot] = id;
    this.#slotPage[slot] = page;
    this.#ref[slot] = 1;
    p.slots.set(page, slot);
    return slot;
  }

  /**
   * Copies cached bytes of `id` at logical `offset` into `dst[at, at + length)`,
   * page by page, stopping at the first page not cached.
   *
   * @returns How many bytes were copied.
   */
  readCached(id: number, dst: Uint8Array, at: number, offset: number, length: number): number {
    const p = this.#ids.get(id);
    if (p === undefined) return 0;
    const size = this.pageSize;
    const data = this.data;
    let done = 0;
    while (done < length) {
      const o = offset + done;
      const page = Math.floor(o / size);
      const slot = p.slots.get(page);
      if (slot === undefined) break;
      this.#ref[slot] = 1;
      const inPage = o - page * size;
      const n = Math.min(length - done, size - inPage);
      const from = slot * size + inPage;
      if (n === 1) dst[at + done] = data[from]!;
      else dst.set(data.subarray(from, from + n), at + done);
      done += n;
    }
    return done;
  }

  /**
   * Reads `length` bytes of `id` at logical `offset` into `dst[at, ...)`, from
   * the cache or else from `blob` (each missing page fetched once, verified,
   * and cached, however many callers wait for it).
   */
  async read(
    blob: Blob,
    id: number,
    dst: Uint8Array,
    at: number,
    offset: number,
    length: number,
    where: Where,
  ): Promise<void> {
    const size = this.pageSize;
    let done = 0;
    while (done < length) {
      done += this.readCached(id, dst, at + done, offset + done, length - done);
      if (done >= length) break;
      const o = offset + done;
      const page = Math.floor(o / size);
      const bytes = await this.fetch(blob, id, page, where);
      const inPage = o - page * size;
      const n = Math.min(length - done, size - inPage);
      dst.set(bytes.subarray(inPage, inPage + n), at + done);
      done += n;
    }
  }

  /** The logical bytes of full page `page` of `id`, fetched from `blob` once for all waiters. */
  fetch(blob: Blob, id: number, page: number, where: Where): Promise<Uint8Array> {
    const p = this.pages(id);
    const pending = p.fetches.get(page);
    if (pending !== undefined) return pending;
    const epoch = p.epoch;
    const promise = this.#fetchPage(blob, page, where).then(
      (bytes) => {
        if (p.fetches.get(page) === promise) p.fetches.delete(page);
        // An invalidation meanwhile means these bytes may be stale: serve, don't cache.
        if (p.epoch === epoch && this.#ids.get(id) === p) this.insert(id, bytes, 0, 1, page);
        return bytes;
      },
      (err: unknown) => {
        if (p.fetches.get(page) === promise) p.fetches.delete(page);
        throw err;
      },
    );
    p.fetches.set(page, promise);
    return promise;
  }

  async #fetchPage(blob: Blob, page: number, where: Where): Promise<Uint8Array> {
    const physical = this.physicalPageSize;
    const raw = (await blob.readAt(page * physical, physical)).bytes();
    const checksum = validatePage(raw, 0, this.pageSize);
    // Only full pages are cached: a partial page below the tip is corruption.
    if (checksum === undefined || checksum.len !== this.pageSize) throw corrupt(where);
    return raw.subarray(0, this.pageSize);
  }

  /** Drops the pages of `id` numbered `start` and above, and stales fetches in flight. */
  invalidateFrom(id: number, start: number): void {
    const p = this.#ids.get(id);
    if (p === undefined) return;
    p.epoch++;
    p.fetches.clear();
    for (const [page, slot] of p.slots) {
      if (page < start) continue;
      p.slots.delete(page);
      this.#slotId[slot] = -1;
      this.#ref[slot] = 0;
      this.#free.push(slot);
    }
  }

  /** Drops every page of every id. */
  clear(): void {
    for (const id of this.#ids.keys()) this.invalidateFrom(id, 0);
  }
}

/** The core of each `PageCache`, kept out of its public surface. */
const cores = new WeakMap<object, CacheCore>();

/** Binds `core` to its public `cache` object. */
export function bindCore(cache: object, core: CacheCore): void {
  cores.set(cache, core);
}

/** The core of `cache`, or `undefined` if it is not a `PageCache`. */
export function coreOf(cache: unknown): CacheCore | undefined {
  return typeof cache === "object" && cache !== null ? cores.get(cache) : undefined;
}
