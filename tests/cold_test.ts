/**
 * The filesystem engine with every read sent to worker threads: the shared
 * conformance suite over NodeStorage whose page cache always "misses" (a
 * `preadNowait` that answers "not cached"), so each read, racing write, sync
 * and close of the suite runs through the read pool and the range gate.
 */

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { NodeStorage } from "../drivers/node.ts";
import { overrideLibc } from "../fs/_libc.ts";
import { fsFixture } from "./fs_fixture.ts";
import { runConformance } from "./conformance.ts";
import { pattern, read } from "./util.ts";
import { assertBytes } from "./assert.ts";

let misses = 0;
const alwaysCold = {
  preadNowait: () => {
    misses++;
    return -1;
  },
  fadviseDontNeed: () => 0,
};

before(() => overrideLibc(alwaysCold));
after(() => overrideLibc(null));

runConformance("NodeStorage (every read on a worker)", () =>
  fsFixture((directory) => {
    overrideLibc(alwaysCold); // before the storage's first open loads it
    return new NodeStorage({ directory, readDepth: 4 });
  }));

test("cold reads: the pool was used, and results are plain owned memory", async () => {
  overrideLibc(alwaysCold);
  const f = await fsFixture((directory) => new NodeStorage({ directory, readDepth: 2 }));
  try {
    const { blob } = await f.storage.open("p", "b");
    const data = pattern(256 * 1024, 1);
    await blob.writeAt(0, data);
    const before = misses;
    const got = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => read(blob, i * 4096, 100_000)));
    assert.ok(misses >= before + 6, "every read asked the page cache first");
    got.forEach((bytes, i) => assertBytes(bytes, data.subarray(i * 4096, i * 4096 + 100_000)));
    const one = (await blob.readAt(0, 70_000)).bytes();
    assert.equal(one.constructor, Uint8Array);
    assert.equal(one.buffer.byteLength, 70_000, "the result owns exactly its memory");
    await blob.close();
  } finally {
    await f.cleanup?.();
  }
});

test("cold reads: readDepth is checked", () => {
  assert.throws(() => new NodeStorage({ directory: "/tmp/x", readDepth: -1 }), RangeError);
  assert.throws(() => new NodeStorage({ directory: "/tmp/x", readDepth: 1.5 }), RangeError);
  assert.throws(() => new NodeStorage({ directory: "/tmp/x", readDepth: "4" as never }), TypeError);
  new NodeStorage({ directory: "/tmp/x", readDepth: 0 });
});
