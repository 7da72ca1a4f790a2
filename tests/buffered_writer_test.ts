// BufferedWriter: the tests of commonware-runtime's `buffer::Write` (utils/buffer/mod.rs,
// `test_write_*`) and `tip::Buffer` (tip.rs) that pin behaviour, ported, over MemoryStorage and
// over NodeStorage on a temporary directory; the durability ones count the blob calls as
// commonware's `SyncTrackingBlob` does and check the durable image with `MemoryStorage.crash()`.
// Plus argument checks, failure and concurrency cases of our own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferedReader } from "../buffer/buffered_reader.ts";
import { BufferedWriter } from "../buffer/buffered_writer.ts";
import { IoBuf, IoBufs } from "../core/buffers.ts";
import { StorageError } from "../core/errors.ts";
import type { Blob, Storage, WriteOptions } from "../core/types.ts";
import { FaultyStorage } from "../drivers/faulty.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { assertBytes, rejectsCode } from "./assert.ts";
import { backends } from "./fs_fixture.ts";
import { enc, pattern } from "./util.ts";
import { slow } from "./limits.ts";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Opens `name` anew and reads all of it through a BufferedReader (as the Rust tests verify). */
async function reopen(
  storage: Storage,
  name: string,
): Promise<{ size: number; bytes: Uint8Array }> {
  const { blob, size } = await storage.open("partition", name);
  try {
    const reader = new BufferedReader(blob, size, { bufferSize: 8 });
    return { size, bytes: await reader.read(size) };
  } finally {
    await blob.close();
  }
}

/** Runs `body` on each backend with a fresh blob `name`. */
function each(
  name: string,
  body: (blob: Blob, size: number, storage: Storage) => Promise<void>,
): void {
  for (const backend of backends) {
    slow.test(`BufferedWriter (${backend.name}): ${name}`, async () => {
      const { storage, cleanup } = await backend.make();
      try {
        const { blob, size } = await storage.open("partition", "test");
        try {
          await body(blob, size, storage);
        } finally {
          await blob.close();
        }
      } finally {
        await cleanup();
      }
    });
  }
}

interface Counts {
  writes: number;
  rangeSyncs: number;
  fullSyncs: number;
  reads: number;
  resizes: number;
}

/** A blob wrapper counting the calls that reach the blob (commonware's `SyncTrackingBlob`). */
function tracking(inner: Blob): { blob: Blob; counts: Counts } {
  const counts: Counts = { writes: 0, rangeSyncs: 0, fullSyncs: 0, reads: 0, resizes: 0 };
  const blob = {
    readAt: (o: number, l: number) => (counts.reads++, inner.readAt(o, l)),
    readAtBuf: (o: number, l: number, t: never) => (counts.reads++, inner.readAtBuf(o, l, t)),
    writeAt: (o: number, d: Uint8Array, opts?: WriteOptions) => {
      counts.writes++;
      if (opts?.sync) counts.rangeSyncs++;
      return inner.writeAt(o, d, opts);
    },
    resize: (n: number) => (counts.resizes++, inner.resize(n)),
    sync: () => (counts.fullSyncs++, inner.sync()),
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  } as unknown as Blob;
  return { blob, counts };
}

/** A MemoryStorage blob behind `tracking`, with `durable()`: what a crash would keep. */
async function tracked(
  before?: Uint8Array,
): Promise<{ blob: Blob; counts: Counts; durable(): Promise<Uint8Array> }> {
  const storage = new MemoryStorage();
  const opened = await storage.open("p", "b");
  if (before !== undefined) await opened.blob.writeAt(0, before);
  const { blob, counts } = tracking(opened.blob);
  return {
    blob,
    counts,
    durable: async () => {
      const raw = storage.readRaw("p", "b")!;
      return raw.subarray(8); // after the 8-byte V0 header
    },
  };
}

const calls = (c: Counts) => [c.writes, c.fullSyncs, c.rangeSyncs];

