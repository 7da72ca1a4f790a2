// BufferedReader: the tests of commonware-runtime's `buffer::Read` (utils/buffer/mod.rs,
// `test_read_*`), ported, over MemoryStorage and over NodeStorage on a temporary directory,
// plus argument checks, failure and concurrency cases of our own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferedReader } from "../buffer/buffered_reader.ts";
import { StorageError } from "../core/errors.ts";
import type { Blob, Storage } from "../core/types.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { FaultyStorage } from "../drivers/faulty.ts";
import { assertBytes, rejectsCode, thrown } from "./assert.ts";
import { backends } from "./fs_fixture.ts";
import { enc, pattern } from "./util.ts";

const ABC = enc("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A blob wrapper that counts the reads reaching the blob. */
function counting(inner: Blob): { blob: Blob; reads: () => number } {
  let reads = 0;
  const blob = {
    readAt: (o: number, l: number) => (reads++, inner.readAt(o, l)),
    readAtBuf: (o: number, l: number, t: never) => (reads++, inner.readAtBuf(o, l, t)),
    writeAt: inner.writeAt.bind(inner),
    resize: inner.resize.bind(inner),
    sync: inner.sync.bind(inner),
    close: inner.close.bind(inner),
    [Symbol.asyncDispose]: () => inner.close(),
  } as unknown as Blob;
  return { blob, reads: () => reads };
}

/** Runs `body` on each backend with a blob holding `data` (written plainly, as the Rust tests do). */
function each(
  name: string,
  data: Uint8Array,
  body: (blob: Blob, storage: Storage) => Promise<void>,
): void {
  for (const backend of backends) {
    test(`BufferedReader (${backend.name}): ${name}`, async () => {
      const { storage, cleanup } = await backend.make();
      try {
        const { blob, size } = await storage.open("partition", "test");
        assert.equal(size, 0);
        await blob.writeAt(0, data);
        try {
          await body(blob, storage);
        } finally {
          await blob.close();
        }
      } finally {
        await cleanup();
      }
    });
  }
}

// test_read_basic
each("basic sequential reads with refills", enc("Hello, world! This is a test."), async (blob) => {
  const reader = new BufferedReader(blob, 29, { bufferSize: 10 });
  assert.equal(text(await reader.read(5)), "Hello");
  assert.equal(text(await reader.read(14)), ", world! This ");
  assert.equal(reader.position, 19);
  assert.equal(text(await reader.read(7)), "is a te");
  await rejectsCode(reader.read(5), "BlobInsufficientLength");
});

// test_read_cross_boundary
each("reads crossing buffer boundaries", ABC, async (blob) => {
  const reader = new BufferedReader(blob, 26, { bufferSize: 10 });
  assert.equal(text(await reader.read(15)), "ABCDEFGHIJKLMNO");
  assert.equal(reader.position, 15);
  assert.equal(text(await reader.read(11)), "PQRSTUVWXYZ");
  assert.equal(reader.position, 26);
  assert.equal(reader.blobRemaining, 0);
});

// test_read_to_end_then_rewind_and_read_again (commonware issue #1348)
each("read to the end, rewind, read again", ABC, async (blob) => {
  const reader = new BufferedReader(blob, 26, { bufferSize: 20 });
  assert.equal(text(await reader.read(21)), "ABCDEFGHIJKLMNOPQRSTU");
  assert.equal(reader.position, 21);
  assert.equal(text(await reader.read(5)), "VWXYZ");
  reader.seekTo(0);
  assert.equal(text(await reader.read(21)), "ABCDEFGHIJKLMNOPQRSTU");
});

// test_read_with_known_size
const KNOWN = enc("This is a test with known size limitations.");
each("blobRemaining tracks the known size", KNOWN, async (blob) => {
  const size = KNOWN.length;
  const reader = new BufferedReader(blob, size, { bufferSize: 10 });
  assert.equal(reader.blobRemaining, size);
  assert.equal(reader.blobSize, size);
  assert.equal(text(await reader.read(5)), "This ");
  assert.equal(reader.blobRemaining, size - 5);
  assert.equal(text(await reader.read(size - 5)), "is a test with known size limitations.");
  assert.equal(reader.blobRemaining, 0);
  await rejectsCode(reader.read(1), "BlobInsufficientLength");
});

// test_read_oversized_request_does_not_consume_buffered_bytes
each("an oversized read consumes nothing", enc("abcdefghij"), async (blob) => {
  const reader = new BufferedReader(blob, 10, { bufferSize: 8 });
  assert.equal(text(await reader.read(6)), "abcdef");
  assert.equal(reader.position, 6);
  await rejectsCode(reader.read(5), "BlobInsufficientLength");
  assert.equal(reader.position, 6);
  assert.equal(text(await reader.read(4)), "ghij");
  assert.equal(reader.position, 10);
});

// test_read_large_data (with a position-dependent pattern instead of a constant byte)
const LARGE = pattern(256 * 1024, 3);
each("256 KiB in 8 KiB reads through a 64 KiB buffer", LARGE, async (blob) => {
  const reader = new BufferedReader(blob, LARGE.length, { bufferSize: 64 * 1024 });
  for (let at = 0; at < LARGE.length; at += 8192) {
    assertBytes(await reader.read(8192), LARGE.subarray(at, at + 8192), `at ${at}`);
  }
  await rejectsCode(reader.read(1), "BlobInsufficientLength");
});

// test_read_exact_size_reads
const EXACT = pattern(2560, 5);
each("reads of exactly one buffer", EXACT, async (blob) => {
  const reader = new BufferedReader(blob, 2560, { bufferSize: 1024 });
  assertBytes(await reader.read(1024), EXACT.subarray(0, 1024));
  assertBytes(await reader.read(1024), EXACT.subarray(1024, 2048));
  assertBytes(await reader.read(512), EXACT.subarray(2048));
  assert.equal(reader.blobRemaining, 0);
  assert.equal(reader.position, 2560);
});

// test_read_structure_single_vs_chunked: we return one array either way; a read the buffer
// holds is a view of it, a read across refills is a copy.
each("buffered reads are views, spanning reads are copies", enc("ABCDEFGHIJKL"), async (blob) => {
  const reader = new BufferedReader(blob, 12, { bufferSize: 5 });
  const first = await reader.read(3);
  assert.equal(text(first), "ABC");
  assert.equal(first.buffer.byteLength, 5);
  const second = await reader.read(7);
  assert.equal(text(second), "DEFGHIJ");
  assert.equal(second.buffer.byteLength, 7);
});

// test_read_seek_to
each("seekTo", ABC, async (blob) => {
  const reader = new BufferedReader(blob, 26, { bufferSize: 10 });
  assert.equal(text(await reader.read(5)), "ABCDE");
  assert.equal(reader.position, 5);
  reader.seekTo(10);
  assert.equal(reader.position, 10);
  assert.equal(text(await reader.read(5)), "KLMNO");
  reader.seekTo(0);
  assert.equal(reader.position, 0);
  assert.equal(text(await reader.read(5)), "ABCDE");
  reader.seekTo(26);
  assert.equal(reader.position, 26);
  await rejectsCode(reader.read(1), "BlobInsufficientLength");
  const err = thrown(() => reader.seekTo(36));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobInsufficientLength");
  assert.equal(reader.position, 26);
});

// test_read_seek_with_refill
const AS = pattern(1000, 9);
each("seeks far ahead and back refill", AS, async (blob) => {
  const reader = new BufferedReader(blob, 1000, { bufferSize: 10 });
  await reader.read(5);
  reader.seekTo(500);
  assertBytes(await reader.read(5), AS.subarray(500, 505));
  assert.equal(reader.position, 505);
  reader.seekTo(100);
  assertBytes(await reader.read(5), AS.subarray(100, 105));
  assert.equal(reader.position, 105);
});

// test_read_seek_within_buffered_range
each("a seek back inside the buffer moves the cursor only", ABC, async (inner) => {
  const { blob, reads } = counting(inner);
  const reader = new BufferedReader(blob, 26, { bufferSize: 10 });
  assert.equal(text(await reader.read(6)), "ABCDEF");
  assert.equal(reader.position, 6);
  assert.equal(reader.bufferRemaining, 4);
  reader.seekTo(3);
  assert.equal(reader.position, 3);
  assert.equal(reader.bufferRemaining, 7);
  assert.equal(text(await reader.read(5)), "DEFGH");
  assert.equal(reader.position, 8);
  assert.equal(reader.bufferRemaining, 2);
  assert.equal(reads(), 1);
});

// test_read_seek_within_unread_buffer_does_not_refill
each("a seek forward inside the buffer does not refill", ABC, async (inner) => {
  const { blob, reads } = counting(inner);
  const reader = new BufferedReader(blob, 26, { bufferSize: 10 });
  assert.equal(text(await reader.read(6)), "ABCDEF");
  assert.equal(reader.bufferRemaining, 4);
  reader.seekTo(7);
  assert.equal(reader.position, 7);
  assert.equal(reader.bufferRemaining, 3);
  assert.equal(text(await reader.read(3)), "HIJ");
  assert.equal(reader.position, 10);
  assert.equal(reader.bufferRemaining, 0);
  assert.equal(reads(), 1);
  assert.equal(text(await reader.read(1)), "K");
  assert.equal(reader.position, 11);
  assert.equal(reader.bufferRemaining, 9);
  assert.equal(reads(), 2);
});

// test_read_allocates_lazily_on_first_refill (no pool here: construction does no I/O)
each("construction does no I/O", enc("hello world"), async (inner) => {
  const { blob, reads } = counting(inner);
  const reader = new BufferedReader(blob, 11, { bufferSize: 10 });
  assert.equal(reads(), 0);
  assert.equal(reader.bufferRemaining, 0);
  assert.equal(text(await reader.read(5)), "hello");
  assert.equal(reads(), 1);
});

// test_read_resize
for (const backend of backends) {
  test(`BufferedReader (${backend.name}): resize trims and grows, durably`, async () => {
    const { storage, cleanup } = await backend.make();
    try {
      const { blob } = await storage.open("partition", "test");
      await blob.writeAt(0, ABC);
      const reader = new BufferedReader(blob, 26, { bufferSize: 10 });
      await reader.resize(13);
      assert.equal(reader.blobSize, 13);
      await blob.close();

      const again = await storage.open("partition", "test");
      assert.equal(again.size, 13);
      const second = new BufferedReader(again.blob, again.size, { bufferSize: 10 });
      assert.equal(text(await second.read(13)), "ABCDEFGHIJKLM");
      await rejectsCode(second.read(1), "BlobInsufficientLength");
      await second.resize(52);
      // The reader reads the grown blob: zeros after the old end.
      assertBytes(await second.read(39), new Uint8Array(39));
      await again.blob.close();

      const third = await storage.open("partition", "test");
      assert.equal(third.size, 52);
      const r3 = new BufferedReader(third.blob, third.size, { bufferSize: 10 });
      const all = await r3.read(52);
      assert.equal(text(all.subarray(0, 13)), "ABCDEFGHIJKLM");
      assertBytes(all.subarray(13), new Uint8Array(39));
      await third.blob.close();
    } finally {
      await cleanup();
    }
  });
}

// test_read_resize_to_zero
each("resize to zero", ABC, async (blob, storage) => {
  const reader = new BufferedReader(blob, 26, { bufferSize: 10 });
  await reader.read(12);
  await reader.resize(0);
  assert.equal(reader.position, 0);
  assert.equal(reader.blobRemaining, 0);
  await rejectsCode(reader.read(1), "BlobInsufficientLength");
  const again = await storage.open("partition", "test");
  assert.equal(again.size, 0);
  await rejectsCode(
    new BufferedReader(again.blob, 0, { bufferSize: 10 }).read(1),
    "BlobInsufficientLength",
  );
  await again.blob.close();
});

// Our own cases.

each("read(0) is empty anywhere, even at the end", enc("abc"), async (blob) => {
  const reader = new BufferedReader(blob, 3, { bufferSize: 2 });
  assert.equal((await reader.read(0)).length, 0);
  reader.seekTo(3);
  assert.equal((await reader.read(0)).length, 0);
});

each("returned views survive later refills", ABC, async (blob) => {
  const reader = new BufferedReader(blob, 26, { bufferSize: 4 });
  const a = await reader.read(2);
  const b = await reader.read(2);
  assert.equal(text(await reader.read(20)), "EFGHIJKLMNOPQRSTUVWX");
  reader.seekTo(24);
  assert.equal(text(await reader.read(2)), "YZ");
  assert.equal(text(a), "AB");
  assert.equal(text(b), "CD");
});

each("a reader bounded below the blob's size stops there", ABC, async (blob) => {
  const reader = new BufferedReader(blob, 5, { bufferSize: 64 });
  assert.equal(text(await reader.read(5)), "ABCDE");
  await rejectsCode(reader.read(1), "BlobInsufficientLength");
});

each("calls made without awaiting run in call order", ABC, async (blob) => {
  const reader = new BufferedReader(blob, 26, { bufferSize: 4 });
  const a = reader.read(5);
  const b = reader.read(5);
  reader.seekTo(20);
  const c = reader.read(6);
  const d = reader.read(1);
  assert.deepEqual((await Promise.all([a, b, c])).map(text), ["ABCDE", "FGHIJ", "UVWXYZ"]);
  await rejectsCode(d, "BlobInsufficientLength");
  assert.equal(reader.position, 26);
});

test("BufferedReader: argument checks", async () => {
  await using opened = await new MemoryStorage().open("p", "b");
  const blob = opened.blob;
  assert.throws(() => new BufferedReader({} as Blob, 0, { bufferSize: 1 }), TypeError);
  assert.throws(() => new BufferedReader(null as unknown as Blob, 0, { bufferSize: 1 }), TypeError);
  assert.throws(() => new BufferedReader(blob, -1, { bufferSize: 1 }), RangeError);
  assert.throws(() => new BufferedReader(blob, 1.5, { bufferSize: 1 }), RangeError);
  assert.throws(
    () => new BufferedReader(blob, "1" as unknown as number, { bufferSize: 1 }),
    TypeError,
  );
  assert.throws(() => new BufferedReader(blob, 0, undefined as never), TypeError);
  assert.throws(() => new BufferedReader(blob, 0, {} as never), TypeError);
  for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => new BufferedReader(blob, 0, { bufferSize: bad }), RangeError, `${bad}`);
  }
  assert.throws(() => new BufferedReader(blob, 0, { bufferSize: "8" as never }), TypeError);
  const reader = new BufferedReader(blob, 0, { bufferSize: 8 });
  await assert.rejects(reader.read(-1), RangeError);
  await assert.rejects(reader.read(0.5), RangeError);
  await assert.rejects(reader.read("1" as never), TypeError);
  assert.throws(() => reader.seekTo(-1), RangeError);
  assert.throws(() => reader.seekTo(NaN), RangeError);
  assert.throws(() => reader.seekTo("0" as never), TypeError);
  await assert.rejects(reader.resize(-1), RangeError);
});

