/**
 * `PageCache`: the Rust tests of commonware-runtime's
 * `utils/buffer/paged/cache.rs`, ported (names kept, minus `test_`), against
 * the cache's private core, plus CLOCK and single-flight checks of our own.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage } from "../drivers/memory.ts";
import { StorageError } from "../core/errors.ts";
import { crc32c } from "../core/crc32c.ts";
import { IoBufMut } from "../core/io_buf_mut.ts";
import { IoBufsMut } from "../core/io_bufs_mut.ts";
import type { Blob, ReadTarget, WriteData } from "../core/types.ts";
import { PageCache } from "../buffer/page_cache.ts";
import { type CacheCore, coreOf } from "../buffer/_cache_core.ts";
import { putRecord } from "../buffer/_page_format.ts";
import { assertBytes, rejectsCode } from "./assert.ts";

const P = 1024;

function core(capacity: number, pageSize = P): { cache: PageCache; core: CacheCore } {
  const cache = new PageCache({ pageSize, capacity });
  return { cache, core: coreOf(cache)! };
}

/** Reads through the cache only (Rust's `Cache::read_at` / `read_cached`). */
function cached(c: CacheCore, id: number, offset: number, length: number) {
  const buf = new Uint8Array(length).fill(0xee);
  const n = c.readCached(id, buf, 0, offset, length);
  return { n, buf };
}

/** A physical page of `byte` repeated, with a valid full-page record. */
function physicalPage(byte: number, pageSize = P): Uint8Array {
  const page = new Uint8Array(pageSize + 12).fill(byte, 0, pageSize);
  putRecord(page, pageSize, pageSize, crc32c(page.subarray(0, pageSize)), 0, 0);
  return page;
}

/** A blob serving fixed bytes, counting reads, optionally held until released. */
class ControlledBlob implements Blob {
  reads = 0;
  gate: Promise<void> | undefined;
  constructor(readonly bytes: (offset: number, length: number) => Uint8Array | Error) {}
  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    this.reads++;
    if (this.gate !== undefined) await this.gate;
    const b = this.bytes(offset, length);
    if (b instanceof Error) throw b;
    return new IoBufsMut(new IoBufMut(b.slice()));
  }
  readAtBuf(_o: number, _l: number, _t: ReadTarget): Promise<IoBufsMut> {
    throw new Error("unused");
  }
  async writeAt(_o: number, _d: WriteData): Promise<void> {}
  async resize(_n: number): Promise<void> {}
  async sync(): Promise<void> {}
  async close(): Promise<void> {}
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

test("cache_basic", () => {
  const { core: c } = core(10);
  assert.equal(cached(c, 0, 0, P).n, 0);
  c.insert(0, new Uint8Array(P).fill(1), 0, 1, 0);
  let r = cached(c, 0, 0, P);
  assert.equal(r.n, P);
  assertBytes(r.buf, new Uint8Array(P).fill(1), "page 0");
  // Re-caching a page overwrites it in place.
  c.insert(0, new Uint8Array(P).fill(2), 0, 1, 0);
  assertBytes(cached(c, 0, 0, P).buf, new Uint8Array(P).fill(2), "replaced");
  // Past capacity, CLOCK evicts page 0.
  for (let i = 0; i < 11; i++) c.insert(0, new Uint8Array(P).fill(i), 0, 1, i);
  assert.equal(cached(c, 0, 0, P).n, 0);
  for (let i = 1; i < 11; i++) {
    r = cached(c, 0, i * P, P);
    assert.equal(r.n, P);
    assertBytes(r.buf, new Uint8Array(P).fill(i), `page ${i}`);
  }
  // An unaligned read stops at the page boundary... unless the next page is cached.
  r = cached(c, 0, 10 * P + 2, P);
  assert.equal(r.n, P - 2);
  assertBytes(r.buf.subarray(0, P - 2), new Uint8Array(P - 2).fill(10), "unaligned");
});

test("invalidate_from_does_not_orphan_re_cached_page", () => {
  const { core: c } = core(2);
  c.insert(0, new Uint8Array(P).fill(0xaa), 0, 1, 0);
  c.insert(0, new Uint8Array(P).fill(0xbb), 0, 1, 1);
  c.invalidateFrom(0, 0);
  c.insert(0, new Uint8Array(P).fill(0xcc), 0, 1, 1);
  assertBytes(cached(c, 0, P, P).buf, new Uint8Array(P).fill(0xcc), "re-cached");
  c.insert(0, new Uint8Array(P).fill(0xdd), 0, 1, 2);
  assertBytes(cached(c, 0, P, P).buf, new Uint8Array(P).fill(0xcc), "still live");
  assertBytes(cached(c, 0, 2 * P, P).buf, new Uint8Array(P).fill(0xdd), "new page");
});