// test_write_basic
each("basic write and sync", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 8 });
  await writer.writeAt(0, enc("hello"));
  assert.equal(writer.size, 5);
  await writer.sync();
  assert.equal(writer.size, 5);
  const { size: got, bytes } = await reopen(storage, "test");
  assert.equal(got, 5);
  assert.equal(text(bytes), "hello");
});

// test_write_multiple_flushes
each("writes past the capacity flush", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 4 });
  await writer.writeAt(0, enc("abc"));
  assert.equal(writer.size, 3);
  await writer.writeAt(3, enc("defg"));
  assert.equal(writer.size, 7);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 7, bytes: enc("abcdefg") });
});

// test_write_large_data
each("a write larger than the capacity goes straight to the blob", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 4 });
  await writer.writeAt(0, enc("abc"));
  assert.equal(writer.size, 3);
  await writer.writeAt(3, enc("defghijklmnopqrstuvwxyz"));
  assert.equal(writer.size, 26);
  await writer.sync();
  assert.equal(writer.size, 26);
  assert.deepEqual(await reopen(storage, "test"), {
    size: 26,
    bytes: enc("abcdefghijklmnopqrstuvwxyz"),
  });
});

// test_write_append_to_buffer
each("sequential appends past the capacity", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(0, enc("hello"));
  assert.equal(writer.size, 5);
  await writer.writeAt(5, enc(" world"));
  await writer.sync();
  assert.equal(writer.size, 11);
  assert.deepEqual(await reopen(storage, "test"), { size: 11, bytes: enc("hello world") });
});

// test_write_into_middle_of_buffer
each("overwrites inside the tip", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 20 });
  await writer.writeAt(0, enc("abcdefghij"));
  assert.equal(writer.size, 10);
  await writer.writeAt(2, enc("01234"));
  assert.equal(writer.size, 10);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 10, bytes: enc("ab01234hij") });

  await writer.writeAt(10, enc("klmnopqrst"));
  assert.equal(writer.size, 20);
  await writer.writeAt(9, enc("wxyz"));
  assert.equal(writer.size, 20);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), {
    size: 20,
    bytes: enc("ab01234hiwxyznopqrst"),
  });
});

// test_write_before_buffer
each("a write before the tip, and filling the gap", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(10, enc("0123456789"));
  assert.equal(writer.size, 20);
  await writer.writeAt(0, enc("abcde"));
  assert.equal(writer.size, 20);
  await writer.sync();
  const expected = new Uint8Array(20);
  expected.set(enc("abcde"), 0);
  expected.set(enc("0123456789"), 10);
  assert.deepEqual(await reopen(storage, "test"), { size: 20, bytes: expected });

  await writer.writeAt(5, enc("fghij"));
  assert.equal(writer.size, 20);
  await writer.sync();
  assert.equal(writer.size, 20);
  expected.set(enc("abcdefghij"), 0);
  assert.deepEqual(await reopen(storage, "test"), { size: 20, bytes: expected });
});

// test_write_resize
each("resize shrinks, grows and empties", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(0, enc("hello world"));
  assert.equal(writer.size, 11);
  await writer.sync();
  assert.equal((await reopen(storage, "test")).size, 11);

  await writer.resize(5);
  assert.equal(writer.size, 5);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 5, bytes: enc("hello") });

  await writer.writeAt(0, enc("X"));
  assert.equal(writer.size, 5);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 5, bytes: enc("Xello") });

  await writer.resize(10);
  assert.equal(writer.size, 10);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), {
    size: 10,
    bytes: new Uint8Array([...enc("Xello"), 0, 0, 0, 0, 0]),
  });

  const zero = await storage.open("partition", "zero");
  const w0 = new BufferedWriter(zero.blob, zero.size, { capacity: 10 });
  await w0.writeAt(0, enc("some data"));
  assert.equal(w0.size, 9);
  await w0.sync();
  await w0.resize(0);
  assert.equal(w0.size, 0);
  await w0.sync();
  assert.equal(w0.size, 0);
  await zero.blob.close();
  assert.equal((await reopen(storage, "zero")).size, 0);
});

