/**
 * `PagedWriter`, `Sealed` and `Replay`: the Rust tests of commonware-runtime's
 * `utils/buffer/paged/{writer,read,sealed,view}.rs` that pin behaviour and
 * bytes, ported (names kept, minus `test_`), plus the journal example.
 *
 * Rust's `PartialWriteBlob`, `TornExtensionBlob` and `SyncTrackingBlob` are one
 * wrapper here, {@linkcode HookBlob}, that counts writes and syncs and can turn
 * one write into a durable partial write followed by an error.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage } from "../drivers/memory.ts";
import { StorageError } from "../core/errors.ts";
import type { IoBufsMut } from "../core/io_bufs_mut.ts";
import type { Blob, ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { PageCache } from "../buffer/page_cache.ts";
import { PagedWriter } from "../buffer/paged_writer.ts";
import { readRecord } from "../buffer/_page_format.ts";
import { setWindowForTesting } from "../buffer/_recover.ts";
import { assertBytes, rejectsCode } from "./assert.ts";

const P = 103;
const PHYS = P + 12;
const BUFFER = P * 2;
const DUMMY_MARKER = new Uint8Array([0x00, 0x00, 0xde, 0xad, 0xbe, 0xef]);

function seq(from: number, n: number, mod = 256): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) % mod);
}

function flatten(data: WriteData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const parts: Uint8Array[] = [];
  if (Array.isArray(data)) {
    for (const c of data) parts.push(c instanceof Uint8Array ? c : c.bytes());
  } else {
    parts.push((data as { bytes(): Uint8Array }).bytes());
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What a hook does with write number `n` (1-based): `undefined` lets it through. */
type WriteHook = (
  n: number,
  offset: number,
  bytes: Uint8Array,
  options: WriteOptions | undefined,
  inner: Blob,
) => Promise<void> | undefined;

/** A blob wrapper that counts writes, syncs and reads, and can fail one write. */
class HookBlob implements Blob {
  writes = 0;
  fullSyncs = 0;
  rangeSyncs = 0;
  reads = 0;
  failedWriteLength = 0;
  constructor(readonly inner: Blob, readonly hook?: WriteHook) {}

  readAt(offset: number, length: number): Promise<IoBufsMut> {
    this.reads++;
    return this.inner.readAt(offset, length);
  }
  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    this.reads++;
    return this.inner.readAtBuf(offset, length, target);
  }
  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const n = ++this.writes;
    if (options?.sync) this.rangeSyncs++;
    const bytes = flatten(data);
    const hooked = this.hook?.(n, offset, bytes, options, this.inner);
    if (hooked !== undefined) {
      this.failedWriteLength = bytes.length;
      await hooked;
      throw new StorageError("Io", { reason: "injected partial write" });
    }
    await this.inner.writeAt(offset, bytes, options);
  }
  resize(length: number): Promise<void> {
    return this.inner.resize(length);
  }
  sync(): Promise<void> {
    this.fullSyncs++;
    return this.inner.sync();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Rust's `PartialWriteBlob::new(inner, fail_on, partial_len)`: a durable prefix, then an error. */
function partialWrite(inner: Blob, failOn: number, partialLen: number): HookBlob {
  return new HookBlob(inner, (n, offset, bytes, options, blob) => {
    if (n !== failOn) return undefined;
    return (async () => {
      await blob.writeAt(offset, bytes.subarray(0, Math.min(partialLen, bytes.length)), options);
      if (!options?.sync) await blob.sync();
    })();
  });
}

function cache(capacity = BUFFER, pageSize = P): PageCache {
  return new PageCache({ pageSize, capacity });
}

async function open(
  storage: MemoryStorage,
  name: string,
  c: PageCache = cache(),
  bufferSize = BUFFER,
  wrap?: (b: Blob) => Blob,
) {
  const opened = await storage.open("test_partition", name);
  const blob = wrap ? wrap(opened.blob) : opened.blob;
  const writer = await PagedWriter.open(blob, opened.size, { cache: c, bufferSize });
  return { blob: opened.blob, wrapped: blob, size: opened.size, writer };
}

/** Syncs, closes and reopens the blob (the Rust tests' `drop` then `open`). */
async function reopen(storage: MemoryStorage, name: string, blob: Blob) {
  await blob.close();
  return await storage.open("test_partition", name);
}

async function readRaw(blob: Blob, offset: number, length: number): Promise<Uint8Array> {
  return (await blob.readAt(offset, length)).bytes();
}

// ---------------------------------------------------------------- writer.rs

test("append_crc_empty", async () => {
  const storage = new MemoryStorage();
  const c = cache();
  const { writer, blob } = await open(storage, "b", c);
  assert.equal(writer.size, 0);
  await writer.sync();
  const again = await reopen(storage, "b", blob);
  assert.equal(again.size, 0);
  assert.equal((await PagedWriter.open(again.blob, again.size, { cache: c })).size, 0);
});

test("append_crc_basic", async () => {
  const storage = new MemoryStorage();
  const c = cache();
  let { writer, blob } = await open(storage, "b", c);
  await writer.append(new Uint8Array([1, 2, 3, 4, 5]));
  assert.equal(writer.size, 5);
  await writer.append(new Uint8Array([6, 7, 8, 9, 10]));
  assert.equal(writer.size, 10);
  assert.deepEqual(await writer.readAt(0, 5), new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual(await writer.readAt(5, 5), new Uint8Array([6, 7, 8, 9, 10]));
  assert.deepEqual(await writer.readAt(0, 10), seq(1, 10));
  await writer.sync();

  let o = await reopen(storage, "b", blob);
  assert.equal(o.size, 115);
  writer = await PagedWriter.open(o.blob, o.size, { cache: c, bufferSize: BUFFER });
  blob = o.blob;
  assert.equal(writer.size, 10);
  await writer.append(seq(11, 100));
  assert.equal(writer.size, 110);
  assert.deepEqual(await writer.readAt(10, 100), seq(11, 100));
  assert.deepEqual(await writer.readAt(0, 110), seq(1, 110));
  await writer.sync();

  o = await reopen(storage, "b", blob);
  assert.equal(o.size, 230);
  writer = await PagedWriter.open(o.blob, o.size, { cache: c, bufferSize: BUFFER });
  blob = o.blob;
  assert.equal(writer.size, 110);
  await writer.append(seq(111, 96));
  assert.equal(writer.size, 206);
  assert.deepEqual(await writer.readAt(0, 206), seq(1, 206));
  await writer.sync();

  o = await reopen(storage, "b", blob);
  assert.equal(o.size, 230);
  writer = await PagedWriter.open(o.blob, o.size, { cache: c, bufferSize: BUFFER });
  assert.equal(writer.size, 206);
  assert.deepEqual(await writer.readAt(0, 206), seq(1, 206));
});

test("append_owned_bypass_from_empty_tip", async () => {
  const storage = new MemoryStorage();
  const c = cache();
  const { writer, blob } = await open(storage, "b", c);
  const data = seq(0, 500, 251);
  assert.equal(await writer.append(data), 0);
  assert.equal(writer.size, 500);
  // The directly written pages are in the cache, as a buffered flush would leave them.
  const probe = new Uint8Array(P);
  assert.equal(writer.tryReadSyncInto(probe, 0), true);
  assertBytes(probe, data.subarray(0, P), "page 0");
  assertBytes(await writer.readAt(0, 500), data, "before sync");
  await writer.sync();
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: c });
  assert.equal(again.size, 500);
  assertBytes(await again.readAt(0, 500), data, "reopened");
});

