/**
 * The filesystem engine with reads sent to worker threads: the shared
 * conformance suite over a `node:fs` port whose synchronous reads look like
 * disk reads (each takes 0.3 ms), so the engine's timing sends the reads that
 * follow to the read pool, and each read, racing write, sync and close of the
 * suite runs through the pool and the range gate.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../core/names.ts";
import type { Storage } from "../core/types.ts";
import { BunStorage } from "../drivers/bun.ts";
import { NodeStorage } from "../drivers/node.ts";
import { loadLibc } from "../fs/_libc.ts";
import { FileStorage } from "../fs/file_storage.ts";
import { nodeFileSystem } from "../fs/node_port.ts";
import type { FileSystemPort } from "../fs/port.ts";
import { fsFixture } from "./fs_fixture.ts";
import { runConformance } from "./conformance.ts";
import { pattern, read } from "./util.ts";
import { assertBytes } from "./assert.ts";

/** Synchronous reads through the port, counted: the pool's reads bypass the port. */
let portReads = 0;

/** `node:fs`, with every synchronous read as slow as a disk's. */
const slowDisk: FileSystemPort = {
  ...nodeFileSystem,
  name: "node:fs (slow reads)",
  open: async (path) => {
    const file = await nodeFileSystem.open(path);
    return {
      ...file,
      read: (buf, position) => {
        portReads++;
        const until = performance.now() + 0.3;
        while (performance.now() < until) { /* the disk */ }
        return file.read(buf, position);
      },
    };
  },
};

runConformance(
  "FileStorage (reads on workers)",
  () => fsFixture((directory) => new FileStorage({ directory, readDepth: 4 }, slowDisk)),
);

test("cold reads: most reads of a cold handle go to the pool, with the right bytes", {
  timeout: 60_000,
}, async () => {
  const f = await fsFixture((directory) => new FileStorage({ directory, readDepth: 2 }, slowDisk));
  try {
    const { blob } = await f.storage.open("p", "b");
    const data = pattern(256 * 1024, 1);
    await blob.writeAt(0, data);
    const before = portReads;
    const got = await Promise.all(
      Array.from({ length: 40 }, (_, i) => read(blob, (i % 8) * 4096, 100_000)),
    );
    got.forEach((bytes, i) => {
      const at = (i % 8) * 4096;
      assertBytes(bytes, data.subarray(at, at + 100_000), `read ${i}`);
    });
    assert.ok(
      portReads - before < 10,
      `${portReads - before} of 40 reads ran on the caller's thread`,
    );
    const one = (await blob.readAt(0, 70_000)).bytes();
    assert.equal(one.constructor, Uint8Array);
    assert.equal(one.buffer.byteLength, 70_000, "the result owns exactly its memory");
    await blob.close();
  } finally {
    await f.cleanup?.();
  }
});

test("cold reads: readDepth is checked", () => {
  const port = nodeFileSystem;
  assert.throws(() => new FileStorage({ directory: "/tmp/x", readDepth: -1 }, port), RangeError);
  assert.throws(() => new FileStorage({ directory: "/tmp/x", readDepth: 1.5 }, port), RangeError);
  assert.throws(
    () => new FileStorage({ directory: "/tmp/x", readDepth: "4" as never }, port),
    TypeError,
  );
  assert.equal(new FileStorage({ directory: "/tmp/x", readDepth: 0 }, port).directory, "/tmp/x");
});

/**
 * Drops a file's clean pages from the page cache: `posix_fadvise(DONTNEED)`
 * through FFI where the runtime has it, else GNU `dd iflag=nocache count=0`
 * (the same call); false when neither works.
 */
async function evict(path: string): Promise<boolean> {
  const libc = await loadLibc();
  if (libc !== undefined) {
    const fd = openSync(path, "r");
    try {
      return libc.fadviseDontNeed(fd) === 0;
    } finally {
      closeSync(fd);
    }
  }
  const dd = spawnSync("dd", [`if=${path}`, "iflag=nocache", "count=0"], { stdio: "ignore" });
  return dd.status === 0;
}

/** Tries per driver of the test below (`BLOBRT_COLD_TRIES` for more). */
const COLD_TRIES = Number(
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .BLOBRT_COLD_TRIES ?? 30,
);

const coldDrivers: [string, (directory: string) => Storage, string | false][] = [
  ["NodeStorage", (directory) => new NodeStorage({ directory }), false],
  [
    "BunStorage",
    (directory) => new BunStorage({ directory }),
    "Bun" in globalThis ? false : "BunStorage runs under bun test",
  ],
];

for (const [name, make, skip] of coldDrivers) {
  test(
    `cold reads: ${name}, a readAtBuf in two chunks of evicted data never sees a write issued after it`,
    { skip, timeout: 120_000 },
    async () => {
      const f = await fsFixture(make);
      try {
        const { blob } = await f.storage.open("p", "b");
        const MIB = 1 << 20;
        const old = pattern(8 * MIB, 30);
        await blob.writeAt(0, old);
        await blob.sync(); // clean pages, which the kernel can drop
        const path = join(f.directory, "p", toHex(new TextEncoder().encode("b")));
        const torn: string[] = [];
        for (let i = 0; i < COLD_TRIES; i++) {
          const at = (i % 32) * 128 * 1024;
          if (!await evict(path)) return; // no way to evict here: nothing to test
          // Two slow (disk) reads of 64 KiB: the handle sends the next reads off the loop.
          await read(blob, 4 * MIB + (i % 16) * 256 * 1024, 65536);
          await read(blob, 4 * MIB + (i % 16) * 256 * 1024 + 128 * 1024, 65536);
          const target = [new Uint8Array(8192), new Uint8Array(8192)];
          const reading = blob.readAtBuf(at, 16384, target);
          const next = pattern(16384, 200 + i);
          const writing = blob.writeAt(at, next); // issued after the read
          await Promise.all([reading, writing]);
          const isOld = (chunk: number) =>
            target[chunk]!.every((b, j) => b === old[at + chunk * 8192 + j]);
          if (!isOld(0) || !isOld(1)) {
            torn.push(
              `try ${i}: chunk 0 ${isOld(0) ? "old" : "new"}, chunk 1 ${isOld(1) ? "old" : "new"}`,
            );
          }
          old.set(next, at);
          await blob.sync();
        }
        assert.deepEqual(torn, [], `${torn.length} of ${COLD_TRIES} reads saw a later write`);
        await blob.close();
      } finally {
        await f.cleanup?.();
      }
    },
  );
}