// test_write_resize_grow_flushes_buffered_data
each("a growing resize flushes the tip first", async (blob, size) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(0, enc("hello"));
  await writer.resize(10);
  await writer.sync();
  assert.equal(text(await writer.readAt(0, 5)), "hello");
  assertBytes(await writer.readAt(0, 10), new Uint8Array([...enc("hello"), 0, 0, 0, 0, 0]));
});

// test_write_read_at_on_writer
each("readAt sees the tip, the blob, and both", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(0, enc("buffered"));
  assert.equal(writer.size, 8);
  assert.equal(text(await writer.readAt(0, 4)), "buff");
  assert.equal(text(await writer.readAt(4, 4)), "ered");
  await rejectsCode(writer.readAt(8, 1), "BlobInsufficientLength");

  await writer.writeAt(8, enc(" and flushed"));
  assert.equal(writer.size, 20);
  await writer.sync();
  assert.equal(writer.size, 20);
  assert.equal(text(await writer.readAt(0, 4)), "buff");
  assert.equal(text(await writer.readAt(13, 7)), "flushed");

  await writer.writeAt(20, enc(" more data"));
  assert.equal(writer.size, 30);
  assert.equal(text(await writer.readAt(20, 5)), " more");
  assert.equal(text(await writer.readAt(16, 12)), "shed more da");

  await writer.sync();
  assert.equal(writer.size, 30);
  assert.deepEqual(await reopen(storage, "test"), {
    size: 30,
    bytes: enc("buffered and flushed more data"),
  });
});

// test_write_zero_length_read_past_eof_errors
each("a zero-length read past the end rejects", async (blob, size) => {
  const writer = new BufferedWriter(blob, size, { capacity: 8 });
  await writer.writeAt(0, enc("abc"));
  assert.equal((await writer.readAt(3, 0)).length, 0);
  await rejectsCode(writer.readAt(4, 0), "BlobInsufficientLength");
});

// test_write_straddling_non_mergeable
each(
  "non-mergeable writes: a gap, and an overlap past the capacity",
  async (blob, size, storage) => {
    const writer = new BufferedWriter(blob, size, { capacity: 10 });
    await writer.writeAt(0, enc("0123456789"));
    assert.equal(writer.size, 10);
    await writer.writeAt(15, enc("abc"));
    assert.equal(writer.size, 18);
    await writer.sync();
    assert.equal(writer.size, 18);
    const expected = new Uint8Array(18);
    expected.set(enc("0123456789"), 0);
    expected.set(enc("abc"), 15);
    assert.deepEqual(await reopen(storage, "test"), { size: 18, bytes: expected });

    const second = await storage.open("partition", "straddle2");
    const w2 = new BufferedWriter(second.blob, second.size, { capacity: 10 });
    await w2.writeAt(0, enc("0123456789"));
    assert.equal(w2.size, 10);
    await w2.writeAt(5, enc("ABCDEFGHIJKL"));
    assert.equal(w2.size, 17);
    await w2.sync();
    assert.equal(w2.size, 17);
    await second.blob.close();
    assert.deepEqual(await reopen(storage, "straddle2"), {
      size: 17,
      bytes: enc("01234ABCDEFGHIJKL"),
    });
  },
);

// test_write_close (commonware's Write has no close: sync persists the tip)
each("sync persists the buffered bytes", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 8 });
  await writer.writeAt(0, enc("pending"));
  assert.equal(writer.size, 7);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 7, bytes: enc("pending") });
});

// test_write_direct_due_to_size
each("a direct write, then buffered bytes after it", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 5 });
  await writer.writeAt(0, enc("0123456789"));
  assert.equal(writer.size, 10);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 10, bytes: enc("0123456789") });

  await writer.writeAt(10, enc("abc"));
  assert.equal(writer.size, 13);
  assert.equal(text(await writer.readAt(10, 3)), "abc");
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 13, bytes: enc("0123456789abc") });
});