test("append_owned_bypass_with_synced_partial_page", async () => {
  const storage = new MemoryStorage();
  const c = cache();
  let { writer, blob } = await open(storage, "b", c);
  const all = seq(0, 500, 247);
  await writer.append(all.subarray(0, 50));
  await writer.sync();
  await writer.append(all.subarray(50));
  assert.equal(writer.size, 500);
  assertBytes(await writer.readAt(0, 500), all, "all");
  // Not synced: a reopen sees the 50 synced bytes.
  let o = await reopen(storage, "b", blob);
  writer = await PagedWriter.open(o.blob, o.size, { cache: cache(), bufferSize: BUFFER });
  blob = o.blob;
  assert.equal(writer.size, 50);
  assertBytes(await writer.readAt(0, 50), all.subarray(0, 50), "prefix");
  await writer.append(all.subarray(50));
  await writer.sync();
  o = await reopen(storage, "b", blob);
  writer = await PagedWriter.open(o.blob, o.size, { cache: cache(), bufferSize: BUFFER });
  assert.equal(writer.size, 500);
  assertBytes(await writer.readAt(0, 500), all, "reopened");
});

test("append_owned_bypass_with_buffered_tip", async () => {
  const storage = new MemoryStorage();
  const { writer, blob } = await open(storage, "b");
  const all = seq(0, 430, 239);
  await writer.append(all.subarray(0, 30));
  assert.equal(await writer.append(all.subarray(30)), 30);
  assertBytes(await writer.readAt(0, 430), all, "all");
  await writer.sync();
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, 430);
  assertBytes(await again.readAt(0, 430), all, "reopened");
});

test("append_owned_exact_page_multiple_and_small / physical bytes match buffered", async () => {
  // A bypassing append and the same bytes appended in small pieces give the same file.
  const data = seq(0, P * 4 + 17, 253);
  const storage = new MemoryStorage();
  const direct = await open(storage, "direct");
  await direct.writer.append(data);
  await direct.writer.sync();
  const buffered = await open(storage, "buffered");
  for (let i = 0; i < data.length; i += 7) {
    await buffered.writer.append(data.subarray(i, Math.min(i + 7, data.length)));
  }
  await buffered.writer.sync();
  const a = storage.readRaw("test_partition", "direct")!;
  const b = storage.readRaw("test_partition", "buffered")!;
  assertBytes(a, b, "files");
  // An exact page multiple leaves nothing buffered.
  const exact = await open(storage, "exact");
  await exact.writer.append(seq(0, P * 3));
  assert.equal(exact.writer.size, P * 3);
  await exact.writer.append(new Uint8Array([1]));
  await exact.writer.sync();
  assert.equal((await storage.open("test_partition", "exact")).size, PHYS * 4);
});

test("sync_uses_range_sync_for_single_flush / sync_fuses_partial_page_rewrite", async () => {
  const storage = new MemoryStorage();
  const { writer, wrapped, blob } = await open(
    storage,
    "b",
    cache(),
    BUFFER,
    (b) => new HookBlob(b),
  );
  const h = wrapped as HookBlob;
  await writer.sync();
  await writer.append(new TextEncoder().encode("abc"));
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [1, 1, 1]);
  const slot0Before = await readRaw(blob, P, 6);
  await writer.append(new TextEncoder().encode("de"));
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [2, 1, 2]);
  assertBytes(await readRaw(blob, P, 6), slot0Before, "slot 0 protected");
  const slot1Between = await readRaw(blob, P + 6, 6);
  await writer.append(new TextEncoder().encode("fg"));
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [3, 1, 3]);
  assertBytes(await readRaw(blob, P + 6, 6), slot1Between, "slot 1 protected");
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(new TextDecoder().decode(await again.readAt(0, 7)), "abcdefg");
});

test("sync_uses_full_sync_after_prior_plain_flush", async () => {
  const storage = new MemoryStorage();
  const { writer, wrapped } = await open(storage, "b", cache(), BUFFER, (b) => new HookBlob(b));
  const h = wrapped as HookBlob;
  await writer.sync(); // clean
  await writer.append(seq(0, BUFFER + 5)); // overflows: a plain flush of two pages
  assert.deepEqual([h.writes, h.rangeSyncs], [1, 0]);
  await writer.sync(); // dirty: plain write of the partial page, then a full sync
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [2, 2, 0]);
});

test("read_up_to_zero_len_truncates_buffer", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  await writer.append(new Uint8Array([1, 2, 3, 4]));
  const stale = new Uint8Array([9, 8, 7, 6]);
  const read = await writer.readUpTo(0, 0, stale);
  assert.equal(read.length, 0);
});