test("BufferedReader: BlobInsufficientLength is a StorageError", async () => {
  await using opened = await new MemoryStorage().open("p", "b");
  const reader = new BufferedReader(opened.blob, 0, { bufferSize: 8 });
  const err = await rejectsCode(reader.read(1), "BlobInsufficientLength");
  assert.equal(
    err.message,
    "blob insufficient length: read of 1 bytes at offset 0, blob size 0",
  );
});

test("BufferedReader: a failed refill rejects with the blob's error and consumes nothing", async () => {
  const inner = new MemoryStorage();
  const seeded = await inner.open("p", "b");
  await seeded.blob.writeAt(0, ABC, { sync: true });
  await seeded.blob.close();
  // Every read of the blob fails.
  const storage = new FaultyStorage(inner, { seed: 1, rates: { read: 1 } });
  const { blob, size } = await storage.open("p", "b");
  const reader = new BufferedReader(blob, size, { bufferSize: 4 });
  const err = await rejectsCode(reader.read(6), "Io");
  assert.equal(err.reason, "injected storage fault");
  assert.equal(err.partition, "p");
  assert.equal(err.blob, "62");
  assert.equal(reader.position, 0);
  assert.equal(reader.blobRemaining, 26);
  await blob.close();
});

test("BufferedReader: a refill failing midway leaves the position where the read began", async () => {
  await using opened = await new MemoryStorage().open("p", "b");
  await opened.blob.writeAt(0, ABC);
  let failAt = Infinity;
  let calls = 0;
  const blob = {
    ...counting(opened.blob).blob,
    readAtBuf: (o: number, l: number, t: never) => {
      if (++calls >= failAt) return Promise.reject(new StorageError("ReadFailed"));
      return opened.blob.readAtBuf(o, l, t);
    },
  } as unknown as Blob;
  const reader = new BufferedReader(blob, 26, { bufferSize: 4 });
  assert.equal(text(await reader.read(2)), "AB");
  failAt = 3; // the read below refills twice; the second refill fails
  await rejectsCode(reader.read(8), "ReadFailed");
  assert.equal(reader.position, 2);
  failAt = Infinity;
  assert.equal(text(await reader.read(8)), "CDEFGHIJ");
});

