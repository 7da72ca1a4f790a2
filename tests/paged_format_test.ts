/**
 * The paged format byte for byte: files the writer produces compared with
 * files built by hand from the format (commonware-runtime `utils/buffer/paged`,
 * reference/commonware_delta.md §4.4), and hand-built files (as commonware
 * writes them: torn tails, grown partial pages, fallback slots) opened with
 * the right logical size and bytes.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage } from "../drivers/memory.ts";
import { crc32c } from "../core/crc32c.ts";
import { PageCache } from "../buffer/page_cache.ts";
import { PagedWriter } from "../buffer/paged_writer.ts";
import { putNewRecord, putRecord, readRecord, validatePage } from "../buffer/_page_format.ts";
import { setWindowForTesting } from "../buffer/_recover.ts";
import { assertBytes, rejectsCode } from "./assert.ts";

const P = 103;
const PHYS = P + 12;

/** `n` bytes counting from `from`. */
function seq(from: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}

/** One physical page built by hand: `data`, zeros to `pageSize`, the record. */
function page(
  data: Uint8Array,
  len1: number,
  crc1: number,
  len2: number,
  crc2: number,
  pageSize = P,
): Uint8Array {
  const out = new Uint8Array(pageSize + 12);
  out.set(data);
  const v = new DataView(out.buffer);
  v.setUint16(pageSize, len1);
  v.setUint32(pageSize + 2, crc1);
  v.setUint16(pageSize + 6, len2);
  v.setUint32(pageSize + 8, crc2);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The blob's durable bytes after its header (8 bytes for V0, 4096 for V1). */
function durable(storage: MemoryStorage, name: string, header = 8): Uint8Array {
  const raw = storage.readRaw("p", name);
  assert.ok(raw !== undefined);
  return raw.subarray(header);
}

/** Replaces the blob's data (keeping its header) with `data`. */
function putDurable(storage: MemoryStorage, name: string, data: Uint8Array, header = 8): void {
  const raw = storage.readRaw("p", name)!;
  storage.writeRaw("p", name, concat(raw.subarray(0, header), data));
}

async function writer(storage: MemoryStorage, name: string, cache?: PageCache) {
  const { blob, size } = await storage.open("p", name);
  const w = await PagedWriter.open(blob, size, {
    cache: cache ?? new PageCache({ pageSize: P, capacity: 64 }),
    bufferSize: 2 * P,
  });
  return { blob, size, writer: w };
}

test("record codec: big-endian slots, authority, fallback", () => {
  const rec = new Uint8Array(12);
  putRecord(rec, 0, 0x0102, 0x03040506, 0x0708, 0x090a0b0c);
  assert.deepEqual([...rec], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(readRecord(rec, 0), {
    len1: 0x0102,
    crc1: 0x03040506,
    len2: 0x0708,
    crc2: 0x090a0b0c,
  });

  const data = new TextEncoder().encode("hello world");
  const good = crc32c(data);
  // Valid slot 0.
  assert.deepEqual(validatePage(page(data, 11, good, 0, 0, 64), 0, 64), {
    slot: 0,
    len: 11,
    crc: good,
  });
  // Wrong CRC, corrupted data.
  assert.equal(validatePage(page(data, 11, 0xbadbadba, 0, 0, 64), 0, 64), undefined);
  const bad = page(data, 11, good, 0, 0, 64);
  bad[0] = 0xff;
  assert.equal(validatePage(bad, 0, 64), undefined);
  // The larger len wins; the other slot is the fallback; len 0 never counts.
  const longer = new TextEncoder().encode("hello world, this is longer");
  const c = crc32c(longer);
  assert.equal(validatePage(page(longer, 5, 0xdeadbeef, longer.length, c, 64), 0, 64)?.len, 27);
  assert.deepEqual(validatePage(page(data, 21, 0x0bad1dea, 11, good, 64), 0, 64), {
    slot: 1,
    len: 11,
    crc: good,
  });
  assert.equal(validatePage(page(data, 11, 0x0bad1dea, 0, 0, 64), 0, 64), undefined);
  // A zero page and a len past the page are invalid; ties go to slot 0.
  assert.equal(validatePage(new Uint8Array(76), 0, 64), undefined);
  assert.equal(validatePage(page(data, 65, good, 0, 0, 64), 0, 64), undefined);
  assert.equal(validatePage(page(data, 11, good, 11, good, 64), 0, 64)?.slot, 0);
  // A new record without an old checksum uses slot 0; with one, the other slot.
  const r = new Uint8Array(12);
  assert.deepEqual(putNewRecord(r, 0, 5, 7, undefined), { slot: 0, len: 5, crc: 7 });
  assert.deepEqual(readRecord(r, 0), { len1: 5, crc1: 7, len2: 0, crc2: 0 });
  assert.deepEqual(putNewRecord(r, 0, 9, 8, { slot: 0, len: 5, crc: 7 }), {
    slot: 1,
    len: 9,
    crc: 8,
  });
  assert.deepEqual(readRecord(r, 0), { len1: 5, crc1: 7, len2: 9, crc2: 8 });
  putNewRecord(r, 0, 12, 3, { slot: 1, len: 9, crc: 8 });
  assert.deepEqual(readRecord(r, 0), { len1: 12, crc1: 3, len2: 9, crc2: 8 });
});

test("full pages and a partial last page match the hand-built file", async () => {
  const storage = new MemoryStorage();
  const { writer: w } = await writer(storage, "a");
  const data = seq(0, 250);
  await w.append(data);
  await w.sync();
  const expected = concat(
    page(data.subarray(0, 103), 103, crc32c(data.subarray(0, 103)), 0, 0),
    page(data.subarray(103, 206), 103, crc32c(data.subarray(103, 206)), 0, 0),
    page(data.subarray(206), 44, crc32c(data.subarray(206)), 0, 0),
  );
  assertBytes(durable(storage, "a"), expected, "file");
});

test("a grown partial page alternates slots; the page that fills keeps the old slot", async () => {
  const storage = new MemoryStorage();
  const { writer: w } = await writer(storage, "g");
  const all = seq(1, 120);
  const c = (n: number) => crc32c(all.subarray(0, n));

  await w.append(all.subarray(0, 10));
  await w.sync();
  assertBytes(durable(storage, "g"), page(all.subarray(0, 10), 10, c(10), 0, 0), "10");

  await w.append(all.subarray(10, 30));
  await w.sync();
  assertBytes(durable(storage, "g"), page(all.subarray(0, 30), 10, c(10), 30, c(30)), "30");

  await w.append(all.subarray(30, 50));
  await w.sync();
  assertBytes(durable(storage, "g"), page(all.subarray(0, 50), 50, c(50), 30, c(30)), "50");

  await w.append(all.subarray(50, 120));
  await w.sync();
  const tail = all.subarray(103);
  assertBytes(
    durable(storage, "g"),
    concat(
      page(all.subarray(0, 103), 50, c(50), 103, c(103)),
      page(tail, 17, crc32c(tail), 0, 0),
    ),
    "120",
  );

  // And it all reopens.
  storage.crash();
  const again = await writer(storage, "g");
  assert.equal(again.writer.size, 120);
  assertBytes(await again.writer.readAt(0, 120), all, "reopened");
});

test("a shrink inside a page leaves the three-write record", async () => {
  const storage = new MemoryStorage();
  const { writer: w } = await writer(storage, "s");
  const data = seq(0, 50);
  await w.append(data);
  await w.sync();
  await w.resize(45);
  // Stage (0, crc45) in slot 1, publish len 45, zero slot 0's len: bytes 45..50 stay.
  assertBytes(
    durable(storage, "s"),
    page(data, 0, crc32c(data), 45, crc32c(data.subarray(0, 45))),
    "shrunk",
  );
  storage.crash();
  const again = await writer(storage, "s");
  assert.equal(again.writer.size, 45);
  assertBytes(await again.writer.readAt(0, 45), data.subarray(0, 45), "reopened");
  // Growing again rewrites the page: the new checksum goes to slot 0.
  await again.writer.append(new Uint8Array([7]));
  await again.writer.sync();
  const grown = concat(data.subarray(0, 45), new Uint8Array([7]));
  assertBytes(
    durable(storage, "s"),
    page(
      concat(grown, data.subarray(46, 50)).subarray(0, 46),
      46,
      crc32c(grown),
      45,
      crc32c(data.subarray(0, 45)),
    ),
    "regrown",
  );
});

test("a torn tail written by the writer's layout is cut off on open", async () => {
  const storage = new MemoryStorage();
  await storage.open("p", "t");
  const d = seq(5, 200);
  const c0 = crc32c(d.subarray(0, 103));
  const file = concat(
    page(d.subarray(0, 103), 103, c0, 0, 0),
    // A torn extension of page 1: payload half written, record never written.
    page(d.subarray(103, 150), 0, 0, 0, 0),
    new Uint8Array(40).fill(0xee), // a fragment of a third page
  );
  putDurable(storage, "t", file);
  const { writer: w, size } = await writer(storage, "t");
  assert.equal(size, PHYS * 2 + 40);
  assert.equal(w.size, 103);
  assertBytes(await w.readAt(0, 103), d.subarray(0, 103), "kept");
  // The cut is durable: a crash now still sees one page.
  storage.crash();
  assertBytes(durable(storage, "t"), file.subarray(0, PHYS), "after cut");
});

test("hand-built files as commonware writes them open with the right size and bytes", async () => {
  const d = seq(9, 300);
  const c = (from: number, n: number) => crc32c(d.subarray(from, from + n));
  const cases: { name: string; file: Uint8Array; size: number; bytes: Uint8Array }[] = [
    {
      name: "slot1-authoritative",
      file: page(d.subarray(0, 30), 10, c(0, 10), 30, c(0, 30)),
      size: 30,
      bytes: d.subarray(0, 30),
    },
    {
      name: "corrupted-primary-falls-back",
      file: page(d.subarray(0, 30), 10, c(0, 10), 30, 0xdeadbeef),
      size: 10,
      bytes: d.subarray(0, 10),
    },
    {
      name: "torn-extension-keeps-prefix",
      // commonware's test_torn_extension_with_new_footer_recovers_previous_prefix
      file: page(
        new TextEncoder().encode("abcd"),
        3,
        crc32c(new TextEncoder().encode("abc")),
        6,
        crc32c(new TextEncoder().encode("abcdef")),
      ),
      size: 3,
      bytes: new TextEncoder().encode("abc"),
    },
    {
      name: "stale-bytes-after-len",
      file: page(d.subarray(0, 50), 0, c(0, 50), 45, c(0, 45)),
      size: 45,
      bytes: d.subarray(0, 45),
    },
    {
      name: "full-then-partial",
      file: concat(
        page(d.subarray(0, 103), 50, c(0, 50), 103, c(0, 103)),
        page(d.subarray(103, 120), 17, c(103, 17), 0, 0),
      ),
      size: 120,
      bytes: d.subarray(0, 120),
    },
    {
      name: "zero-pages-after-data",
      file: concat(page(d.subarray(0, 103), 103, c(0, 103), 0, 0), new Uint8Array(PHYS * 3)),
      size: 103,
      bytes: d.subarray(0, 103),
    },
    {
      name: "all-invalid",
      file: concat(new Uint8Array(PHYS), page(d.subarray(0, 10), 10, 1, 0, 0)),
      size: 0,
      bytes: new Uint8Array(0),
    },
    {
      name: "len-too-large",
      file: page(d.subarray(0, 50), 0xffff, 0xdeadbeef, 0, 0),
      size: 0,
      bytes: new Uint8Array(0),
    },
  ];
  for (const k of cases) {
    const storage = new MemoryStorage();
    await storage.open("p", k.name);
    putDurable(storage, k.name, k.file);
    const { writer: w } = await writer(storage, k.name);
    assert.equal(w.size, k.size, k.name);
    assertBytes(await w.readAt(0, k.size), k.bytes, k.name);
    const kept = Math.ceil(k.size / P) * PHYS;
    assert.equal((await storage.open("p", k.name)).size, kept, `${k.name}: durable size`);
  }
});

test("a partial page before the last one is corrupt on every read path", async () => {
  const d = seq(1, 113);
  const storage = new MemoryStorage();
  await storage.open("p", "n");
  // Page 0's full slot is corrupted, leaving only its 10-byte fallback valid.
  putDurable(
    storage,
    "n",
    concat(
      page(d.subarray(0, 103), 10, crc32c(d.subarray(0, 10)), 103, 0xdeadbeef),
      page(d.subarray(103), 10, crc32c(d.subarray(103)), 0, 0),
    ),
  );
  setWindowForTesting(1); // open checks only the last page, as commonware's
  try {
    const { writer: w } = await writer(storage, "n");
    assert.equal(w.size, 113);
    await rejectsCode(w.readAt(0, 10), "BlobCorrupt");
    const replay = await w.replay(1024);
    await rejectsCode(replay.ensure(1), "BlobCorrupt");
  } finally {
    setWindowForTesting();
  }
  // With the window covering it, open stops at the partial page and cuts the rest.
  const { writer: cut } = await writer(storage, "n");
  assert.equal(cut.size, 10);
  assertBytes(await cut.readAt(0, 10), d.subarray(0, 10), "cut");
});

test("V1 blobs with 4084-byte pages: every physical page fills one 4 KiB page", async () => {
  const storage = new MemoryStorage({ layout: "v1" });
  const cache = new PageCache({ pageSize: PageCache.pageSizeFor(4096), capacity: 8 });
  const { blob, size } = await storage.open("p", "v1");
  const w = await PagedWriter.open(blob, size, { cache });
  const data = seq(3, 4084 + 100);
  await w.append(data);
  await w.sync();
  const raw = storage.readRaw("p", "v1")!;
  assert.equal(raw.length, 4096 * 3);
  const file = raw.subarray(4096);
  assertBytes(
    file,
    concat(
      page(data.subarray(0, 4084), 4084, crc32c(data.subarray(0, 4084)), 0, 0, 4084),
      page(data.subarray(4084), 100, crc32c(data.subarray(4084)), 0, 0, 4084),
    ),
    "v1 file",
  );
});