test("torn_extension_with_new_footer_recovers_previous_prefix", async () => {
  const storage = new MemoryStorage();
  const { writer, wrapped, blob } = await open(
    storage,
    "b",
    cache(),
    BUFFER,
    (b) =>
      new HookBlob(b, (n, offset, bytes, _options, inner) => {
        if (n !== 2) return undefined;
        return (async () => {
          const footer = bytes.length - 12;
          await inner.writeAt(offset, bytes.subarray(0, 4));
          await inner.writeAt(offset + footer, bytes.subarray(footer));
          await inner.sync();
        })();
      }),
  );
  await writer.append(new TextEncoder().encode("abc"));
  await writer.sync();
  assert.equal((wrapped as HookBlob).writes, 1);
  await writer.append(new TextEncoder().encode("def"));
  await assert.rejects(writer.sync());
  assert.equal((wrapped as HookBlob).writes, 2);
  // A failed mutation retires the writer.
  await rejectsCode(writer.append(new Uint8Array(1)), "Closed");
  await rejectsCode(writer.sync(), "Closed");

  const pageBytes = await readRaw(blob, 0, PHYS);
  assert.deepEqual([...pageBytes.subarray(0, 6)], [...new TextEncoder().encode("abcd"), 0, 0]);
  const rec = readRecord(pageBytes, P);
  assert.equal(rec.len1, 3);
  assert.equal(rec.len2, 6);
  const o = await reopen(storage, "b", blob);
  const recovered = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(recovered.size, 3);
  assert.equal(new TextDecoder().decode(await recovered.readAt(0, 3)), "abc");
});

/** Writes `n` bytes in steps, syncing and reopening after each (the slot tests' setup). */
async function extendInSteps(storage: MemoryStorage, name: string, steps: number[]) {
  let opened = await storage.open("test_partition", name);
  let from = 1;
  for (const n of steps) {
    const w = await PagedWriter.open(opened.blob, opened.size, { cache: cache() });
    await w.append(seq(from, n));
    from += n;
    await w.sync();
    opened = await reopen(storage, name, opened.blob);
  }
  return opened;
}

test("crc_slot1_protected", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [10, 20]);
  const rec = readRecord(await readRaw(o.blob, 0, PHYS), P);
  assert.ok(rec.len2 > rec.len1);
  const slot1Before = await readRaw(o.blob, P + 6, 6);
  await o.blob.writeAt(P, DUMMY_MARKER);
  await o.blob.sync();
  const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  await w.append(seq(31, 20));
  await w.sync();
  const after = await reopen(storage, "b", o.blob);
  assert.notDeepEqual(await readRaw(after.blob, P, 6), DUMMY_MARKER);
  assertBytes(await readRaw(after.blob, P + 6, 6), slot1Before, "slot 1 protected");
  assert.equal(readRecord(await readRaw(after.blob, 0, PHYS), P).len1, 50);
});

test("crc_slot0_protected", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [10, 20, 20]);
  const rec = readRecord(await readRaw(o.blob, 0, PHYS), P);
  assert.ok(rec.len1 > rec.len2);
  const slot0Before = await readRaw(o.blob, P, 6);
  await o.blob.writeAt(P + 6, DUMMY_MARKER);
  await o.blob.sync();
  const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  await w.append(seq(51, 20));
  await w.sync();
  const after = await reopen(storage, "b", o.blob);
  assert.notDeepEqual(await readRaw(after.blob, P + 6, 6), DUMMY_MARKER);
  assertBytes(await readRaw(after.blob, P, 6), slot0Before, "slot 0 protected");
  assert.equal(readRecord(await readRaw(after.blob, 0, PHYS), P).len2, 70);
});

test("data_prefix_preserved_when_extending", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [20]);
  assert.equal(o.size, PHYS);
  const prefixBefore = await readRaw(o.blob, 0, 20);
  await o.blob.writeAt(25, DUMMY_MARKER);
  await o.blob.sync();
  const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  await w.append(seq(21, 20));
  await w.sync();
  const after = await reopen(storage, "b", o.blob);
  assertBytes(await readRaw(after.blob, 0, 20), prefixBefore, "prefix");
  assert.deepEqual([...await readRaw(after.blob, 25, 6)], [26, 27, 28, 29, 30, 31]);
});

test("crc_slot_protection_across_page_boundary", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [50, 30]);
  assert.ok(readRecord(await readRaw(o.blob, 0, PHYS), P).len2 > 0);
  const slot1Before = await readRaw(o.blob, P + 6, 6);
  await o.blob.writeAt(P, DUMMY_MARKER);
  await o.blob.sync();
  const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  await w.append(seq(81, 40));
  await w.sync();
  const after = await reopen(storage, "b", o.blob);
  assert.equal(after.size, PHYS * 2);
  assert.notDeepEqual(await readRaw(after.blob, P, 6), DUMMY_MARKER);
  assertBytes(await readRaw(after.blob, P + 6, 6), slot1Before, "slot 1 protected");
  assert.equal(readRecord(await readRaw(after.blob, 0, PHYS), P).len1, P);
  const again = await PagedWriter.open(after.blob, after.size, { cache: cache() });
  assert.equal(again.size, 120);
  assertBytes(await again.readAt(0, 120), seq(1, 120), "all");
});

test("crc_fallback_on_corrupted_primary", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [10, 20]);
  const rec = readRecord(await readRaw(o.blob, 0, PHYS), P);
  assert.deepEqual([rec.len1, rec.len2], [10, 30]);
  const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(w.size, 30);
  assertBytes(await w.readAt(0, 30), seq(1, 30), "30");
  await o.blob.writeAt(P + 8, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  await o.blob.sync();
  const rec2 = readRecord(await readRaw(o.blob, 0, PHYS), P);
  assert.deepEqual([rec2.len2, rec2.crc2], [30, 0xdeadbeef]);
  const fallback = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(fallback.size, 10);
  assertBytes(await fallback.readAt(0, 10), seq(1, 10), "fallback");
  await rejectsCode(fallback.readAt(0, 11), "BlobInsufficientLength");
});

