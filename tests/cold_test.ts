/**
 * The filesystem engine with reads sent to worker threads: the shared
 * conformance suite over a `node:fs` port whose synchronous reads look like
 * disk reads (each takes 0.3 ms), so the engine's timing sends the reads that
 * follow to the read pool, and each read, racing write, sync and close of the
 * suite runs through the pool and the range gate.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
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

test("cold reads: most reads of a cold handle go to the pool, with the right bytes", async () => {
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