// test_write_overwrite_and_extend_in_buffer
each("overwrite and extend inside the capacity", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 15 });
  await writer.writeAt(0, enc("0123456789"));
  assert.equal(writer.size, 10);
  await writer.writeAt(5, enc("ABCDEFGHIJ"));
  assert.equal(writer.size, 15);
  assert.equal(text(await writer.readAt(0, 15)), "01234ABCDEFGHIJ");
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 15, bytes: enc("01234ABCDEFGHIJ") });
});

// test_write_at_size
each("appending at size", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 20 });
  await writer.writeAt(0, enc("0123456789"));
  assert.equal(writer.size, 10);
  await writer.sync();
  await writer.writeAt(writer.size, enc("abc"));
  assert.equal(writer.size, 13);
  await writer.sync();
  assert.deepEqual(await reopen(storage, "test"), { size: 13, bytes: enc("0123456789abc") });
});

// test_write_at_size_multiple_appends
each("several appends at size, each synced", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 5 });
  for (const [word, end] of [["AAA", 3], ["BBB", 6], ["CCC", 9]] as const) {
    await writer.writeAt(writer.size, enc(word));
    assert.equal(writer.size, end);
    await writer.sync();
    assert.equal(writer.size, end);
  }
  assert.deepEqual(await reopen(storage, "test"), { size: 9, bytes: enc("AAABBBCCC") });
});

// test_write_non_contiguous_then_append_at_size
each("a write after a gap, then an append at size", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(0, enc("INITIAL"));
  assert.equal(writer.size, 7);
  await writer.writeAt(20, enc("NONCONTIG"));
  assert.equal(writer.size, 29);
  await writer.sync();
  assert.equal(writer.size, 29);
  await writer.writeAt(writer.size, enc("APPEND"));
  assert.equal(writer.size, 35);
  await writer.sync();
  assert.equal(writer.size, 35);
  const expected = new Uint8Array(35);
  expected.set(enc("INITIAL"), 0);
  expected.set(enc("NONCONTIG"), 20);
  expected.set(enc("APPEND"), 29);
  assert.deepEqual(await reopen(storage, "test"), { size: 35, bytes: expected });
});

// test_write_resize_then_append_at_size
each("truncate, then append at size", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 10 });
  await writer.writeAt(0, enc("0123456789ABCDEF"));
  assert.equal(writer.size, 16);
  await writer.sync();
  assert.equal(writer.size, 16);
  await writer.resize(5);
  assert.equal(writer.size, 5);
  await writer.sync();
  assert.equal(writer.size, 5);
  await writer.writeAt(writer.size, enc("XXXXX"));
  assert.equal(writer.size, 10);
  await writer.sync();
  assert.equal(writer.size, 10);
  assert.deepEqual(await reopen(storage, "test"), { size: 10, bytes: enc("01234XXXXX") });
});

// test_tip_resize: growing past the tip flushes it, shrinking into it truncates it, shrinking
// below it drops it (checked through the calls that reach the blob).
test("BufferedWriter: resize against the tip (tip.rs test_tip_resize)", async () => {
  const { blob, counts } = await tracked(new Uint8Array(50));
  const writer = new BufferedWriter(blob, 50, { capacity: 100 });
  await writer.writeAt(50, new Uint8Array([1, 2, 3]));
  assert.equal(writer.size, 53);
  await writer.resize(60); // grows past the tip: the tip is written first
  assert.equal(writer.size, 60);
  assert.equal(counts.writes, 1);
  assertBytes(await writer.readAt(50, 10), new Uint8Array([1, 2, 3, 0, 0, 0, 0, 0, 0, 0]));

  await writer.writeAt(60, new Uint8Array([4, 5, 6]));
  assert.equal(writer.size, 63);
  await writer.resize(61); // inside the tip: truncated, nothing written
  assert.equal(writer.size, 61);
  assert.equal(counts.writes, 1);
  assertBytes(await writer.readAt(60, 1), new Uint8Array([4]));
  // The truncated bytes are gone: a later write after a gap reads zeros there.
  await writer.writeAt(63, new Uint8Array([9]));
  assertBytes(await writer.readAt(60, 4), new Uint8Array([4, 0, 0, 9]));

  await writer.resize(59); // below the tip: dropped
  assert.equal(writer.size, 59);
  assert.equal(counts.writes, 1);
  await rejectsCode(writer.readAt(59, 1), "BlobInsufficientLength");
  await writer.sync();
  assert.equal(counts.writes, 1);
  assertBytes(await writer.readAt(50, 9), new Uint8Array([1, 2, 3, 0, 0, 0, 0, 0, 0]));
});