test("non_last_page_rejects_partial_fallback", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [10, P - 10, 10]);
  assert.equal(o.size, PHYS * 2);
  const rec = readRecord(await readRaw(o.blob, 0, PHYS), P);
  assert.deepEqual([rec.len1, rec.len2], [10, P]);
  const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(w.size, 113);
  assertBytes(await w.readAt(0, 113), seq(1, 113), "all");
  await o.blob.writeAt(P + 8, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  await o.blob.sync();
  // Outside the window open checks (here: the last page only, as commonware's
  // open), a partial page before the last is corrupt on every read path.
  setWindowForTesting(1);
  try {
    const corrupted = await PagedWriter.open(o.blob, o.size, { cache: cache() });
    assert.equal(corrupted.size, 113);
    const err = await rejectsCode(corrupted.readAt(0, 10), "BlobCorrupt");
    assert.equal(err.reason, "invalid or missing checksum");
    const replay = await corrupted.replay(1024);
    await rejectsCode(replay.ensure(1), "BlobCorrupt");
  } finally {
    setWindowForTesting();
  }
  // Within it, open keeps the pages up to the partial one and cuts the rest.
  const cut = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(cut.size, 10);
  assertBytes(await cut.readAt(0, 10), seq(1, 10), "cut");
  assert.equal((await storage.open("test_partition", "b")).size, PHYS);
});

test("resize_shrink_validates_crc", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [250]);
  assert.equal(o.size, PHYS * 3);
  await o.blob.writeAt(PHYS * 2 - 12, new Uint8Array(12).fill(0xff));
  await o.blob.sync();
  setWindowForTesting(1); // open checks the last page only: page 1 stays unchecked
  try {
    const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
    assert.equal(w.size, 250);
    await rejectsCode(w.resize(150), "BlobCorrupt");
    await rejectsCode(w.append(new Uint8Array(1)), "Closed");
  } finally {
    setWindowForTesting();
  }
});

test("resize_invalidates_cache", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  await writer.append(new Uint8Array(P).fill(0xaa));
  await writer.sync();
  const probe = new Uint8Array(16);
  assert.equal(writer.tryReadSyncInto(probe, 0), true);
  assertBytes(probe, new Uint8Array(16).fill(0xaa), "cached");
  await writer.resize(0);
  await writer.append(new Uint8Array(16).fill(0xbb));
  const after = new Uint8Array(16);
  const hit = writer.tryReadSyncInto(after, 0);
  assert.ok(!hit || after.every((b) => b === 0xbb), "stale bytes served");
});

test("snapshot_fetch_cannot_repopulate_live_cache_after_resize", async () => {
  const storage = new MemoryStorage();
  const opened = await storage.open("test_partition", "b");
  // Delay the first read of page 1 until released.
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let started!: () => void;
  const startedP = new Promise<void>((r) => started = r);
  let delayed = false;
  const blob = new HookBlob(opened.blob);
  const inner = opened.blob;
  blob.readAt = async (offset: number, length: number) => {
    if (!delayed && offset === PHYS && length === PHYS) {
      delayed = true;
      const bytes = await inner.readAt(offset, length);
      started();
      await released;
      return bytes;
    }
    return inner.readAt(offset, length);
  };
  const c = cache();
  const writer = await PagedWriter.open(blob, opened.size, { cache: c, bufferSize: BUFFER });
  await writer.append(new Uint8Array(P).fill(0x11));
  await writer.append(new Uint8Array(P).fill(0x22));
  await writer.sync();
  c.clear();
  const snapshot = await writer.snapshot();
  const pending = snapshot.readAt(P, P);
  await startedP;
  await writer.resize(P);
  await writer.append(new Uint8Array(P).fill(0x33));
  await writer.sync();
  release();
  assertBytes(await pending, new Uint8Array(P).fill(0x22), "snapshot's old page");
  const probe = new Uint8Array(P);
  assert.equal(writer.tryReadSyncInto(probe, P), true);
  assertBytes(probe, new Uint8Array(P).fill(0x33), "writer's new page");
});

test("resize_shrink_allowed_while_snapshot_alive", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  const data = seq(0, P * 2 + 7);
  await writer.append(data);
  await writer.sync();
  const snapshot = await writer.snapshot();
  assertBytes(await snapshot.readAt(0, data.length), data, "snapshot");
  await writer.resize(snapshot.size + 3);
  assert.equal(writer.size, snapshot.size + 3);
  await writer.resize(snapshot.size - 1);
  assert.equal(writer.size, snapshot.size - 1);
  assert.equal(snapshot.size, data.length);
});

test("snapshot_try_read_sync_prefers_snapshot_tail", async () => {
  const c = cache();
  const { writer } = await open(new MemoryStorage(), "b", c);
  await writer.append(new Uint8Array(P).fill(0xaa));
  await writer.sync();
  await writer.append(new TextEncoder().encode("oldtail"));
  const snapshot = await writer.snapshot();
  await writer.append(new Uint8Array(P).fill(0xbb)); // the writer's page 1 changes
  await writer.sync();
  const read = new Uint8Array(7);
  assert.equal(snapshot.tryReadSyncInto(read, P), true);
  assert.equal(new TextDecoder().decode(read), "oldtail");
});

test("resize_same_size_is_noop", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  await writer.append(new TextEncoder().encode("hello world"));
  await writer.resize(11);
  assert.equal(writer.size, 11);
  assert.equal(new TextDecoder().decode(await writer.readAt(0, 11)), "hello world");
});

test("resize_same_page_shrink_reopens_at_shorter_size", async () => {
  const storage = new MemoryStorage();
  const { writer, blob } = await open(storage, "b");
  const data = seq(0, 50);
  await writer.append(data);
  await writer.sync();
  await writer.resize(45);
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, 45);
  assertBytes(await again.readAt(0, 45), data.subarray(0, 45), "45");
});

/** Builds a page whose authoritative slot is 1 (two synced steps), reopened. */
async function twoStepPage(storage: MemoryStorage, first: number, total: number, pageSize = P) {
  const c = cache(BUFFER, pageSize);
  const data = seq(0, total, 251);
  const opened = await storage.open("test_partition", "b");
  const w = await PagedWriter.open(opened.blob, opened.size, {
    cache: c,
    bufferSize: pageSize * 2,
  });
  await w.append(data.subarray(0, first));
  await w.sync();
  await w.append(data.subarray(first));
  await w.sync();
  return { data, opened: await reopen(storage, "b", opened.blob), c };
}

