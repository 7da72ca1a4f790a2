/**
 * The shared conformance suite: every driver and wrapper must pass it, under
 * every runtime where it runs. It holds the 22 tests of commonware-runtime's
 * `run_storage_tests` (same assertions) and blobrt's own additions.
 *
 * Usage, in a `*_test.ts` file:
 * ```ts ignore
 * import { runConformance } from "./conformance.ts";
 * runConformance("MemoryStorage", () => memoryFixture());
 * ```
 *
 * Each test gets a fresh fixture from the factory and cleans it up itself.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { IoBuf, IoBufMut, IoBufs, IoBufsMut } from "../core/buffers.ts";
import type { StorageError, StorageErrorCode } from "../core/errors.ts";
import { crc32c } from "../core/crc32c.ts";
import { type BlobLayout, createHeader, dataOffset, encodeHeader } from "../core/header.ts";
import type { Blob, Storage } from "../core/types.ts";
import { assertBytes, rejectsCode } from "./assert.ts";
import { enc, pattern, read } from "./util.ts";
import { ioConformance } from "./conformance_io.ts";
import { SLOW_MS } from "./limits.ts";

export { assertBytes, rejectsCode };

/** A fresh storage for one test, with the hooks the suite needs. */
export interface Fixture {
  /** The storage under test, empty. */
  storage: Storage;
  /** Writes a blob's raw file (header included) as the disk would hold it. */
  writeRaw(partition: string, name: Uint8Array, raw: Uint8Array): Promise<void> | void;
  /** Reads a blob's raw file (header included), or `undefined` if it does not exist. */
  readRaw(
    partition: string,
    name: Uint8Array,
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Simulates a crash (only for storages that model one). */
  crash?(): void;
  /** Releases whatever the fixture holds (a temporary directory, say). */
  cleanup?(): Promise<void> | void;
}

/** What the storage under test can do beyond the contract. */
export interface ConformanceOptions {
  /** The fixture has `crash()`: run the crash tests. */
  crash?: boolean;
  /** Why the storage cannot run here: registers one skipped test with this reason. */
  skip?: string | false;
  /** The storage's `layout`: the header `open` writes on new blobs (default `"v0"`). */
  layout?: BlobLayout;
}

/** Lowercase hex of a name's bytes, as errors carry it in `blob`. */
const hex = (name: string | Uint8Array): string =>
  [...(typeof name === "string" ? enc(name) : name)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");

/** Asserts that `err` names the partition and blob (as hex) it happened on (SPEC §6). */
function assertWhere(err: StorageError, partition: string, name: string, context = ""): void {
  assert.equal(err.partition, partition, `${context} ${err.code}: partition`);
  assert.equal(err.blob, hex(name), `${context} ${err.code}: blob`);
}

/** `rejectsCode`, then {@linkcode assertWhere}. */
async function rejectsAt(
  promise: Promise<unknown>,
  code: StorageErrorCode,
  partition: string,
  name: string,
  context = "",
): Promise<StorageError> {
  const err = await rejectsCode(promise, code);
  assertWhere(err, partition, name, context);
  return err;
}

/** Opens, checks size, returns the blob. */
async function reopenSize(
  storage: Storage,
  partition: string,
  name: string | Uint8Array,
): Promise<number> {
  const opened = await storage.open(partition, name);
  await opened.blob.close();
  return opened.size;
}

/** A V1 blob file built by hand: `CWIK`, runtime version, blob version, CRC32C, zeros to 4096, data. */
function v1File(
  version: number,
  data: Uint8Array = new Uint8Array(0),
  runtimeVersion = 1,
): Uint8Array {
  const out = new Uint8Array(4096 + data.length);
  out.set([0x43, 0x57, 0x49, 0x4b, 0, runtimeVersion, version >> 8, version & 0xff]);
  new DataView(out.buffer).setUint32(8, crc32c(out.subarray(0, 8)));
  out.set(data, 4096);
  return out;
}

/** A copy of `raw` with byte `i` set to `value`. */
function withByte(raw: Uint8Array, i: number, value: number): Uint8Array {
  const out = raw.slice();
  out[i] = value;
  return out;
}

/** What an interrupted V1 creation can leave, as commonware main heals it (name, bytes). */
function tornCreations(): [string, Uint8Array][] {
  const region = v1File(5);
  const persistedLength = new Uint8Array(4096);
  persistedLength.set(region.subarray(0, 10));
  const rotted = new Uint8Array([...encodeHeader(0), ...new Uint8Array(100)]);
  rotted[3] = 0;
  return [
    ["8 zero bytes", new Uint8Array(8)],
    ["only sizes flushed", new Uint8Array(4096)],
    ["sub-prelude fragment", new Uint8Array(3)],
    ["prefix of the magic", region.slice(0, 2)],
    ["prefix ending in the version bytes", region.slice(0, 8)],
    ["prefix ending mid-CRC", region.slice(0, 10)],
    ["complete prefix, short file", region.slice(0, 12)],
    ["torn after the prelude, CRC unwritten", region.slice().fill(0, 8, 12)],
    ["prefix with a persisted length", persistedLength],
    ["V0 blob rotted into a canonical prefix", rotted],
    ["runtime version zeroed at creation", new Uint8Array([0x43, 0x57, 0x49, 0x4b, 0, 0, 0, 0])],
  ];
}

/**
 * Registers the conformance suite with `node:test`.
 *
 * @param name Shown before each test name.
 * @param factory Makes a fresh, empty fixture for each test.
 * @param options What else the storage can do.
 */
export function runConformance(
  name: string,
  factory: () => Fixture | Promise<Fixture>,
  options: ConformanceOptions = {},
): void {
  if (options.skip) {
    test(`${name}: conformance`, { skip: options.skip }, () => {});
    return;
  }
  const it = (
    title: string,
    body: (f: Fixture) => Promise<void>,
    skip: string | false = false,
    timeout?: number,
  ): void => {
    // Large-data and racing tests take seconds at load (3-byte FileStorage: ~6 s at load 8).
    test(`${name}: ${title}`, { skip, timeout: timeout ?? SLOW_MS }, async () => {
      const f = await factory();
      try {
        await body(f);
      } finally {
        await f.cleanup?.();
      }
    });
  };
  const noCrash = options.crash ? false : "the storage has no crash model";
  const layout = options.layout ?? "v0";
  /** The header `open` writes on a new or reset blob of this storage. */
  const fresh = (version: number) => createHeader(layout, version);

  ioConformance(it);

  // ---- The 22 tests of commonware-runtime's run_storage_tests ----

  it("open and write", async ({ storage }) => {
    const { blob, size } = await storage.open("partition", "test_blob");
    assert.equal(size, 0);
    await blob.writeAt(0, enc("hello world"));
    assertBytes(await read(blob, 0, 11), enc("hello world"));
    await blob.close();
  });

  it("remove", async ({ storage }) => {
    const { blob } = await storage.open("partition", "test_blob");
    await blob.close();
    await storage.remove("partition", "test_blob");
    assert.deepEqual(await storage.scan("partition"), []);
  });

  it("scan", async ({ storage }) => {
    await (await storage.open("partition", "blob1")).blob.close();
    await (await storage.open("partition", "blob2")).blob.close();
    assert.deepEqual(await storage.scan("partition"), [enc("blob1"), enc("blob2")]);
  });

  it("concurrent access", async ({ storage }) => {
    const { blob } = await storage.open("partition", "test_blob");
    await blob.writeAt(0, enc("concurrent write"));
    const [, read16] = await Promise.all([
      blob.writeAt(0, new IoBuf(enc("concurrent write"))),
      read(blob, 0, 16),
    ]);
    assertBytes(read16, enc("concurrent write"));
    await blob.close();
  });

  it("large data", async ({ storage }) => {
    const { blob } = await storage.open("partition", "large_blob");
    const data = new Uint8Array(10 * 1024 * 1024).fill(42);
    await blob.writeAt(0, data);
    assertBytes(await read(blob, 0, data.length), data, "10 MiB");
    await blob.close();
  });

  it("overwrite data", async ({ storage }) => {
    const { blob } = await storage.open("test_overwrite_data", "test_blob");
    await blob.writeAt(0, enc("initial data"));
    await blob.writeAt(8, enc("overwrite"));
    assertBytes(await read(blob, 0, 17), enc("initial overwrite"));
    await blob.close();
  });

  it("read beyond bound", async ({ storage }) => {
    const { blob } = await storage.open("test_read_beyond_written_data", "test_blob");
    await blob.writeAt(0, enc("hello"));
    const where = ["test_read_beyond_written_data", "test_blob"] as const;
    const err = await rejectsAt(blob.readAt(6, 10), "BlobInsufficientLength", ...where);
    // The message says which range was asked for and how long the blob is.
    assert.equal(
      err.message,
      "blob insufficient length: test_read_beyond_written_data/746573745f626c6f62 " +
        "reason: read of 10 bytes at offset 6, blob size 5",
    );
    await rejectsAt(
      blob.readAtBuf(6, 10, IoBufMut.withCapacity(10)),
      "BlobInsufficientLength",
      ...where,
    );
    await blob.close();
  });

  it("write at large offset", async ({ storage }) => {
    const { blob } = await storage.open("test_write_at_large_offset", "test_blob");
    await blob.writeAt(10_000, enc("offset data"));
    assertBytes(await read(blob, 10_000, 11), enc("offset data"));
    assertBytes(await read(blob, 0, 10_000), new Uint8Array(10_000), "gap");
    await blob.sync();
    await blob.close();
    assert.equal(await reopenSize(storage, "test_write_at_large_offset", "test_blob"), 10_011);
  });

  it("append data", async ({ storage }) => {
    const { blob } = await storage.open("test_append_data", "test_blob");
    await blob.writeAt(0, enc("first"));
    await blob.writeAt(5, enc("second"));
    assertBytes(await read(blob, 0, 11), enc("firstsecond"));
    await blob.close();
  });

  it("vectored write at", async ({ storage }) => {
    const check = async (partition: string, chunks: Uint8Array[]) => {
      const expected = new IoBufs(chunks).coalesce().bytes();
      const { blob } = await storage.open(partition, "test_blob");
      await blob.writeAt(0, chunks.map((c) => new IoBuf(c)));
      assertBytes(await read(blob, 0, expected.length), expected, partition);
      await blob.close();
    };
    await check("test_vectored_write_basic", [enc("hello"), enc(" "), enc("world")]);
    await check("test_vectored_write_empty_chunks", [
      new Uint8Array(0),
      enc("abc"),
      new Uint8Array(0),
      enc("def"),
      new Uint8Array(0),
    ]);
    await check(
      "test_vectored_write_many_chunks",
      Array.from({ length: 128 }, (_, i) => new Uint8Array(i).fill(i)),
    );
  });

  it("vectored write at large offset", async ({ storage }) => {
    const { blob } = await storage.open("test_vectored_write_at_large_offset", "test_blob");
    const chunks = Array.from({ length: 128 }, (_, i) => new IoBuf(new Uint8Array(i).fill(i)));
    const expected = new IoBufs(chunks).coalesce().bytes();
    await blob.writeAt(5_000, chunks);
    assertBytes(await read(blob, 5_000, expected.length), expected);
    assertBytes(await read(blob, 0, 5_000), new Uint8Array(5_000), "prefix gap");
    await blob.close();
  });

  it("sequential read write", async ({ storage }) => {
    const { blob } = await storage.open("partition", "test_blob");
    await blob.writeAt(0, enc("first"));
    await blob.writeAt(10, enc("second"));
    assertBytes(await read(blob, 0, 5), enc("first"));
    assertBytes(await read(blob, 10, 6), enc("second"));
    await blob.close();
  });

  it("sequential chunk read write", async ({ storage }) => {
    const { blob } = await storage.open("test_large_data_in_chunks", "large_blob");
    const chunk = 1024 * 1024;
    const data = new Uint8Array(chunk).fill(7);
    for (let i = 0; i < 10; i++) await blob.writeAt(i * chunk, data);
    for (let i = 0; i < 10; i++) {
      assertBytes(await read(blob, i * chunk, chunk), data, `chunk ${i}`);
    }
    await blob.close();
  });

  it("read empty blob", async ({ storage }) => {
    const { blob } = await storage.open("test_read_empty_blob", "empty_blob");
    await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
    await rejectsCode(blob.readAtBuf(0, 1, IoBufMut.withCapacity(1)), "BlobInsufficientLength");
    await blob.close();
  });

  it("overlapping writes", async ({ storage }) => {
    const { blob } = await storage.open("test_overlapping_writes", "test_blob");
    await blob.writeAt(0, enc("overlap"));
    await blob.writeAt(4, enc("map"));
    assertBytes(await read(blob, 0, 7), enc("overmap"));
    await blob.close();
  });

  it("resize then open", async ({ storage }) => {
    {
      await using opened = await storage.open("test_resize_then_open", "test_blob");
      await opened.blob.writeAt(0, enc("hello world"));
      await opened.blob.resize(5);
      await opened.blob.sync();
    }
    const { blob, size } = await storage.open("test_resize_then_open", "test_blob");
    assert.equal(size, 5);
    assertBytes(await read(blob, 0, 5), enc("hello"));
    await blob.close();
  });

  it("partition name validation", async ({ storage }) => {
    for (const valid of ["partition", "my_partition", "my-partition", "partition123", "A1"]) {
      await (await storage.open(valid, "blob")).blob.close();
      await storage.remove(valid);
      await rejectsCode(storage.scan(valid), "PartitionMissing");
    }
    for (const invalid of ["my/partition", "my.partition", "my partition", "../escape", ""]) {
      const err = await rejectsCode(storage.open(invalid, "blob"), "PartitionNameInvalid");
      assert.equal(err.partition, invalid);
      await rejectsCode(storage.remove(invalid), "PartitionNameInvalid");
      await rejectsCode(storage.remove(invalid, "blob"), "PartitionNameInvalid");
      await rejectsCode(storage.scan(invalid), "PartitionNameInvalid");
    }
  });

  it("blob version mismatch", async ({ storage }) => {
    const first = await storage.open("test_version_mismatch", "blob", {
      versions: { min: 1, max: 1 },
    });
    assert.equal(first.version, 1);
    await first.blob.sync();
    await first.blob.close();
    const second = await storage.open("test_version_mismatch", "blob", {
      versions: { min: 0, max: 2 },
    });
    assert.equal(second.version, 1);
    await second.blob.close();
    const err = await rejectsCode(
      storage.open("test_version_mismatch", "blob", { versions: { min: 2, max: 3 } }),
      "BlobVersionMismatch",
    );
    assert.deepEqual(err.expected, { min: 2, max: 3 });
    assert.equal(err.found, 1);
    assert.equal(err.message, "blob version mismatch: expected one of 2..=3, found 1");
    assertWhere(err, "test_version_mismatch", "blob");
  });

  it("read zero length", async ({ storage }) => {
    const { blob } = await storage.open("test_read_at_zero_len", "blob");
    await blob.writeAt(0, enc("hello"));
    assert.equal((await blob.readAt(0, 0)).length, 0);
    assert.equal((await blob.readAtBuf(0, 0, IoBufMut.withCapacity(16))).length, 0);
    await blob.close();
  });

  it("readAt results: disposing one empties it and never changes a result still held", async ({ storage }) => {
    const { blob } = await storage.open("test_read_dispose", "blob");
    const size = 256 * 1024; // large enough for the filesystem drivers' pool
    const a = pattern(size, 1);
    const b = pattern(size, 2);
    await blob.writeAt(0, a);
    await blob.writeAt(size, b);
    const kept = await blob.readAt(0, size);
    const keptBytes = kept.bytes();
    for (let i = 0; i < 3; i++) {
      const read = await blob.readAt(i % 2 === 0 ? size : 0, size);
      assertBytes(read.bytes(), i % 2 === 0 ? b : a, `read ${i}`);
      read[Symbol.dispose]();
      assert.equal(read.length, 0, "empty after dispose");
      assert.equal(read.chunkCount, 0);
      read[Symbol.dispose](); // twice is harmless
    }
    {
      using scoped = await blob.readAt(size, size);
      assertBytes(scoped.bytes(), b, "with using");
    }
    // Memory given back may serve later reads; a result never disposed is never reused.
    const again = await blob.readAt(size, size);
    assertBytes(again.bytes(), b);
    assertBytes(keptBytes, a, "a result still held keeps its bytes");
    assert.notEqual(again.bytes().buffer, keptBytes.buffer);
    await blob.close();
  });

  it("readAtBuf returns same buffer", async ({ storage }) => {
    const { blob } = await storage.open("test_read_at_contract", "blob");
    await blob.writeAt(0, enc("hello world"));

    const input = IoBufMut.zeroed(11);
    const single = await blob.readAtBuf(0, 11, input);
    assert.ok(single.isSingle());
    assert.equal(single.buffers()[0], input);
    assert.equal(single.chunk().buffer, input.bytes().buffer);
    assertBytes(single.chunk(), enc("hello world"));

    const buf1 = IoBufMut.zeroed(5);
    const buf2 = IoBufMut.zeroed(6);
    const ptr1 = buf1.bytes().buffer;
    const ptr2 = buf2.bytes().buffer;
    const inputs = new IoBufsMut([buf1, buf2]);
    assert.ok(!inputs.isSingle());
    const output = await blob.readAtBuf(0, 11, inputs);
    assert.equal(output, inputs);
    assert.ok(!output.isSingle());
    assert.equal(output.chunk().buffer, ptr1);
    assertBytes(output.chunk(), enc("hello"));
    output.advance(5);
    assert.equal(output.chunk().buffer, ptr2);
    assertBytes(output.chunk(), enc(" world"));
    output.advance(6);
    assert.equal(output.remaining, 0);

    const b1 = IoBufMut.zeroed(2);
    const b2 = IoBufMut.zeroed(2);
    const partial = await blob.readAtBuf(0, 2, new IoBufsMut([b1, b2]));
    assert.ok(!partial.isSingle());
    assert.equal(partial.chunk().buffer, b1.bytes().buffer);
    assertBytes(partial.chunk(), enc("he"));
    assert.equal(b2.length, 0);
    await blob.close();
  });

  it("readAtBuf insufficient capacity", async ({ storage }) => {
    const { blob } = await storage.open("test_read_at_buf_capacity", "blob");
    await blob.writeAt(0, enc("hello world"));
    await assert.rejects(blob.readAtBuf(0, 11, IoBufMut.withCapacity(5)), RangeError);
    await assert.rejects(
      blob.readAtBuf(0, 11, new IoBufsMut([IoBufMut.withCapacity(4), IoBufMut.withCapacity(4)])),
      RangeError,
    );
    await blob.close();
  });

  it("readAtBuf larger capacity", async ({ storage }) => {
    const { blob } = await storage.open("test_read_at_buf_large_cap", "blob");
    await blob.writeAt(0, enc("hello world"));
    const buf = IoBufMut.withCapacity(64);
    assert.equal(buf.length, 0);
    const out = await blob.readAtBuf(0, 11, buf);
    assert.equal(out.length, 11);
    assertBytes(out.coalesce().bytes(), enc("hello world"));
    const out5 = await blob.readAtBuf(0, 5, IoBufMut.withCapacity(64));
    assert.equal(out5.length, 5);
    assertBytes(out5.coalesce().bytes(), enc("hello"));
    await blob.close();
  });

  // ---- blobrt additions ----

  it("read after remove: blob", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("synced"));
    await blob.sync();
    await storage.remove("p", "b");
    assert.deepEqual(await storage.scan("p"), []);
    assertBytes(await read(blob, 0, 6), enc("synced"));
    await blob.writeAt(6, enc("!"));
    assertBytes(await read(blob, 0, 7), enc("synced!"));
    await blob.close();
    assert.deepEqual(await storage.scan("p"), []);
  });