test("cache_read_with_blob", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("test", "blob");
  for (let i = 0; i < 11; i++) await blob.writeAt(i * (P + 12), physicalPage(i));
  const { cache, core: c } = core(10);
  assert.equal(c.nextId(), 0);
  assert.equal(c.nextId(), 1);
  for (let i = 0; i < 11; i++) {
    const buf = new Uint8Array(P);
    await c.read(blob, 0, buf, 0, i * P, P, {});
    assertBytes(buf, new Uint8Array(P).fill(i), `page ${i}`);
  }
  assert.equal(cache.cachedPages, 10);
  for (let i = 1; i < 11; i++) {
    assert.equal(cached(c, 0, i * P, P).n, P, `page ${i} cached`);
  }
});

test("cache_clear_forces_uncached_blob_read", async () => {
  const blob = new ControlledBlob(() => physicalPage(7));
  const { cache, core: c } = core(2);
  const buf = new Uint8Array(P);
  await c.read(blob, 0, buf, 0, 0, P, {});
  assert.equal(blob.reads, 1);
  await c.read(blob, 0, buf, 0, 0, P, {});
  assert.equal(blob.reads, 1);
  cache.clear();
  await c.read(blob, 0, buf, 0, 0, P, {});
  assert.equal(blob.reads, 2);
  assertBytes(buf, new Uint8Array(P).fill(7), "page");
});

test("cache_max_page / cache_at_high_offset", () => {
  const { core: c } = core(2);
  const page = Math.floor(Number.MAX_SAFE_INTEGER / P) - 1;
  c.insert(0, new Uint8Array(P).fill(42), 0, 1, page);
  const r = cached(c, 0, page * P, P);
  assert.equal(r.n, P);
  assert.ok(r.buf.every((b) => b === 42));
});

test("concurrent misses share one read (page_fetches single flight)", async () => {
  const blob = new ControlledBlob(() => physicalPage(9));
  let release!: () => void;
  blob.gate = new Promise((r) => release = r);
  const { core: c } = core(10);
  const bufs = [new Uint8Array(P), new Uint8Array(10), new Uint8Array(5)];
  const reads = [
    c.read(blob, 0, bufs[0]!, 0, 0, P, {}),
    c.read(blob, 0, bufs[1]!, 0, 100, 10, {}),
    c.read(blob, 0, bufs[2]!, 0, 1000, 5, {}),
  ];
  release();
  await Promise.all(reads);
  assert.equal(blob.reads, 1);
  for (const b of bufs) assert.ok(b.every((x) => x === 9));
  // Another blob id misses separately.
  await c.read(blob, 1, new Uint8Array(1), 0, 0, 1, {});
  assert.equal(blob.reads, 2);
});

test("page_fetch_error_removes_entry_for_all_waiters", async () => {
  const failure = new StorageError("ReadFailed", { partition: "p", blob: "00" });
  const blob = new ControlledBlob(() => failure);
  let release!: () => void;
  blob.gate = new Promise((r) => release = r);
  const { core: c } = core(10);
  const first = c.read(blob, 0, new Uint8Array(P), 0, 0, P, {});
  const second = c.read(blob, 0, new Uint8Array(P), 0, 0, P, {});
  release();
  await rejectsCode(first, "ReadFailed");
  await rejectsCode(second, "ReadFailed");
  assert.equal(blob.reads, 1);
  assert.equal(cached(c, 0, 0, P).n, 0);
  blob.gate = undefined;
  await rejectsCode(c.read(blob, 0, new Uint8Array(P), 0, 0, P, {}), "ReadFailed");
  assert.equal(blob.reads, 2);
});

test("a page that fails its checks, or is partial, is BlobCorrupt and not cached", async () => {
  const where = { partition: "p", blob: "ab" };
  const bad = physicalPage(1);
  bad[0] = 2;
  const { core: c } = core(4);
  const err = await rejectsCode(
    c.read(new ControlledBlob(() => bad), 0, new Uint8Array(1), 0, 0, 1, where),
    "BlobCorrupt",
  );
  assert.deepEqual([err.partition, err.blob, err.reason], [
    "p",
    "ab",
    "invalid or missing checksum",
  ]);
  const partial = new Uint8Array(P + 12);
  partial[0] = 5;
  putRecord(partial, P, 1, crc32c(partial.subarray(0, 1)), 0, 0);
  await rejectsCode(
    c.read(new ControlledBlob(() => partial), 0, new Uint8Array(1), 0, 0, 1, where),
    "BlobCorrupt",
  );
  assert.equal(cached(c, 0, 0, 1).n, 0);
});