// The three durable writes of a shrink within a page, each interrupted: the
// write that fails keeps a prefix, and the reopened blob is at a size that
// was durable before or after the shrink, with exactly its bytes.
for (
  const c of [
    {
      stage: "crc_stage",
      steps: [40, 50],
      page: P,
      failAt: 1,
      keep: 3,
      to: 45,
      wrote: 6,
      after: 50,
    },
    {
      stage: "len_stage",
      steps: [255, 300],
      page: 600,
      failAt: 2,
      keep: 1,
      to: 257,
      wrote: 2,
      after: 300,
    },
    {
      stage: "length_invalidation",
      steps: [255, 300],
      page: 600,
      failAt: 3,
      keep: 1,
      to: 40,
      wrote: 2,
      after: 40,
    },
  ]
) {
  test(`resize_same_page_shrink_survives_interrupted_${c.stage}`, async () => {
    const storage = new MemoryStorage();
    const { data, opened } = await twoStepPage(storage, c.steps[0]!, c.steps[1]!, c.page);
    const blob = partialWrite(opened.blob, c.failAt, c.keep);
    const w = await PagedWriter.open(blob, opened.size, { cache: cache(BUFFER, c.page) });
    await assert.rejects(w.resize(c.to));
    assert.equal(blob.writes, c.failAt);
    assert.equal(blob.failedWriteLength, c.wrote);
    const o = await reopen(storage, "b", opened.blob);
    const again = await PagedWriter.open(o.blob, o.size, { cache: cache(BUFFER, c.page) });
    assert.equal(again.size, c.after);
    assertBytes(await again.readAt(0, c.after), data.subarray(0, c.after), String(c.after));
  });
}

test("resize_same_page_shrink_preserves_validated_fallback_slot", async () => {
  const storage = new MemoryStorage();
  const opened = await storage.open("test_partition", "b");
  const data = seq(0, 52);
  const blob = partialWrite(opened.blob, 4, 3);
  const w = await PagedWriter.open(blob, opened.size, { cache: cache(), bufferSize: BUFFER });
  await w.append(data.subarray(0, 48));
  await w.sync();
  await w.append(data.subarray(48, 50));
  await w.sync();
  await w.append(data.subarray(50));
  await w.sync();
  assert.equal(blob.writes, 3);
  // Corrupt the newer authoritative slot 0 (len 52); slot 1 (len 50) still covers 45.
  await opened.blob.writeAt(P, DUMMY_MARKER);
  await opened.blob.sync();
  await assert.rejects(w.resize(45));
  assert.equal(blob.writes, 4);
  assert.equal(blob.failedWriteLength, 6);
  const o = await reopen(storage, "b", opened.blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, 50);
  assertBytes(await again.readAt(0, 50), data.subarray(0, 50), "50");
});

test("resize_full_page_to_partial_reopens_at_shorter_size", async () => {
  const storage = new MemoryStorage();
  const { writer, blob } = await open(storage, "b");
  const data = seq(0, P * 2, 251);
  await writer.append(data);
  await writer.sync();
  await writer.resize(P + 45);
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, P + 45);
  assertBytes(await again.readAt(0, P + 45), data.subarray(0, P + 45), "shrunk");
});

test("resize_full_page_to_partial_survives_interrupted_crc_stage", async () => {
  const storage = new MemoryStorage();
  const data = seq(0, P * 3, 251);
  let { writer, blob } = await open(storage, "b");
  await writer.append(data);
  await writer.sync();
  const opened = await reopen(storage, "b", blob);
  const faulty = partialWrite(opened.blob, 1, 3);
  writer = await PagedWriter.open(faulty, opened.size, { cache: cache() });
  await assert.rejects(writer.resize(P + 45));
  assert.equal(faulty.writes, 1);
  assert.equal(faulty.failedWriteLength, 6);
  blob = opened.blob;
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, P * 2);
  assertBytes(await again.readAt(0, P * 2), data.subarray(0, P * 2), "two pages");
});

test("resize_partial_shrink_without_physical_resize_uses_range_sync", async () => {
  const { writer, wrapped } = await open(
    new MemoryStorage(),
    "b",
    cache(),
    BUFFER,
    (b) => new HookBlob(b),
  );
  const h = wrapped as HookBlob;
  await writer.sync();
  await writer.append(new Uint8Array(P).fill(5));
  await writer.sync();
  await writer.resize(50);
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [4, 1, 4]);
});

test("resize_partial_shrink_with_physical_resize_clears_full_sync_requirement", async () => {
  const { writer, wrapped } = await open(
    new MemoryStorage(),
    "b",
    cache(),
    BUFFER,
    (b) => new HookBlob(b),
  );
  const h = wrapped as HookBlob;
  await writer.sync();
  const data = new Uint8Array(P * 2).fill(9);
  await writer.append(data);
  await writer.sync();
  await writer.resize(50);
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [4, 2, 3]);
  await writer.append(new TextEncoder().encode("x"));
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [5, 2, 4]);
  const expected = new Uint8Array(51).fill(9);
  expected[50] = "x".charCodeAt(0);
  assertBytes(await writer.readAt(0, 51), expected, "51");
});

test("resize_page_boundary_shrink_uses_full_sync", async () => {
  const storage = new MemoryStorage();
  const { writer, wrapped, blob } = await open(
    storage,
    "b",
    cache(),
    BUFFER,
    (b) => new HookBlob(b),
  );
  const h = wrapped as HookBlob;
  await writer.sync();
  await writer.append(new Uint8Array(P * 2).fill(11));
  await writer.sync();
  await writer.resize(P);
  await writer.sync();
  assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [1, 2, 1]);
  const o = await reopen(storage, "b", blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, P);
  assertBytes(await again.readAt(0, P), new Uint8Array(P).fill(11), "page");
});

