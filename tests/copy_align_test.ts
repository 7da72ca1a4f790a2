/**
 * The copy-distance bounce (fs/_copy_align.ts), forced on whatever CPU runs
 * the tests: which reads and writes go through the scratch memory, and that
 * they move exact bytes also when the port moves few bytes per call.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bounceOffset,
  LOOKUP_ALWAYS_FROM,
  SCRATCH_SIZE,
  setCopyFlawed,
  writeCoalesced,
} from "../fs/_copy_align.ts";
import { FileStorage } from "../fs/file_storage.ts";
import type { DirEntry, FilePort, FileSystemPort } from "../fs/port.ts";
import { assertBytes } from "./assert.ts";
import { pattern } from "./util.ts";
import { slow } from "./limits.ts";

const g = globalThis as {
  Bun?: unknown;
  Deno?: { permissions: { querySync(d: { name: string }): { state: string } } };
};
/** Whether this runtime can tell addresses: Bun always, Deno with FFI allowed, Node never. */
const lookups = g.Bun !== undefined ||
  g.Deno?.permissions.querySync({ name: "ffi" }).state === "granted";

/** Page-aligned memory (WebAssembly), so views sit at known addresses mod 4096. */
const pageAligned = (bytes: number) =>
  new Uint8Array(new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1 }).buffer);

test("bounceOffset: bad distances bounce 32 bytes past the position, good ones and small buffers never", () => {
  setCopyFlawed(true);
  try {
    const size = LOOKUP_ALWAYS_FROM; // checked on every runtime that tells addresses
    const memory = pageAligned(size + 8192);
    const at = (address: number, length = size) => memory.subarray(address, address + length);
    const bad = (offset: number) => lookups ? offset : -1;
    // A write from address 0 to position 8 copies at distance 8: bad.
    assert.equal(bounceOffset(at(0), 8, true), bad(40));
    // A read into address 16 from position 8: distance 8, bad; into 0: 4088, good.
    assert.equal(bounceOffset(at(16), 8, false), bad(40));
    assert.equal(bounceOffset(at(0), 8, false), -1);
    // Distance 31 is the last bad one, 32 the first good one; 4096 + 8 is 8 again.
    assert.equal(bounceOffset(at(39), 8, false), bad(40));
    assert.equal(bounceOffset(at(40), 8, false), -1);
    assert.equal(bounceOffset(at(0), 4096 + 8, true), bad(40));
    assert.equal(bounceOffset(at(0), 4096 * 3 + 24, true), bad(56));
    assert.equal(bounceOffset(at(0), 4096 * 3 + 4080, true), -1); // distance 4080: good
    // Small buffers: Bun checks writes from 4 KiB (its buffers make every V0
    // write bad) and reads from 32 KiB; Deno everything from 128 KiB.
    assert.equal(bounceOffset(at(0, 4095), 8, true), -1);
    assert.equal(bounceOffset(at(0, 4096), 8, true), g.Bun !== undefined ? 40 : -1);
    assert.equal(bounceOffset(at(16, 4096), 8, false), -1);
    assert.equal(bounceOffset(at(16, 32 * 1024), 8, false), g.Bun !== undefined ? 40 : -1);
    // A CPU without the flaw never bounces.
    setCopyFlawed(false);
    assert.equal(bounceOffset(at(0), 8, true), -1);
  } finally {
    setCopyFlawed(undefined);
  }
});

/** The scratch memory's ArrayBuffer, as `writeCoalesced` hands it out. */
function scratchBuffer(): ArrayBufferLike {
  let buffer: ArrayBufferLike | undefined;
  writeCoalesced([new Uint8Array(1)], 1, 0, (joined) => buffer = joined.buffer);
  return buffer!;
}

test("writeCoalesced: chunks joined in scratch memory at the position's offset mod 4096", () => {
  const chunks = [Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)];
  const seen: Uint8Array[] = [];
  writeCoalesced(chunks, 6, 4096 * 7 + 1000, (joined) => seen.push(joined.slice()));
  const scratch = scratchBuffer();
  writeCoalesced(chunks, 6, 4096 * 7 + 1000, (joined) => {
    assert.equal(joined.byteOffset, 1000);
    assert.equal(joined.buffer, scratch);
  });
  assert.deepEqual(seen, [Uint8Array.of(1, 2, 3, 4, 5, 6)]);
  const big = pattern(SCRATCH_SIZE, 3);
  writeCoalesced([big.subarray(0, 5), big.subarray(5)], SCRATCH_SIZE, 4095, (joined) => {
    assert.equal(joined.byteOffset, 4095);
    assertBytes(joined, big);
  });
});

test("writeCoalesced and bounceOffset: a call from inside a write uses fresh memory, never the scratch in use", () => {
  setCopyFlawed(true);
  try {
    const scratch = scratchBuffer();
    const memory = pageAligned(LOOKUP_ALWAYS_FROM + 8192);
    writeCoalesced([Uint8Array.of(7, 8)], 2, 8, (outer) => {
      assert.equal(outer.buffer, scratch);
      // A port calling back into a storage: it must not overwrite `outer`.
      writeCoalesced([Uint8Array.of(9)], 1, 8, (inner) => {
        assert.notEqual(inner.buffer, scratch);
        assert.deepEqual(inner, Uint8Array.of(9));
      });
      assert.equal(bounceOffset(memory.subarray(0, LOOKUP_ALWAYS_FROM), 8, true), -1);
      assert.deepEqual(outer, Uint8Array.of(7, 8));
    });
    // Free again: the bad distance bounces where addresses are known.
    assert.equal(
      bounceOffset(memory.subarray(0, LOOKUP_ALWAYS_FROM), 8, true),
      lookups ? 40 : -1,
    );
  } finally {
    setCopyFlawed(undefined);
  }
});