test("a fetch that finishes after an invalidation serves its bytes but does not cache them", async () => {
  const blob = new ControlledBlob(() => physicalPage(3));
  let release!: () => void;
  blob.gate = new Promise((r) => release = r);
  const { core: c } = core(4);
  const buf = new Uint8Array(4);
  const pending = c.read(blob, 0, buf, 0, 0, 4, {});
  c.invalidateFrom(0, 0);
  c.insert(0, new Uint8Array(P).fill(8), 0, 1, 0);
  release();
  await pending;
  assert.deepEqual([...buf], [3, 3, 3, 3]);
  assertBytes(cached(c, 0, 0, P).buf, new Uint8Array(P).fill(8), "newer page kept");
});

test("read_cached cases / stale hint after eviction / invalidated page is a miss", () => {
  const cases: [number[], number, number, number][] = [
    [[], 0, 0, 0],
    [[0], 3, 5, 5],
    [[0, 1], P - 2, 4, 4],
    [[1], 0, 4, 0],
    [[0], P - 2, 4, 2],
  ];
  for (const [pages, offset, len, expected] of cases) {
    const { core: c } = core(10);
    for (const p of pages) c.insert(0, new Uint8Array(P).fill(p + 1), 0, 1, p);
    const r = cached(c, 0, offset, len);
    assert.equal(r.n, expected);
    for (let i = 0; i < r.n; i++) assert.equal(r.buf[i], Math.floor((offset + i) / P) + 1);
    for (let i = r.n; i < len; i++) assert.equal(r.buf[i], 0xee);
  }

  const { core: c2 } = core(2);
  for (let p = 0; p < 3; p++) c2.insert(0, new Uint8Array(P).fill(p + 1), 0, 1, p);
  assert.equal(cached(c2, 0, 0, P).n, 0);
  assertBytes(cached(c2, 0, P, P).buf, new Uint8Array(P).fill(2), "page 1");
  assertBytes(cached(c2, 0, 2 * P, P).buf, new Uint8Array(P).fill(3), "page 2");

  const { core: c4 } = core(4);
  for (let p = 0; p < 4; p++) c4.insert(0, new Uint8Array(P).fill(p + 1), 0, 1, p);
  c4.invalidateFrom(0, 2);
  assert.equal(cached(c4, 0, 0, P).n, P);
  assert.equal(cached(c4, 0, P, P).n, P);
  assert.equal(cached(c4, 0, 2 * P, P).n, 0);
  assert.equal(cached(c4, 0, 3 * P, P).n, 0);
  c4.insert(0, new Uint8Array(P).fill(0xcc), 0, 1, 2);
  assertBytes(cached(c4, 0, 2 * P, P).buf, new Uint8Array(P).fill(0xcc), "re-cached");
});

test("read_cached_many_cross_blob: ids never see each other's pages", () => {
  const { core: c } = core(4);
  c.insert(0, new Uint8Array(P).fill(0xaa), 0, 1, 5);
  c.insert(1, new Uint8Array(P).fill(0xbb), 0, 1, 5);
  assertBytes(cached(c, 0, 5 * P, P).buf, new Uint8Array(P).fill(0xaa), "id 0");
  assertBytes(cached(c, 1, 5 * P, P).buf, new Uint8Array(P).fill(0xbb), "id 1");
  assert.equal(cached(c, 2, 5 * P, P).n, 0);
});

test("CLOCK gives a recently read page a second chance", () => {
  const { core: c } = core(3);
  for (let p = 0; p < 3; p++) c.insert(0, new Uint8Array(P).fill(p), 0, 1, p);
  // Insert page 3: every bit set, so the sweep clears all and evicts page 0.
  c.insert(0, new Uint8Array(P).fill(3), 0, 1, 3);
  assert.equal(cached(c, 0, 0, 1).n, 0);
  // Now pages 1 and 2 have clear bits; reading page 1 sets its bit again.
  assert.equal(cached(c, 0, P, 1).n, 1);
  c.insert(0, new Uint8Array(P).fill(4), 0, 1, 4);
  assert.equal(cached(c, 0, P, 1).n, 1, "page 1 survived");
  assert.equal(cached(c, 0, 2 * P, 1).n, 0, "page 2 evicted");
});

test("PageCache options and accessors", () => {
  const cache = new PageCache({ pageSize: 4084, capacity: 3 });
  assert.deepEqual(
    [cache.pageSize, cache.physicalPageSize, cache.capacity, cache.cachedPages],
    [4084, 4096, 3, 0],
  );
  assert.throws(
    () => new PageCache(undefined as unknown as { pageSize: number; capacity: number }),
    TypeError,
  );
  assert.throws(() => new PageCache({ pageSize: 0, capacity: 1 }), RangeError);
  assert.throws(() => new PageCache({ pageSize: 1, capacity: 1.5 }), RangeError);
  assert.throws(() => new PageCache({ pageSize: 65535, capacity: 2 ** 20 }), RangeError);
  assert.equal(PageCache.pageSizeFor(8192), 8180);
  assert.throws(() => PageCache.pageSizeFor(8), RangeError);
  assert.equal(coreOf({}), undefined);
});