// test_tip_first_merge_from_empty
test("BufferedWriter: the first merge into an empty tip", async () => {
  const { blob, counts } = await tracked();
  const writer = new BufferedWriter(blob, 0, { capacity: 16 });
  await writer.writeAt(0, enc("abc"));
  assert.equal(text(await writer.readAt(0, 3)), "abc");
  assert.deepEqual([counts.writes, counts.reads], [0, 0]);
});

// test_tip_writable_copies_when_slice_is_live
test("BufferedWriter: bytes read from the tip do not change with later writes", async () => {
  const { blob } = await tracked();
  const writer = new BufferedWriter(blob, 0, { capacity: 16 });
  await writer.writeAt(0, enc("abc"));
  const snapshot = await writer.readAt(0, 3);
  await writer.writeAt(3, enc("def"));
  await writer.writeAt(0, enc("X"));
  assert.equal(text(snapshot), "abc");
  assert.equal(text(await writer.readAt(0, 6)), "Xbcdef");
});

// test_write_sync_uses_range_sync_for_buffer_only_write
test("BufferedWriter: sync of a tip-only change is one range-durable write", async () => {
  const { blob, counts, durable } = await tracked();
  const writer = new BufferedWriter(blob, 0, { capacity: 8 });
  await writer.sync(); // a fresh writer keeps one barrier for what predates it
  assert.deepEqual(calls(counts), [0, 1, 0]);
  assertBytes(await durable(), new Uint8Array(0));

  await writer.writeAt(0, enc("abc"));
  await writer.sync();
  assert.deepEqual(calls(counts), [1, 1, 1]);
  assertBytes(await durable(), enc("abc"));

  await writer.sync(); // nothing left
  assert.deepEqual(calls(counts), [1, 1, 1]);
});

// test_write_sync_persists_pre_wrapped_blob_mutation
test("BufferedWriter: the first sync is a full barrier for earlier blob changes", async () => {
  const { blob, counts, durable } = await tracked(enc("abc")); // written, not synced
  const writer = new BufferedWriter(blob, 3, { capacity: 8 });
  await writer.sync();
  assertBytes(await durable(), enc("abc"));
  assert.deepEqual(calls(counts), [0, 1, 0]);

  await writer.writeAt(3, enc("d"));
  await writer.sync();
  assertBytes(await durable(), enc("abcd"));
  assert.deepEqual(calls(counts), [1, 1, 1]);
});

// test_write_sync_persists_prior_direct_flushes_with_buffered_tip
test("BufferedWriter: sync after a direct write: plain write, then full sync", async () => {
  const { blob, counts, durable } = await tracked();
  const writer = new BufferedWriter(blob, 0, { capacity: 4 });
  await writer.writeAt(0, enc("abcdef")); // too big: straight to the blob
  await writer.writeAt(6, enc("g"));
  await writer.sync();
  assertBytes(await durable(), enc("abcdefg"));
  assert.deepEqual(calls(counts), [2, 1, 0]);

  await writer.sync();
  assert.deepEqual(calls(counts), [2, 1, 0]);

  await writer.writeAt(7, enc("h"));
  await writer.sync();
  assertBytes(await durable(), enc("abcdefgh"));
  assert.deepEqual(calls(counts), [3, 1, 1]);
});

// test_write_sync_uses_full_sync_after_resize
test("BufferedWriter: sync after a resize is a full sync", async () => {
  const { blob, counts, durable } = await tracked();
  const writer = new BufferedWriter(blob, 0, { capacity: 8 });
  await writer.sync();
  await writer.writeAt(0, enc("abcdef"));
  await writer.sync();
  await writer.resize(4);
  await writer.sync();
  assertBytes(await durable(), enc("abcd"));
  assert.deepEqual(calls(counts), [1, 2, 1]);
});