/** One file in memory whose calls move at most `step` bytes and record the memory they were given. */
class RecordingFs implements FileSystemPort {
  readonly name = "recording";
  readonly files = new Map<string, { data: Uint8Array }>();
  readonly dirs = new Set<string>();
  /** The ArrayBuffer behind each read and write call's buffer. */
  readonly seen: ArrayBufferLike[] = [];
  constructor(readonly step: number) {}
  mkdir(path: string): Promise<void> {
    this.dirs.add(path);
    return Promise.resolve();
  }
  readDir(path: string): Promise<DirEntry[]> {
    const out: DirEntry[] = [];
    for (const f of this.files.keys()) {
      if (f.startsWith(path + "/")) out.push({ name: f.slice(path.length + 1), isFile: true });
    }
    return Promise.resolve(out);
  }
  syncDir(): Promise<void> {
    return Promise.resolve();
  }
  removeFile(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }
  removeDir(path: string): Promise<void> {
    this.dirs.delete(path);
    return Promise.resolve();
  }
  open(path: string): Promise<FilePort> {
    let f = this.files.get(path);
    if (f === undefined) this.files.set(path, f = { data: new Uint8Array(0) });
    const file = f;
    const port: FilePort = {
      size: () => file.data.length,
      read: (buf, position) => {
        this.seen.push(buf.buffer);
        const n = Math.max(0, Math.min(buf.length, this.step, file.data.length - position));
        buf.set(file.data.subarray(position, position + n));
        return n;
      },
      write: (buf, position) => {
        this.seen.push(buf.buffer);
        const n = Math.min(buf.length, this.step);
        if (position + n > file.data.length) {
          const next = new Uint8Array(position + n);
          next.set(file.data);
          file.data = next;
        }
        file.data.set(buf.subarray(0, n), position);
        return n;
      },
      truncate: (length) => {
        const next = new Uint8Array(length);
        next.set(file.data.subarray(0, length));
        file.data = next;
      },
      datasync: () => Promise.resolve(),
      fsync: () => Promise.resolve(),
      close: () => {},
    };
    return Promise.resolve(port);
  }
}

slow.test("FileBlob: bad-distance reads and writes go through the scratch memory, in pieces, byte-exact", async () => {
  setCopyFlawed(true);
  try {
    for (const step of [SCRATCH_SIZE * 4, 100_003]) {
      const fs = new RecordingFs(step);
      const storage = new FileStorage({ directory: "/root" }, fs);
      const { blob } = await storage.open("p", "b");
      const size = 2 * SCRATCH_SIZE + 200_003; // three pieces, the last one odd
      const memory = pageAligned(size + 8192);
      const data = pattern(size, step);
      // A write from address 0 to offset 0 (file byte 8): distance 8.
      const source = memory.subarray(0, size);
      source.set(data);
      fs.seen.length = 0;
      await blob.writeAt(0, source);
      const bounced = lookups;
      assert.equal(fs.seen.every((b) => b !== memory.buffer), bounced, `step ${step}: write`);
      // A read into address 16 from offset 0: distance 8.
      memory.fill(0);
      fs.seen.length = 0;
      const target = memory.subarray(16, 16 + size);
      await blob.readAtBuf(0, size, target);
      assertBytes(target, data, `step ${step}: read`);
      assert.equal(fs.seen.every((b) => b !== memory.buffer), bounced, `step ${step}: read`);
      // A read into address 0 (distance 4088) goes straight in.
      fs.seen.length = 0;
      await blob.readAtBuf(0, size, memory.subarray(0, size));
      assertBytes(memory.subarray(0, size), data, `step ${step}: direct read`);
      assert.ok(fs.seen.every((b) => b === memory.buffer), `step ${step}: direct read`);
      await blob.close();
    }
  } finally {
    setCopyFlawed(undefined);
  }
});

test("FileBlob: writes coalesced from small chunks come from scratch memory placed at the position", async () => {
  const fs = new RecordingFs(1 << 30);
  const storage = new FileStorage({ directory: "/root" }, fs);
  const { blob } = await storage.open("p", "c");
  const chunks = Array.from({ length: 100 }, (_, i) => pattern(64, i));
  fs.seen.length = 0;
  await blob.writeAt(4000, chunks);
  const expected = new Uint8Array(6400);
  chunks.forEach((c, i) => expected.set(c, 64 * i));
  const back = new Uint8Array(6400);
  await blob.readAtBuf(4000, 6400, back);
  assertBytes(back, expected);
  assert.equal(fs.seen.length, 2); // one write, one read
  // Bun joins with its native Buffer.concat; elsewhere the copy is in the scratch memory.
  if (g.Bun === undefined) assert.equal(fs.seen[0], scratchBuffer());
  await blob.close();
});