  it("read after remove: partition", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("data"), { sync: true });
    await storage.remove("p");
    await rejectsCode(storage.scan("p"), "PartitionMissing");
    assertBytes(await read(blob, 0, 4), enc("data"));
    await blob.sync();
    await blob.close();
    await rejectsCode(storage.scan("p"), "PartitionMissing");
  });

  it("read after remove: unsynced bytes", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("never synced"));
    await storage.remove("p", "b");
    assertBytes(await read(blob, 0, 12), enc("never synced"));
    await blob.close();
  });

  it("read after remove: recreate is new and empty", async ({ storage }) => {
    const old = await storage.open("p", "b", { versions: { min: 1, max: 1 } });
    await old.blob.writeAt(0, enc("old bytes"), { sync: true });
    await storage.remove("p", "b");
    const fresh = await storage.open("p", "b", { versions: { min: 2, max: 2 } });
    assert.equal(fresh.size, 0);
    assert.equal(fresh.version, 2);
    await rejectsCode(fresh.blob.readAt(0, 1), "BlobInsufficientLength");
    assertBytes(await read(old.blob, 0, 9), enc("old bytes"));
    await old.blob.close();
    await fresh.blob.close();
  });

  it("read after remove: generations stay apart", async ({ storage }) => {
    const a = await storage.open("p", "b");
    await a.blob.writeAt(0, enc("generation A"));
    await storage.remove("p", "b");
    const b = await storage.open("p", "b");
    await b.blob.writeAt(0, enc("B"));
    await b.blob.sync();
    await a.blob.writeAt(12, enc(" more"));
    await a.blob.sync();
    await a.blob.resize(3);
    await a.blob.sync();
    assertBytes(await read(b.blob, 0, 1), enc("B"));
    await rejectsCode(b.blob.readAt(0, 2), "BlobInsufficientLength");
    assertBytes(await read(a.blob, 0, 3), enc("gen"));
    await a.blob.close();
    await b.blob.close();
    const again = await storage.open("p", "b");
    assert.equal(again.size, 1);
    assertBytes(await read(again.blob, 0, 1), enc("B"));
    await again.blob.close();
    assert.deepEqual(await storage.scan("p"), [enc("b")]);
  });

  it("remove errors and empty partitions", async ({ storage }) => {
    assert.equal((await rejectsCode(storage.remove("nope"), "PartitionMissing")).partition, "nope");
    await rejectsAt(storage.remove("nope", "b"), "PartitionMissing", "nope", "b");
    await rejectsCode(storage.scan("nope"), "PartitionMissing");
    await (await storage.open("p", "b")).blob.close();
    const err = await rejectsCode(storage.remove("p", "other"), "BlobMissing");
    assert.equal(err.partition, "p");
    assert.equal(err.blob, "6f74686572");
    await storage.remove("p", "b");
    assert.deepEqual(await storage.scan("p"), []);
    await storage.remove("p");
    await rejectsCode(storage.scan("p"), "PartitionMissing");
    await assert.rejects(storage.open("p", ""), RangeError);
    await assert.rejects(storage.open("p", new Uint8Array(0)), RangeError);
    await assert.rejects(storage.open("p", 7 as unknown as string), TypeError);
    await assert.rejects(storage.remove("p", ""), RangeError);
  });

  it("scan is sorted bytewise over any bytes", async ({ storage }) => {
    const names = [
      new Uint8Array([0xff]),
      new Uint8Array([0x00]),
      new Uint8Array([0x01, 0x00]),
      new Uint8Array([0x01]),
      new Uint8Array([0x00, 0xff, 0x2f]),
      enc("../x"),
    ];
    for (const n of names) await (await storage.open("p", n)).blob.close();
    const expected = [
      new Uint8Array([0x00]),
      new Uint8Array([0x00, 0xff, 0x2f]),
      new Uint8Array([0x01]),
      new Uint8Array([0x01, 0x00]),
      enc("../x"),
      new Uint8Array([0xff]),
    ];
    assert.deepEqual(await storage.scan("p"), expected);
    assert.deepEqual(await storage.scan("p"), expected);
  });

  it("names are bytes: a string is its UTF-8", async ({ storage }) => {
    const { blob } = await storage.open("p", "é");
    await blob.writeAt(0, enc("x"), { sync: true });
    await blob.close();
    const same = await storage.open("p", new Uint8Array([0xc3, 0xa9]));
    assert.equal(same.size, 1);
    await same.blob.close();
    assert.deepEqual(await storage.scan("p"), [new Uint8Array([0xc3, 0xa9])]);
  });

  it("sync writes", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("durable"), { sync: true });
    await blob.writeAt(7, [enc(" and "), enc("chunked")], { sync: true });
    await blob.writeAt(100, new Uint8Array(0), { sync: true });
    await blob.writeAt(200, [], { sync: true });
    assertBytes(await read(blob, 0, 19), enc("durable and chunked"));
    await rejectsCode(blob.readAt(19, 1), "BlobInsufficientLength");
    await blob.writeAt(3, enc("X"), { sync: false });
    assertBytes(await read(blob, 0, 4), enc("durX"));
    await blob.sync();
    await blob.close();
    assert.equal(await reopenSize(storage, "p", "b"), 19);
  });

  it("empty writes do nothing", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(50, new Uint8Array(0));
    await blob.writeAt(60, new IoBufs());
    await blob.writeAt(70, new IoBuf());
    await blob.sync();
    await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
    await blob.close();
    assert.equal(await reopenSize(storage, "p", "b"), 0);
  });

  it("version negotiation", async ({ storage }) => {
    const created = await storage.open("p", "v", { versions: { min: 1, max: 3 } });
    assert.equal(created.version, 3);
    assert.equal(created.size, 0);
    await created.blob.writeAt(0, enc("abc"), { sync: true });
    await created.blob.close();
    for (const versions of [{ min: 3, max: 3 }, { min: 0, max: 65535 }, { min: 2, max: 4 }]) {
      const o = await storage.open("p", "v", { versions });
      assert.equal(o.version, 3);
      assert.equal(o.size, 3);
      await o.blob.close();
    }
    const low = await rejectsAt(storage.open("p", "v"), "BlobVersionMismatch", "p", "v");
    assert.deepEqual(low.expected, { min: 0, max: 0 });
    assert.equal(low.found, 3);
    const high = await rejectsAt(
      storage.open("p", "v", { versions: { min: 4, max: 9 } }),
      "BlobVersionMismatch",
      "p",
      "v",
    );
    assert.equal(high.message, "blob version mismatch: expected one of 4..=9, found 3");
    const d = await storage.open("p", "default");
    assert.equal(d.version, 0);
    await d.blob.close();
    for (
      const bad of [{ min: 2, max: 1 }, { min: -1, max: 0 }, { min: 0, max: 65536 }, {
        min: 0.5,
        max: 1,
      }]
    ) {
      await assert.rejects(storage.open("p", "v", { versions: bad }), RangeError);
    }
    await assert.rejects(
      storage.open("p", "v", {
        versions: { min: "0", max: 1 } as unknown as { min: number; max: number },
      }),
      TypeError,
    );
    assert.deepEqual(await storage.scan("p"), [enc("default"), enc("v")]);
  });

  it("past-end errors", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("0123456789"));
    assertBytes(await read(blob, 9, 1), enc("9"));
    assert.equal((await blob.readAt(10, 0)).length, 0);
    assert.equal((await blob.readAt(1000, 0)).length, 0);
    await rejectsAt(blob.readAt(10, 1), "BlobInsufficientLength", "p", "b");
    await rejectsAt(blob.readAt(5, 6), "BlobInsufficientLength", "p", "b");
    await rejectsAt(blob.readAt(1_000_000, 1), "BlobInsufficientLength", "p", "b");
    // Refused before anything is allocated: a terabyte read is not an allocation failure.
    await rejectsAt(blob.readAt(0, 2 ** 40), "BlobInsufficientLength", "p", "b");
    await rejectsAt(blob.readAtBuf(8, 3, new Uint8Array(3)), "BlobInsufficientLength", "p", "b");
    await blob.resize(4);
    await rejectsAt(blob.readAt(0, 5), "BlobInsufficientLength", "p", "b");
    assertBytes(await read(blob, 0, 4), enc("0123"));
    await blob.close();
  });

  it("resize grows with zeros and shrinks", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("hello world"));
    await blob.resize(5);
    await blob.resize(11);
    assertBytes(await read(blob, 0, 11), new Uint8Array([...enc("hello"), 0, 0, 0, 0, 0, 0]));
    await blob.resize(0);
    await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
    await blob.resize(3);
    assertBytes(await read(blob, 0, 3), new Uint8Array(3));
    await blob.writeAt(10, enc("z"));
    assertBytes(await read(blob, 0, 11), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 122]));
    await blob.sync();
    await blob.close();
    assert.equal(await reopenSize(storage, "p", "b"), 11);
  });

  it("bad arguments reject and change nothing", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("keep"), { sync: true });
    const rangeBad = [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53];
    const typeBad = ["1", null, undefined, 1n, {}] as unknown as number[];
    const data = enc("XX");
    for (const bad of rangeBad) {
      await assert.rejects(blob.readAt(bad, 1), RangeError, `readAt offset ${bad}`);
      await assert.rejects(blob.readAt(0, bad), RangeError, `readAt length ${bad}`);
      await assert.rejects(blob.readAtBuf(bad, 1, new Uint8Array(1)), RangeError);
      await assert.rejects(blob.readAtBuf(0, bad, new Uint8Array(1)), RangeError);
      await assert.rejects(blob.writeAt(bad, data), RangeError, `writeAt offset ${bad}`);
      await assert.rejects(blob.resize(bad), RangeError, `resize ${bad}`);
    }
    for (const bad of typeBad) {
      await assert.rejects(blob.readAt(bad, 1), TypeError);
      await assert.rejects(blob.readAt(0, bad), TypeError);
      await assert.rejects(blob.readAtBuf(bad, 1, new Uint8Array(1)), TypeError);
      await assert.rejects(blob.readAtBuf(0, bad, new Uint8Array(1)), TypeError);
      await assert.rejects(blob.writeAt(bad, data), TypeError);
      await assert.rejects(blob.resize(bad), TypeError);
    }
    for (const bad of ["text", 5, null, [1, 2], [enc("a"), "b"]]) {
      await assert.rejects(blob.writeAt(0, bad as unknown as Uint8Array), TypeError);
    }
    for (const bad of ["text", 5, null, [new Uint8Array(1), 3], new IoBuf(enc("a"))]) {
      await assert.rejects(blob.readAtBuf(0, 1, bad as unknown as Uint8Array), TypeError);
    }
    await assert.rejects(blob.writeAt(0, data, { sync: "yes" as unknown as boolean }), TypeError);
    assertBytes(await read(blob, 0, 4), enc("keep"));
    await rejectsCode(blob.readAt(4, 1), "BlobInsufficientLength");
    await blob.close();
    assert.equal(await reopenSize(storage, "p", "b"), 4);
  });

  it("offset overflow", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    // The physical end (logical end + the header: 8 bytes, or 4096 for V1) must be a safe integer.
    const max = Number.MAX_SAFE_INTEGER - dataOffset(layout) + 8;
    const where = ["p", "b"] as const;
    await rejectsAt(blob.readAt(max - 8, 1), "OffsetOverflow", ...where);
    await rejectsAt(blob.readAt(max, 0), "OffsetOverflow", ...where);
    await rejectsAt(blob.readAtBuf(max - 8, 1, new Uint8Array(1)), "OffsetOverflow", ...where);
    await rejectsAt(blob.readAtBuf(max - 8, 2, new Uint8Array(1)), "OffsetOverflow", ...where);
    await rejectsAt(blob.writeAt(max - 8, enc("x")), "OffsetOverflow", ...where);
    await rejectsAt(blob.writeAt(max - 9, [enc("x"), enc("y")]), "OffsetOverflow", ...where);
    await rejectsAt(blob.resize(max - 7), "OffsetOverflow", ...where);
    await rejectsCode(blob.readAt(max - 9, 1), "BlobInsufficientLength");
    await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
    await blob.close();
    assert.equal(await reopenSize(storage, "p", "b"), 0);
  });

  it("close, Closed and await using", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("abc"), { sync: true });
    await blob.close();
    await blob.close();
    const where = ["p", "b"] as const;
    await rejectsAt(blob.readAt(0, 1), "Closed", ...where);
    await rejectsAt(blob.readAt(0, 0), "Closed", ...where);
    await rejectsAt(blob.readAtBuf(0, 1, new Uint8Array(1)), "Closed", ...where);
    await rejectsAt(blob.readAtBuf(0, 1, [IoBufMut.withCapacity(1)]), "Closed", ...where);
    await rejectsAt(blob.writeAt(0, enc("x")), "Closed", ...where);
    await rejectsAt(blob.writeAt(0, [enc("x"), enc("y")], { sync: true }), "Closed", ...where);
    await rejectsAt(blob.writeAt(0, new Uint8Array(0)), "Closed", ...where);
    await rejectsAt(blob.resize(1), "Closed", ...where);
    await rejectsAt(blob.sync(), "Closed", ...where);
    // Argument errors come before Closed; Closed before OffsetOverflow and capacity.
    await assert.rejects(blob.readAt(-1, 1), RangeError);
    await rejectsAt(blob.readAt(Number.MAX_SAFE_INTEGER, 1), "Closed", ...where);
    await rejectsAt(blob.readAtBuf(0, 2, new Uint8Array(1)), "Closed", ...where);

    let kept: Blob;
    {
      await using opened = await storage.open("p", "b");
      kept = opened.blob;
      assertBytes(await read(kept, 0, 3), enc("abc"));
    }
    await rejectsCode(kept.readAt(0, 1), "Closed");
    {
      const { blob: inner } = await storage.open("p", "b");
      await using handle = inner;
      kept = handle;
    }
    await rejectsCode(kept.sync(), "Closed");
    const other = await storage.open("p", "b");
    assertBytes(await read(other.blob, 0, 3), enc("abc"));
    await other.blob.close();
  });

  it("storage close: operations issued before complete, handles and later calls reject with Closed", async (f) => {
    const { storage } = f;
    const a = await storage.open("p", "a");
    const b = await storage.open("p", "b");
    await a.blob.writeAt(0, enc("abc"), { sync: true });
    await b.blob.close();
    const scanned = storage.scan("p");
    const closing = storage.close();
    assert.deepEqual(await scanned, [enc("a"), enc("b")], "issued before close: completes");
    await closing;
    await rejectsAt(a.blob.readAt(0, 1), "Closed", "p", "a");
    await rejectsAt(a.blob.writeAt(0, enc("x")), "Closed", "p", "a");
    await rejectsAt(a.blob.resize(0), "Closed", "p", "a");
    await rejectsAt(a.blob.sync(), "Closed", "p", "a");
    await a.blob.close();
    await rejectsAt(storage.open("p", "c"), "Closed", "p", "c");
    await rejectsAt(storage.remove("p", "a"), "Closed", "p", "a");
    assert.equal((await rejectsCode(storage.remove("p"), "Closed")).partition, "p");
    assert.equal((await rejectsCode(storage.scan("p"), "Closed")).partition, "p");
    // Argument errors still come first.
    await assert.rejects(storage.open("p", ""), RangeError);
    await rejectsCode(storage.scan("no/slash"), "PartitionNameInvalid");
    await storage.close();
    await storage[Symbol.asyncDispose]();
    // What was synced is still there, and nothing was created after close.
    const raw = await f.readRaw("p", enc("a"));
    assertBytes(raw!.subarray(raw!.length - 3), enc("abc"));
    assert.equal(await f.readRaw("p", enc("c")), undefined);
  });

  it("storage close: Symbol.asyncDispose closes the handles", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    {
      await using _closing = storage;
    }
    await rejectsAt(blob.sync(), "Closed", "p", "b");
    await rejectsAt(storage.open("p", "b"), "Closed", "p", "b");
  });

  it("vectored writes of 0, 1 and 1500 chunks", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, []);
    await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
    await blob.writeAt(0, [enc("one")]);
    assertBytes(await read(blob, 0, 3), enc("one"));
    const chunks = Array.from(
      { length: 1500 },
      (_, i) => pattern(i % 7 === 0 ? 0 : (i % 13) + 1, i),
    );
    const expected = new IoBufs(chunks).bytes();
    await blob.writeAt(3, chunks);
    assertBytes(await read(blob, 3, expected.length), expected, "1500 chunks");
    await blob.writeAt(3 + expected.length, new IoBufs(chunks), { sync: true });
    assertBytes(await read(blob, 3 + expected.length, expected.length), expected, "IoBufs");
    const mixed = [new IoBuf(enc("a")), enc("b"), IoBufMut.zeroed(2)];
    await blob.writeAt(0, mixed as unknown as Uint8Array[]);
    assertBytes(await read(blob, 0, 4), new Uint8Array([97, 98, 0, 0]));
    await blob.sync();
    await blob.close();
    assert.equal(await reopenSize(storage, "p", "b"), 3 + 2 * expected.length);
  });

  it("readAt returns a plain Uint8Array that owns its memory", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("0123456789"));
    for (const [offset, length] of [[2, 5], [0, 10], [9, 1]]) {
      const bytes = (await blob.readAt(offset, length)).bytes();
      assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
      // No shared pool: nothing but these bytes is reachable through .buffer.
      assert.equal(bytes.byteOffset, 0);
      assert.equal(bytes.buffer.byteLength, length);
      assertBytes(bytes, enc("0123456789".slice(offset, offset + length)));
    }
    const large = pattern(200_000, 3);
    await blob.writeAt(10, large);
    const bytes = (await blob.readAt(11, 150_000)).bytes();
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, 150_000);
    assertBytes(bytes, large.subarray(1, 150_001));
    await blob.close();
  });

  it("readAtBuf into plain arrays and IoBufMut arrays", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("abcdefgh"));
    const u8 = new Uint8Array(4);
    const out = await blob.readAtBuf(2, 4, u8);
    assert.ok(out.isSingle());
    assert.equal(out.chunk().buffer, u8.buffer);
    assertBytes(u8, enc("cdef"));
    const a = new Uint8Array(3);
    const b = new Uint8Array(3);
    const c = IoBufMut.withCapacity(5);
    const res = await blob.readAtBuf(0, 8, [a, b, c]);
    assertBytes(a, enc("abc"));
    assertBytes(b, enc("def"));
    assert.equal(res.buffers()[2], c);
    assertBytes(c.bytes(), enc("gh"));
    assertBytes(res.bytes(), enc("abcdefgh"));
    await blob.close();
  });

  it("concurrent reads and writes through one handle", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    const size = 4096;
    const n = 128;
    await Promise.all(
      Array.from({ length: n }, (_, i) => blob.writeAt(i * size, pattern(size, i))),
    );
    const reads = await Promise.all(
      Array.from({ length: n }, (_, i) => read(blob, i * size, size)),
    );
    reads.forEach((r, i) => assertBytes(r, pattern(size, i), `record ${i}`));
    // Reads racing writes of the same range see the old or the new record, never a mix.
    const results = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          i % 2 === 0
            ? blob.writeAt((i >> 1) * size, pattern(size, i + 1000))
            : read(blob, (i >> 1) * size, size),
      ),
    );
    results.forEach((r, i) => {
      if (i % 2 === 0) return;
      const k = i >> 1;
      const old = pattern(size, k);
      const neu = pattern(size, i - 1 + 1000);
      const bytes = r as Uint8Array;
      const isOld = bytes.every((b, j) => b === old[j]);
      const isNew = bytes.every((b, j) => b === neu[j]);
      assert.ok(isOld || isNew, `record ${k} is a mix`);
    });
    await blob.close();
  });

  it("open, remove and scan run in call order", async ({ storage }) => {
    const order: string[] = [];
    const track = <T>(label: string, p: Promise<T>): Promise<T> =>
      p.finally(() => order.push(label));
    const [openA, remove, scan1, openB, scan2] = await Promise.allSettled([
      track("open a", storage.open("p", "a")),
      track("remove p", storage.remove("p")),
      track("scan 1", storage.scan("p")),
      track("open b", storage.open("p", "b")),
      track("scan 2", storage.scan("p")),
    ]);
    assert.deepEqual(order, ["open a", "remove p", "scan 1", "open b", "scan 2"]);
    assert.ok(openA.status === "fulfilled", "open a");
    assert.ok(remove.status === "fulfilled", "remove p");
    assert.ok(scan1.status === "rejected", "scan 1 must reject");
    await rejectsCode(Promise.reject(scan1.reason), "PartitionMissing");
    assert.ok(openB.status === "fulfilled", "open b");
    assert.ok(scan2.status === "fulfilled", "scan 2");
    assert.deepEqual(scan2.value, [enc("b")]);
    await openA.value.blob.close();
    await openB.value.blob.close();
  });

  it("name limits: 127-byte blob names, 255-character partitions", async ({ storage }) => {
    const longest = "n".repeat(127);
    const bytes127 = new Uint8Array(127).fill(0xfe);
    const partition255 = "p".repeat(255);
    for (
      const [partition, name] of [["p", longest], ["p", bytes127], [partition255, "b"]] as const
    ) {
      const { blob } = await storage.open(partition, name);
      await blob.writeAt(0, enc("x"), { sync: true });
      await blob.close();
      assert.equal(await reopenSize(storage, partition, name), 1);
    }
    assert.deepEqual(await storage.scan("p"), [enc(longest), bytes127]);
    assert.deepEqual(await storage.scan(partition255), [enc("b")]);
    // Refused before any I/O, with the same errors on every storage.
    for (const name of ["n".repeat(128), "\u00e9".repeat(64), new Uint8Array(128)]) {
      await assert.rejects(storage.open("p", name), RangeError);
      await assert.rejects(storage.remove("p", name), RangeError);
    }
    for (const name of ["\ud800", "a\udc00", "\udc00\ud800"]) {
      await assert.rejects(storage.open("p", name), TypeError);
      await assert.rejects(storage.remove("p", name), TypeError);
    }
    const tooLong = "p".repeat(256);
    await rejectsCode(storage.open(tooLong, "b"), "PartitionNameInvalid");
    await rejectsCode(storage.remove(tooLong), "PartitionNameInvalid");
    await rejectsCode(storage.remove(tooLong, "b"), "PartitionNameInvalid");
    await rejectsCode(storage.scan(tooLong), "PartitionNameInvalid");
    assert.deepEqual(await storage.scan("p"), [enc(longest), bytes127]);
    await storage.remove("p", longest);
    await storage.remove("p", bytes127);
    await storage.remove(partition255);
  });

  it("memory it hands over is plain ArrayBuffer memory", async ({ storage }) => {
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("abc"));
    // Type level: no cast needed for what WebCrypto and File take.
    const bytes: Uint8Array<ArrayBuffer> = (await blob.readAt(0, 3)).bytes();
    const names: Uint8Array<ArrayBuffer>[] = await storage.scan("p");
    for (const b of [bytes, ...names]) {
      assert.equal(Object.getPrototypeOf(b.buffer), ArrayBuffer.prototype);
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    assert.equal(hex(digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    await blob.close();
  });

  it("header: short files reset, handwritten files open", async (f) => {
    const name = new Uint8Array([0x00, 0xff]);
    await f.writeRaw("p", name, new Uint8Array([0x43, 0x57, 0x49]));
    const reset = await f.storage.open("p", name, { versions: { min: 4, max: 5 } });
    assert.equal(reset.size, 0);
    assert.equal(reset.version, 5);
    await reset.blob.close();
    assertBytes((await f.readRaw("p", name))!, fresh(5), "reset header");

    await f.writeRaw("p", enc("empty"), new Uint8Array(0));
    const empty = await f.storage.open("p", "empty");
    assert.equal(empty.size, 0);
    await empty.blob.close();

    const raw = new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0x01, 0x02, ...enc("payload")]);
    await f.writeRaw("p", enc("hand"), raw);
    const hand = await f.storage.open("p", "hand", { versions: { min: 0x0102, max: 0x0200 } });
    assert.equal(hand.size, 7);
    assert.equal(hand.version, 0x0102);
    assertBytes(await read(hand.blob, 0, 7), enc("payload"));
    await hand.blob.close();
    assertBytes((await f.readRaw("p", enc("hand")))!, raw, "untouched");
  });

  it("header: corrupt and mismatched files are refused and kept", async (f) => {
    const cases: [string, Uint8Array, StorageErrorCode, string][] = [
      [
        "magic",
        enc("XXXX\0\0\0\0abc"),
        "BlobCorrupt",
        "invalid magic: found [88, 88, 88, 88]",
      ],
      [
        "runtime",
        new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 99, 0, 0]),
        "BlobCorrupt",
        "unsupported runtime version: expected 0, found 99",
      ],
      [
        "version",
        new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0, 7, 1]),
        "BlobVersionMismatch",
        "",
      ],
    ];
    for (const [label, raw, code, reason] of cases) {
      await f.writeRaw("p", enc(label), raw);
      const err = await rejectsAt(f.storage.open("p", label), code, "p", label);
      if (code === "BlobCorrupt") {
        assert.equal(err.reason, reason);
      } else {
        assert.equal(err.found, 7);
      }
      assertBytes((await f.readRaw("p", enc(label)))!, raw, `${label} kept`);
    }
  });

  // ---- V1 headers (commonware main) and torn-creation healing ----

  it("header: a new blob is exactly the storage layout's header", async (f) => {
    const { blob, size, version } = await f.storage.open("p", "new", {
      versions: { min: 1, max: 0x0203 },
    });
    assert.equal(size, 0);
    assert.equal(version, 0x0203);
    await blob.close();
    const raw = (await f.readRaw("p", enc("new")))!;
    assertBytes(raw, fresh(0x0203), `${layout} header`);
    assert.equal(raw.length, layout === "v1" ? 4096 : 8);
  });

  it("header v1: handwritten V1 blobs open in place, data at byte 4096", async (f) => {
    const payload = pattern(5000, 1);
    const raw = v1File(3, payload);
    await f.writeRaw("p", enc("v1"), raw);
    const first = await f.storage.open("p", "v1", { versions: { min: 1, max: 3 } });
    assert.equal(first.size, 5000);
    assert.equal(first.version, 3);
    assertBytes(await read(first.blob, 0, 5000), payload);
    assertBytes(await read(first.blob, 4999, 1), payload.subarray(4999));
    await rejectsAt(first.blob.readAt(5000, 1), "BlobInsufficientLength", "p", "v1");
    await first.blob.close();
    assertBytes((await f.readRaw("p", enc("v1")))!, raw, "open changes nothing");

    const { blob } = await f.storage.open("p", "v1", { versions: { min: 3, max: 3 } });
    await blob.writeAt(0, enc("AB"));
    await blob.writeAt(5000, [enc("!"), enc("?")]);
    await blob.sync();
    const written = new Uint8Array([...enc("AB"), ...payload.subarray(2), ...enc("!?")]);
    assertBytes((await f.readRaw("p", enc("v1")))!, v1File(3, written), "written at 4096 + offset");
    await blob.resize(10);
    await blob.sync();
    assertBytes((await f.readRaw("p", enc("v1")))!, v1File(3, written.subarray(0, 10)), "resize");
    await blob.resize(0);
    await blob.sync();
    assertBytes((await f.readRaw("p", enc("v1")))!, v1File(3), "resize(0) keeps the header");
    await blob.writeAt(2, enc("z"), { sync: true });
    await blob.close();
    const again = await f.storage.open("p", "v1", { versions: { min: 3, max: 3 } });
    assert.equal(again.size, 3);
    assertBytes(await read(again.blob, 0, 3), new Uint8Array([0, 0, 0x7a]));
    await again.blob.close();

    // One byte past the region is a V1 blob of one byte, not a creation.
    await f.writeRaw("p", enc("one"), v1File(0, enc("x")));
    const one = await f.storage.open("p", "one");
    assert.equal(one.size, 1);
    assertBytes(await read(one.blob, 0, 1), enc("x"));
    await one.blob.close();

    // A V0 blob stays V0, whatever the storage creates.
    const v0 = new Uint8Array([...encodeHeader(0), ...enc("old")]);
    await f.writeRaw("p", enc("v0"), v0);
    const old = await f.storage.open("p", "v0");
    assert.equal(old.size, 3);
    await old.blob.writeAt(3, enc("er"), { sync: true });
    await old.blob.close();
    assertBytes((await f.readRaw("p", enc("v0")))!, new Uint8Array([...v0, ...enc("er")]), "V0");
  });

  it("header v1: torn creations are reset to a fresh header", async (f) => {
    const torn = tornCreations();
    for (const [label, raw] of torn) {
      await f.writeRaw("p", enc(label), raw);
      const opened = await f.storage.open("p", label, { versions: { min: 2, max: 4 } });
      assert.equal(opened.size, 0, label);
      assert.equal(opened.version, 4, label);
      await rejectsCode(opened.blob.readAt(0, 1), "BlobInsufficientLength");
      await opened.blob.writeAt(0, enc("data"));
      await opened.blob.sync();
      await opened.blob.close();
      const expected = new Uint8Array([...fresh(4), ...enc("data")]);
      assertBytes((await f.readRaw("p", enc(label)))!, expected, `${label}: healed`);
      const again = await f.storage.open("p", label, { versions: { min: 4, max: 4 } });
      assert.equal(again.size, 4, label);
      assertBytes(await read(again.blob, 0, 4), enc("data"), label);
      await again.blob.close();
    }
    assert.deepEqual((await f.storage.scan("p")).length, torn.length);
  });

  it("header v1: corrupt V1 files are refused with commonware's reasons and kept", async (f) => {
    const cases: [string, Uint8Array, string][] = [
      ["foreign magic", withByte(v1File(5), 0, 0x58), "invalid magic: found [88, 87, 73, 75]"],
      ["lost magic byte", withByte(v1File(5), 3, 0), "invalid magic: found [67, 87, 73, 0]"],
      [
        "runtime version 2",
        v1File(5, new Uint8Array(0), 2),
        "unsupported runtime version: expected 1, found 2",
      ],
      [
        "lost runtime version byte",
        withByte(v1File(5), 5, 0),
        "unsupported runtime version: expected 1, found 0",
      ],
      ["checksum", withByte(v1File(5), 9, v1File(5)[9]! ^ 0x10), "invalid header checksum"],
      ["padding", withByte(v1File(5, enc("data")), 100, 0xff), "invalid header padding"],
      [
        "truncated before the checksum ends",
        withByte(v1File(5).subarray(0, 10), 9, v1File(5)[9]! ^ 0x10),
        "truncated header: required length 12, raw length 10",
      ],
      [
        "truncated region with junk",
        withByte(v1File(5).subarray(0, 100), 50, 1),
        "truncated header: required length 4096, raw length 100",
      ],
      ["4097 zeros", new Uint8Array(4097), "invalid magic: found [0, 0, 0, 0]"],
      [
        "rotted V0 magic with a version",
        withByte(new Uint8Array([...encodeHeader(5), ...new Uint8Array(100)]), 3, 0),
        "invalid magic: found [67, 87, 73, 0]",
      ],
      [
        "zero payload, checksum lost",
        v1File(5, new Uint8Array(100)).fill(0, 8, 12),
        "invalid header checksum",
      ],
    ];
    for (const [label, raw, reason] of cases) {
      await f.writeRaw("p", enc(label), raw);
      const err = await rejectsAt(f.storage.open("p", label), "BlobCorrupt", "p", label, label);
      assert.equal(err.reason, reason, label);
      assert.equal(err.message, `blob corrupt: p/${hex(label)} reason: ${reason}`);
      assertBytes((await f.readRaw("p", enc(label)))!, raw, `${label}: kept`);
    }
  });

  it("header v1: a version mismatch after a valid checksum is refused and kept", async (f) => {
    for (const [label, raw] of [["bare", v1File(7)], ["data", v1File(7, enc("data"))]] as const) {
      await f.writeRaw("p", enc(label), raw);
      const err = await rejectsAt(
        f.storage.open("p", label, { versions: { min: 0, max: 3 } }),
        "BlobVersionMismatch",
        "p",
        label,
      );
      assert.deepEqual(err.expected, { min: 0, max: 3 });
      assert.equal(err.found, 7);
      assert.equal(err.message, "blob version mismatch: expected one of 0..=3, found 7");
      assertBytes((await f.readRaw("p", enc(label)))!, raw, `${label}: kept`);
      const ok = await f.storage.open("p", label, { versions: { min: 7, max: 8 } });
      assert.equal(ok.version, 7);
      await ok.blob.close();
    }
  });

  it("crash keeps synced bytes and closes handles", async (f) => {
    const { blob } = await f.storage.open("p", "b");
    await blob.writeAt(0, enc("synced"));
    await blob.sync();
    await blob.writeAt(6, enc("-sync-write"), { sync: true });
    f.crash!();
    await rejectsAt(blob.readAt(0, 1), "Closed", "p", "b");
    await rejectsAt(blob.sync(), "Closed", "p", "b");
    const again = await f.storage.open("p", "b");
    assert.ok(again.size >= 17);
    assertBytes(await read(again.blob, 0, 17), enc("synced-sync-write"));
    await again.blob.close();
  }, noCrash);
}