// test_write_sync_failed_range_sync_does_not_mark_clean, with FaultyStorage instead of
// removing the blob: every write fails, keeping a prefix of its bytes.
test("BufferedWriter: a failed sync rejects, keeps the tip, and leaves the writer dirty", async () => {
  const inner = new MemoryStorage();
  const seeded = await inner.open("p", "b");
  await seeded.blob.writeAt(0, enc("base"), { sync: true });
  await seeded.blob.close();
  const storage = new FaultyStorage(inner, {
    seed: 7,
    rates: { write: 1 },
    partialWrites: "prefix",
  });
  const { blob, size } = await storage.open("p", "b");
  const writer = new BufferedWriter(blob, size, { capacity: 8 });
  await writer.sync(); // the first (full) sync: no write, so no fault
  await writer.writeAt(4, enc("tail")); // merged into the tip: no I/O
  assert.equal(writer.size, 8);

  const err = await rejectsCode(writer.sync(), "Io");
  assert.equal(err.reason, "injected storage fault");
  assert.equal(err.partition, "p");
  assert.equal(err.blob, "62");
  // Nothing was lost or half-reported: same size, same bytes.
  assert.equal(writer.size, 8);
  assert.equal(text(await writer.readAt(0, 8)), "basetail");
  await rejectsCode(writer.sync(), "Io"); // still dirty: a later sync cannot succeed

  // A write that must flush the tip fails the same way and changes nothing.
  await rejectsCode(writer.writeAt(2, enc("0123456789")), "Io");
  assert.equal(writer.size, 8);
  assert.equal(text(await writer.readAt(0, 8)), "basetail");

  // What the failed writes left is not durable: a crash keeps "base".
  inner.crash();
  const again = await inner.open("p", "b");
  assert.equal(again.size, 4);
  assert.equal(text((await again.blob.readAt(0, 4)).bytes()), "base");
  await again.blob.close();
});

test("BufferedWriter: after a failed flush, a retry writes the kept tip", async () => {
  const storage = new MemoryStorage();
  const opened = await storage.open("p", "b");
  let failing = false;
  const blob = {
    ...tracking(opened.blob).blob,
    writeAt: (o: number, d: Uint8Array, opts?: WriteOptions) =>
      failing
        ? Promise.reject(new StorageError("WriteFailed", { partition: "p", blob: "62" }))
        : opened.blob.writeAt(o, d, opts),
  } as unknown as Blob;
  const writer = new BufferedWriter(blob, 0, { capacity: 8 });
  await writer.writeAt(0, enc("abc"));
  failing = true;
  await rejectsCode(writer.sync(), "WriteFailed");
  await rejectsCode(writer.writeAt(0, enc("0123456789")), "WriteFailed");
  assert.equal(writer.size, 3);
  failing = false;
  await writer.sync();
  storage.crash();
  const again = await storage.open("p", "b");
  assert.equal(text((await again.blob.readAt(0, again.size)).bytes()), "abc");
  await again.blob.close();
});

test("BufferedWriter: a crash keeps what was synced and drops the rest", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  const writer = new BufferedWriter(blob, 0, { capacity: 8 });
  await writer.writeAt(0, enc("durable|"));
  await writer.sync();
  await writer.writeAt(8, enc("tip")); // buffered only
  await writer.writeAt(16, enc("a direct write")); // flushes "tip", then straight to the blob
  assert.equal(writer.size, 30);
  storage.crash();
  await rejectsCode(writer.sync(), "Closed");
  const again = await storage.open("p", "b");
  assert.equal(again.size, 8);
  assert.equal(text((await again.blob.readAt(0, 8)).bytes()), "durable|");

  // Synced through the range-durable path, then crashed: kept.
  const w2 = new BufferedWriter(again.blob, again.size, { capacity: 8 });
  await w2.sync();
  await w2.writeAt(8, enc("more"));
  await w2.sync();
  storage.crash();
  const third = await storage.open("p", "b");
  assert.equal(text((await third.blob.readAt(0, third.size)).bytes()), "durable|more");
  await third.blob.close();
});