test("reopen_partial_tail_append_and_resize", async () => {
  const storage = new MemoryStorage();
  const c = new PageCache({ pageSize: 64, capacity: 4 });
  const opened = await storage.open("test_partition", "b");
  let w = await PagedWriter.open(opened.blob, opened.size, { cache: c, bufferSize: 256 });
  await w.append(new Uint8Array([1, 2, 3, 4, 5]));
  await w.sync();
  const o = await reopen(storage, "b", opened.blob);
  w = await PagedWriter.open(o.blob, o.size, { cache: c, bufferSize: 256 });
  assert.equal(w.size, 5);
  await w.append(new Uint8Array([6, 7, 8]));
  await w.resize(6);
  await w.sync();
  assert.deepEqual(await w.readAt(0, 6), new Uint8Array([1, 2, 3, 4, 5, 6]));
});

test("corrupted_crc_len_too_large / both_slots_len_too_large", async () => {
  for (
    const record of [
      [0xff, 0xff, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0],
      [0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x02, 0x00, 0xca, 0xfe, 0xba, 0xbe],
    ]
  ) {
    const storage = new MemoryStorage();
    const o = await extendInSteps(storage, "b", [50]);
    await o.blob.writeAt(P, new Uint8Array(record));
    await o.blob.sync();
    const w = await PagedWriter.open(o.blob, o.size, { cache: cache() });
    assert.equal(w.size, 0);
  }
});

test("reader_sees_buffered_bytes", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  const data = seq(0, 50);
  await writer.append(data);
  assert.equal(writer.size, 50);
  assertBytes(await writer.readAt(0, 50), data, "buffered");
  const buf = new Uint8Array(10);
  assert.equal(writer.tryReadSyncInto(buf, 20), true);
  assertBytes(buf, data.subarray(20, 30), "sync");
});

test("reader_read_past_resize_errors_cleanly", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  const data = seq(0, P * 2);
  await writer.append(data);
  await writer.sync();
  const newSize = Math.floor(P / 2);
  await writer.resize(newSize);
  await rejectsCode(writer.readAt(newSize, P), "BlobInsufficientLength");
  assertBytes(await writer.readAt(0, newSize), data.subarray(0, newSize), "prefix");
});

test("recoverable_prefix_len_clean / torn_interior_page / stale_short_interior_page", async () => {
  const storage = new MemoryStorage();
  let { writer, blob } = await open(storage, "clean");
  assert.equal(await writer.recoverablePrefixLen(), 0);
  let data = seq(0, P * 2 + 50);
  await writer.append(data);
  await writer.sync();
  assert.equal(await writer.recoverablePrefixLen(), data.length);

  ({ writer, blob } = await open(storage, "torn"));
  data = seq(0, P * 3 + 10);
  await writer.append(data);
  await writer.sync();
  const at = PHYS + 7;
  const byte = (await readRaw(blob, at, 1))[0]!;
  await blob.writeAt(at, new Uint8Array([byte ^ 0xff]));
  await blob.sync();
  assert.equal(await writer.recoverablePrefixLen(), P);

  ({ writer, blob } = await open(storage, "stale"));
  data = seq(0, P * 2);
  await writer.append(data.subarray(0, 20));
  await writer.sync();
  const stale = await readRaw(blob, 0, PHYS);
  await writer.append(data.subarray(20));
  await writer.sync();
  await blob.writeAt(0, stale);
  await blob.sync();
  assert.equal(await writer.recoverablePrefixLen(), 20);
});

test("concurrent appends and reads keep call order", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  const data = seq(0, 5000, 251);
  const offsets: Promise<number>[] = [];
  for (let i = 0; i < data.length; i += 37) {
    offsets.push(writer.append(data.subarray(i, Math.min(i + 37, data.length))));
  }
  const sync = writer.sync();
  const got = await Promise.all(offsets);
  assert.deepEqual(got, got.map((_, i) => i * 37));
  await sync;
  assertBytes(await writer.readAt(0, data.length), data, "all");
});

test("argument checks", async () => {
  const storage = new MemoryStorage();
  const { blob, size } = await storage.open("p", "b");
  const c = cache();
  await assert.rejects(PagedWriter.open(blob, -1, { cache: c }), RangeError);
  await assert.rejects(PagedWriter.open(blob, 0, { cache: {} as PageCache }), TypeError);
  await assert.rejects(PagedWriter.open({} as Blob, 0, { cache: c }), TypeError);
  await assert.rejects(PagedWriter.open(blob, 0, { cache: c, bufferSize: 0 }), RangeError);
  const w = await PagedWriter.open(blob, size, { cache: c, partition: "p", blob: "62" });
  await assert.rejects(w.append("x" as unknown as Uint8Array), TypeError);
  await assert.rejects(w.readAt(-1, 1), RangeError);
  await assert.rejects(w.readAt(0, 1.5), RangeError);
  await assert.rejects(w.resize(Number.NaN), RangeError);
  await assert.rejects(w.replay(0), RangeError);
  const err = await rejectsCode(w.readAt(0, 1), "BlobInsufficientLength");
  assert.deepEqual([err.partition, err.blob], ["p", "62"]);
  // Bad arguments do not retire the writer.
  assert.equal(await w.append(new Uint8Array([1])), 0);
  assert.throws(() => new PageCache({ pageSize: 65536, capacity: 1 }), RangeError);
  assert.throws(() => new PageCache({ pageSize: 1.5, capacity: 1 }), RangeError);
  assert.throws(
    () => new PageCache({ pageSize: "1" as unknown as number, capacity: 1 }),
    TypeError,
  );
});

// ------------------------------------------------------------------ read.rs

async function replayed(bufferSize: number, data: Uint8Array) {
  const { writer } = await open(new MemoryStorage(), "b", cache(2), 2 * PHYS);
  await writer.append(data);
  await writer.sync();
  return await writer.replay(bufferSize);
}