// Under injected read faults, retrying each failed read must return exactly the bytes a
// fault-free run returns: a failed read consumes nothing.
for (const seed of [1, 2, 3]) {
  test(`BufferedReader: retried reads under injected faults match the data (seed ${seed})`, async () => {
    const data = pattern(5000, seed);
    const inner = new MemoryStorage();
    const seeded = await inner.open("p", "b");
    await seeded.blob.writeAt(0, data, { sync: true });
    await seeded.blob.close();
    const storage = new FaultyStorage(inner, { seed, rates: { read: 0.3 } });
    const { blob, size } = await storage.open("p", "b");
    const reader = new BufferedReader(blob, size, { bufferSize: 97 });
    let faults = 0;
    let x = seed * 104729;
    const next = (n: number) => (x = (x * 1103515245 + 12345) % 2147483648) % n;
    for (let step = 0; step < 500; step++) {
      if (next(8) === 0) reader.seekTo(next(size + 1));
      const at = reader.position;
      const n = Math.min(next(250), size - at);
      for (;;) {
        try {
          assertBytes(await reader.read(n), data.subarray(at, at + n), `step ${step}`);
          break;
        } catch (err) {
          assert.ok(err instanceof StorageError && err.code === "Io", `${err}`);
          assert.equal(reader.position, at);
          faults++;
        }
      }
      assert.equal(reader.position, at + n);
    }
    assert.ok(faults > 0);
    await blob.close();
  });
}

test("BufferedReader: its own errors carry the partition and blob given, and say the range", async () => {
  const { blob } = await new MemoryStorage().open("p", "b");
  await blob.writeAt(0, ABC);
  const reader = new BufferedReader(blob, 26, { bufferSize: 8, partition: "p", blob: "62" });
  await reader.read(20);
  const err = await rejectsCode(reader.read(10), "BlobInsufficientLength");
  assert.equal(err.partition, "p");
  assert.equal(err.blob, "62");
  assert.equal(
    err.message,
    "blob insufficient length: p/62 reason: read of 10 bytes at offset 20, blob size 26",
  );
  const seek = thrown(() => reader.seekTo(27)) as StorageError;
  assert.equal(seek.code, "BlobInsufficientLength");
  assert.equal(seek.blob, "62");
  assert.throws(() => new BufferedReader(blob, 26, { bufferSize: 8, blob: 7 as never }), TypeError);
  await blob.close();
});