// Our own cases.

each(
  "multi-chunk data: merged, flushed and direct chunks in order",
  async (blob, size, storage) => {
    const writer = new BufferedWriter(blob, size, { capacity: 4 });
    await writer.writeAt(0, [enc("ab"), new IoBuf(enc("cd")), enc(""), enc("efghij"), enc("k")]);
    assert.equal(writer.size, 11);
    await writer.writeAt(11, new IoBufs([enc("lm"), enc("no")]));
    assert.equal(text(await writer.readAt(0, 15)), "abcdefghijklmno");
    await writer.sync();
    assert.deepEqual(await reopen(storage, "test"), { size: 15, bytes: enc("abcdefghijklmno") });
  },
);

each("a large pattern through a small tip, in uneven writes", async (blob, size, storage) => {
  const data = pattern(100_000, 11);
  const writer = new BufferedWriter(blob, size, { capacity: 4096 });
  let at = 0;
  for (let n = 1; at < data.length; n = (n * 7 + 3) % 9000 + 1) {
    const end = Math.min(data.length, at + n);
    await writer.writeAt(at, data.subarray(at, end));
    at = end;
  }
  assert.equal(writer.size, data.length);
  assertBytes(await writer.readAt(0, data.length), data);
  await writer.sync();
  assertBytes((await reopen(storage, "test")).bytes, data);
});

each("calls made without awaiting run in call order", async (blob, size, storage) => {
  const writer = new BufferedWriter(blob, size, { capacity: 4 });
  const ops = [
    writer.writeAt(0, enc("0123456789")), // direct
    writer.writeAt(10, enc("ab")), // buffered, after the direct write
    writer.readAt(0, 12),
    writer.writeAt(2, enc("XY")), // before the tip: direct
    writer.resize(13),
    writer.readAt(0, 13),
    writer.sync(),
  ];
  const results = await Promise.all(ops);
  assert.equal(text(results[2] as Uint8Array), "0123456789ab");
  assertBytes(results[5] as Uint8Array, new Uint8Array([...enc("01XY456789ab"), 0]));
  assert.equal(writer.size, 13);
  assertBytes((await reopen(storage, "test")).bytes, new Uint8Array([...enc("01XY456789ab"), 0]));
});

test("BufferedWriter: argument checks", async () => {
  await using opened = await new MemoryStorage().open("p", "b");
  const blob = opened.blob;
  assert.throws(() => new BufferedWriter({} as Blob, 0, { capacity: 1 }), TypeError);
  assert.throws(
    () => new BufferedWriter({ readAtBuf() {} } as unknown as Blob, 0, { capacity: 1 }),
    TypeError,
  );
  assert.throws(() => new BufferedWriter(blob, -1, { capacity: 1 }), RangeError);
  assert.throws(() => new BufferedWriter(blob, "0" as never, { capacity: 1 }), TypeError);
  assert.throws(() => new BufferedWriter(blob, 0, null as never), TypeError);
  for (const bad of [0, -1, 0.5, NaN, Infinity]) {
    assert.throws(() => new BufferedWriter(blob, 0, { capacity: bad }), RangeError, `${bad}`);
  }
  assert.throws(() => new BufferedWriter(blob, 0, { capacity: "4" as never }), TypeError);
  const writer = new BufferedWriter(blob, 0, { capacity: 4 });
  await assert.rejects(writer.writeAt(-1, enc("a")), RangeError);
  await assert.rejects(writer.writeAt(1.5, enc("a")), RangeError);
  await assert.rejects(writer.writeAt(0, "a" as never), TypeError);
  await assert.rejects(writer.writeAt(0, [1] as never), TypeError);
  await assert.rejects(writer.readAt(-1, 1), RangeError);
  await assert.rejects(writer.readAt(0, "1" as never), TypeError);
  await assert.rejects(writer.resize(-1), RangeError);
  await rejectsCode(writer.writeAt(Number.MAX_SAFE_INTEGER - 8, enc("a")), "OffsetOverflow");
  await rejectsCode(writer.readAt(Number.MAX_SAFE_INTEGER, 1), "OffsetOverflow");
  await rejectsCode(writer.resize(Number.MAX_SAFE_INTEGER), "OffsetOverflow");
  assert.equal(writer.size, 0);
  await writer.writeAt(0, new Uint8Array(0)); // empty: nothing
  assert.equal(writer.size, 0);
});