test("replay_basic / replay_partial_page", async () => {
  const data = seq(0, 300);
  const replay = await replayed(2, data);
  assert.equal(await replay.ensure(300), true);
  assert.equal(replay.remaining, 300);
  const collected: number[] = [];
  while (replay.remaining > 0) {
    const chunk = replay.chunk();
    collected.push(...chunk);
    replay.advance(chunk.length);
  }
  assertBytes(new Uint8Array(collected), data, "replayed");

  const partial = seq(1, P + 10);
  const r2 = await replayed(2, partial);
  await r2.ensure(partial.length);
  assert.equal(r2.remaining, partial.length);
});

test("replay_cross_buffer_boundary", async () => {
  const data = seq(0, 400);
  const replay = await replayed(PHYS, data);
  assert.equal(await replay.ensure(400), true);
  assert.equal(replay.remaining, 400);
  const collected: number[] = [];
  let chunks = 0;
  while (replay.remaining > 0) {
    const chunk = replay.chunk();
    assert.ok(chunk.length > 0);
    collected.push(...chunk);
    replay.advance(chunk.length);
    chunks++;
  }
  assertBytes(new Uint8Array(collected), data, "replayed");
  assert.ok(chunks >= 4);
});

test("replay_empty_blob", async () => {
  const replay = await replayed(2, new Uint8Array(0));
  assert.equal(replay.remaining, 0);
  assert.equal(await replay.ensure(0), true);
  assert.equal(await replay.ensure(1), false);
  assert.equal(replay.isExhausted, true);
  assert.equal(replay.chunk().length, 0);
});

test("replay_seek_to", async () => {
  const data = seq(0, 300);
  const replay = await replayed(2, data);
  replay.seekTo(150);
  await replay.ensure(50);
  assert.equal(replay.chunk()[0], data[150]);
  replay.seekTo(0);
  await replay.ensure(1);
  assert.equal(replay.chunk()[0], data[0]);
  await assert.throws(() => replay.seekTo(301), { code: "BlobInsufficientLength" });
  replay.seekTo(150);
  const collected: number[] = [];
  while (await replay.ensure(1)) {
    const chunk = replay.chunk();
    if (chunk.length === 0) break;
    collected.push(...chunk);
    replay.advance(chunk.length);
  }
  assertBytes(new Uint8Array(collected), data.subarray(150), "after seek");
});

// ---------------------------------------------------------------- sealed.rs

test("seal_starts_sync / seal_preserves_writes / seal_empty_blob / full_pages_only / partial_only / straddle", async () => {
  for (const n of [0, P * 2, 40, P + 40]) {
    const storage = new MemoryStorage();
    const { writer } = await open(storage, `s${n}`);
    const data = seq(3, n);
    await writer.append(data);
    const sealed = await writer.seal();
    assert.equal(sealed.size, n);
    assertBytes(await sealed.readAt(0, n), data, `sealed ${n}`);
    await rejectsCode(writer.append(new Uint8Array(1)), "Closed");
    // Durable.
    storage.crash();
    const o = await storage.open("test_partition", `s${n}`);
    const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
    assert.equal(again.size, n);
  }
});

test("sealed_try_read_sync_partial / straddles_cached_and_partial / out_of_bounds", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  await writer.append(new Uint8Array(P).fill(0xaa));
  await writer.append(new TextEncoder().encode("TAIL"));
  const sealed = await writer.seal();
  const buf = new Uint8Array(4);
  assert.equal(sealed.tryReadSyncInto(buf, P - 2), true);
  assert.deepEqual(
    [...buf],
    [0xaa, 0xaa, ..."TA"].map((x) => typeof x === "string" ? x.charCodeAt(0) : x),
  );
  assert.equal(sealed.tryReadSyncInto(buf, P + 1), false);
  assert.equal(sealed.tryReadSyncInto(new Uint8Array(0), P + 4), true);
});

test("view_try_read_sync_straddles_cache_and_tail", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  await writer.append(new Uint8Array(P).fill(0xaa));
  await writer.append(new TextEncoder().encode("TAIL"));
  await writer.sync();
  await writer.readAt(0, P);
  const buf = new Uint8Array(4);
  assert.equal(writer.tryReadSyncInto(buf, P - 2), true);
  assert.deepEqual([...buf], [0xaa, 0xaa, 0x54, 0x41]);
});

test("sealed_replay / snapshot_replay_stays_frozen_after_writer_growth / seal_replay_without_sync", async () => {
  const { writer } = await open(new MemoryStorage(), "b");
  const data = seq(0, P * 2 + 30);
  await writer.append(data);
  const snapshot = await writer.snapshot();
  await writer.append(seq(7, P * 3));
  const replay = snapshot.replay(PHYS);
  assert.equal(await replay.ensure(data.length), true);
  assert.equal(replay.remaining, data.length);
  assertBytes(replay.copyToBytes(data.length), data, "frozen");
  assert.equal(await replay.ensure(1), false);
});

test("seal_recovered_synced_partial_page_no_write", async () => {
  const storage = new MemoryStorage();
  const o = await extendInSteps(storage, "b", [40]);
  const h = new HookBlob(o.blob);
  const w = await PagedWriter.open(h, o.size, { cache: cache() });
  const sealed = await w.seal();
  assert.equal(h.writes, 0);
  assert.equal(sealed.size, 40);
  assertBytes(await sealed.readAt(0, 40), seq(1, 40), "sealed");
});

test("Replay and Sealed cannot be built directly", async () => {
  const { Replay, Sealed } = await import("../buffer/paged_writer.ts");
  assert.throws(() => new Replay(), TypeError);
  assert.throws(() => new Sealed(), TypeError);
});

// ------------------------------------------------------------------ example

test("examples/paged_journal.ts runs", async () => {
  const { main } = await import("../examples/paged_journal.ts");
  const lines: string[] = [];
  await main((line) => lines.push(line));
  assert.ok(lines.some((l) => l.includes("recovered 3 records")), lines.join("\n"));
});