// Under injected faults (writes, syncs and resizes failing, failed writes keeping a random
// subset of their bytes, failed resizes stopping halfway), retrying each failed call until it
// succeeds must leave exactly what a fault-free run leaves: a failure loses nothing and
// reports nothing half-done. Checked against a plain array, through readAt, and after a crash.
for (const seed of [1, 2, 3]) {
  slow.test(`BufferedWriter: retried calls under injected faults match the model (seed ${seed})`, async () => {
    const inner = new MemoryStorage();
    const storage = new FaultyStorage(inner, {
      seed,
      rates: { write: 0.3, sync: 0.3, resize: 0.3, read: 0.2 },
      partialWrites: "subset",
      partialResizes: true,
    });
    const { blob, size } = await storage.open("p", "b");
    const writer = new BufferedWriter(blob, size, { capacity: 64 });
    let model = new Uint8Array(0);
    const setLength = (n: number) => {
      const next = new Uint8Array(n);
      next.set(model.subarray(0, Math.min(n, model.length)));
      model = next;
    };
    let faults = 0;
    const retry = async <T>(op: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await op();
        } catch (err) {
          assert.ok(err instanceof StorageError && err.code === "Io", `${err}`);
          faults++;
        }
      }
    };
    let x = seed * 7919;
    const next = (n: number) => (x = (x * 1103515245 + 12345) % 2147483648) % n;
    for (let step = 0; step < 300; step++) {
      const kind = next(10);
      if (kind < 6) {
        const at = next(model.length + 40);
        const data = pattern(1 + next(kind < 4 ? 30 : 150), step);
        await retry(() => writer.writeAt(at, data));
        if (at + data.length > model.length) setLength(at + data.length);
        model.set(data, at);
      } else if (kind === 6) {
        const n = next(model.length + 50);
        await retry(() => writer.resize(n));
        setLength(n);
      } else if (kind === 7) {
        await retry(() => writer.sync());
      } else if (model.length > 0) {
        const at = next(model.length);
        const n = next(model.length - at + 1);
        assertBytes(await retry(() => writer.readAt(at, n)), model.subarray(at, at + n), `${step}`);
      }
      assert.equal(writer.size, model.length, `size at step ${step}`);
    }
    assert.ok(faults > 0);
    assertBytes(await retry(() => writer.readAt(0, model.length)), model, "final read");
    await retry(() => writer.sync());
    inner.crash();
    assertBytes(inner.readRaw("p", "b")!.subarray(8), model, "durable image");
  });
}

test("BufferedWriter: its own errors carry the partition and blob given, and say the range", async () => {
  const { blob } = await new MemoryStorage().open("p", "b");
  const writer = new BufferedWriter(blob, 0, { capacity: 16, partition: "p", blob: "62" });
  await writer.writeAt(0, new Uint8Array([1, 2, 3]));
  const err = await rejectsCode(writer.readAt(2, 5), "BlobInsufficientLength");
  assert.equal(err.partition, "p");
  assert.equal(err.blob, "62");
  assert.match(err.message, /read of 5 bytes at offset 2, blob size 3$/);
  const over = await rejectsCode(
    writer.writeAt(Number.MAX_SAFE_INTEGER - 4, new Uint8Array(2)),
    "OffsetOverflow",
  );
  assert.equal(over.blob, "62");
  assert.throws(
    () => new BufferedWriter(blob, 0, { capacity: 16, partition: 1 as never }),
    TypeError,
  );
  await blob.close();
});