test("readUpTo and readInto from the blob after the cache is cleared", async () => {
  const c = cache(4);
  const { writer } = await open(new MemoryStorage(), "b", c);
  const data = seq(0, P * 5 + 3);
  await writer.append(data);
  await writer.sync();
  c.clear();
  assertBytes(await writer.readUpTo(P * 5 - 2, 100), data.subarray(P * 5 - 2), "up to");
  const target = new Uint8Array(P * 2);
  await writer.readInto(target, P / 2 | 0);
  assertBytes(target, data.subarray(P / 2 | 0, (P / 2 | 0) + P * 2), "into");
  // Concurrent misses on one page share one read.
  c.clear();
  const reads = await Promise.all([
    writer.readAt(0, 5),
    writer.readAt(10, 5),
    writer.readAt(20, 5),
  ]);
  assertBytes(reads[2]!, data.subarray(20, 25), "shared");
});

test("reads during an in-flight flush see the bytes; later appends wait their turn", async () => {
  const storage = new MemoryStorage();
  const opened = await storage.open("test_partition", "b");
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let started!: () => void;
  const writing = new Promise<void>((r) => started = r);
  const blob = new HookBlob(opened.blob);
  const innerWrite = blob.writeAt.bind(blob);
  blob.writeAt = async (offset, data, options) => {
    if (blob.writes === 0) {
      started();
      await gate;
    }
    return await innerWrite(offset, data, options);
  };
  const c = cache(1); // one page: flushed pages are evicted at once
  const writer = await PagedWriter.open(blob, opened.size, { cache: c, bufferSize: BUFFER });
  const data = seq(0, BUFFER + 50, 251);
  const first = writer.append(data.subarray(0, BUFFER - 10));
  const second = writer.append(data.subarray(BUFFER - 10, BUFFER + 20)); // overflows: flush
  await writing;
  // The flush is blocked; every byte is still readable, and a third append queues.
  assertBytes(await writer.readAt(0, BUFFER + 20), data.subarray(0, BUFFER + 20), "in flight");
  const third = writer.append(data.subarray(BUFFER + 20));
  assert.equal(writer.size, BUFFER + 20);
  release();
  assert.deepEqual(await Promise.all([first, second, third]), [0, BUFFER - 10, BUFFER + 20]);
  assertBytes(await writer.readAt(0, data.length), data, "after");
  await writer.sync();
  const o = await reopen(storage, "b", opened.blob);
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assertBytes(await again.readAt(0, data.length), data, "reopened");
});

test("read_many_into: empty, all in tip, all from cache, mixed, misses, straddles, checks", async () => {
  const c = cache(3);
  const { writer } = await open(new MemoryStorage(), "b", c);
  assert.equal(await writer.readManyInto(new Uint8Array(0), [], 4), 0);
  const data = seq(0, P * 6 + 20, 251);
  await writer.append(data.subarray(0, 30));
  let out = new Uint8Array(8);
  assert.equal(await writer.readManyInto(out, [0, 20], 4), 2); // tip only
  assertBytes(out.subarray(0, 4), data.subarray(0, 4), "tip 0");
  assertBytes(out.subarray(4), data.subarray(20, 24), "tip 20");
  await writer.append(data.subarray(30));
  await writer.sync();
  // Pages 0..5 were written; the 3-page cache holds the last three (3, 4, 5).
  const offsets = [2, P - 2, P * 2 + 5, P * 4 - 1, P * 5 + 7, P * 6 + 10];
  out = new Uint8Array(offsets.length * 4);
  const served = await writer.readManyInto(out, offsets, 4);
  assert.equal(served, 3); // P*4-1 (pages 3, 4), P*5+7 (page 5), P*6+10 (tip)
  offsets.forEach((o, i) =>
    assertBytes(out.subarray(i * 4, i * 4 + 4), data.subarray(o, o + 4), `item ${i}`)
  );
  await assert.rejects(writer.readManyInto(new Uint8Array(7), [0, 4], 4), RangeError);
  await assert.rejects(writer.readManyInto(new Uint8Array(8), [4, 0], 4), RangeError);
  await assert.rejects(writer.readManyInto(new Uint8Array(8), [0, 2], 4), RangeError);
  await rejectsCode(
    writer.readManyInto(new Uint8Array(4), [data.length - 3], 4),
    "BlobInsufficientLength",
  );
  // Matches readAt for a sealed view too.
  const sealed = await writer.seal();
  const again = new Uint8Array(offsets.length * 4);
  await sealed.readManyInto(again, offsets, 4);
  assertBytes(again, out, "sealed");
});

test("flush writes the partial page without a sync; a second flush keeps the synced slot", async () => {
  const storage = new MemoryStorage();
  const { writer, wrapped, blob } = await open(
    storage,
    "b",
    cache(),
    BUFFER,
    (b) => new HookBlob(b),
  );
  const h = wrapped as HookBlob;
  await writer.append(seq(0, 10));
  await writer.sync(); // slot 0: 10 bytes, durable
  const synced = readRecord(await readRaw(blob, 0, PHYS), P);
  await writer.append(seq(10, 5));
  await writer.flush();
  await writer.append(seq(15, 5));
  await writer.flush();
  assert.deepEqual([h.writes, h.rangeSyncs], [3, 1]); // the range sync is the first sync()
  const rec = readRecord(await readRaw(blob, 0, PHYS), P);
  assert.deepEqual([rec.len1, rec.crc1], [synced.len1, synced.crc1], "synced slot untouched");
  assert.equal(rec.len2, 20);
  storage.crash();
  const o = await storage.open("test_partition", "b");
  const again = await PagedWriter.open(o.blob, o.size, { cache: cache() });
  assert.equal(again.size, 10);
});

test("the writer syncs before a write would end past the window", async () => {
  setWindowForTesting(3);
  try {
    const storage = new MemoryStorage();
    const { writer, wrapped } = await open(storage, "b", cache(), BUFFER, (b) => new HookBlob(b));
    const h = wrapped as HookBlob;
    await writer.append(seq(0, P * 7 + 5)); // direct: 7 pages, cut after 3 and 6
    assert.deepEqual([h.writes, h.fullSyncs], [3, 3]); // the first write syncs first (open did not cut)
    await writer.sync();
    assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [4, 4, 0]);
    await writer.append(seq(0, 10));
    await writer.sync(); // nothing else pending: one range-durable write
    assert.deepEqual([h.writes, h.fullSyncs, h.rangeSyncs], [5, 4, 1]);
  } finally {
    setWindowForTesting();
  }
});
