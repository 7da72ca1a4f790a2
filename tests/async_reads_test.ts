import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { AsyncReads } from "../fs/_async_reads.ts";
import { inTempDir } from "./fs_fixture.ts";
import { assertBytes } from "./assert.ts";
import { pattern } from "./util.ts";

test("AsyncReads: reads the caller's file at a position, short only at its end", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "f");
    const data = pattern(100_000, 3);
    fs.writeFileSync(path, data);
    const fd = fs.openSync(path, "r");
    try {
      const reads = new AsyncReads(4);
      const got = await reads.read(fd, path, new ArrayBuffer(5000), 1234);
      assert.equal(got.done, 5000);
      assertBytes(new Uint8Array(got.buffer), data.subarray(1234, 6234));
      const tail = await reads.read(fd, path, new ArrayBuffer(5000), 99_000);
      assert.equal(tail.done, 1000);
      assertBytes(new Uint8Array(tail.buffer, 0, 1000), data.subarray(99_000));
    } finally {
      fs.closeSync(fd);
    }
  }));

test("AsyncReads: a path that no longer names the caller's file answers -1", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "f");
    fs.writeFileSync(path, pattern(4096, 1));
    const fd = fs.openSync(path, "r");
    try {
      const reads = new AsyncReads(2);
      fs.rmSync(path);
      assert.equal((await reads.read(fd, path, new ArrayBuffer(16), 0)).done, -1, "removed");
      fs.writeFileSync(path, pattern(4096, 2)); // another file under the same name
      assert.equal((await reads.read(fd, path, new ArrayBuffer(16), 0)).done, -1, "replaced");
    } finally {
      fs.closeSync(fd);
    }
  }));

test("AsyncReads: at most `depth` reads in flight, in call order, every one served", async () => {
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  const slow = async (_fd: number, _path: string, bytes: Uint8Array, position: number) => {
    started.push(position);
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    bytes.fill(position & 0xff);
    return bytes.length;
  };
  const reads = new AsyncReads(3, slow);
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => reads.read(0, "f", new ArrayBuffer(8), i)),
  );
  assert.equal(most, 3);
  assert.deepEqual(started, Array.from({ length: 20 }, (_, i) => i));
  results.forEach((r, i) => {
    assert.equal(r.done, 8);
    assert.deepEqual(new Uint8Array(r.buffer), new Uint8Array(8).fill(i));
  });
  // A failing read gives its slot back.
  const failing = new AsyncReads(1, () => Promise.reject(new Error("EIO")));
  await assert.rejects(failing.read(0, "f", new ArrayBuffer(1), 0), /EIO/);
  await assert.rejects(failing.read(0, "f", new ArrayBuffer(1), 0), /EIO/);
});

test("AsyncReads: a handle kept from an earlier read still reads the file after its removal", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "f");
    const data = pattern(8192, 9);
    fs.writeFileSync(path, data);
    const fd = fs.openSync(path, "r");
    try {
      const reads = new AsyncReads(1);
      assert.equal((await reads.read(fd, path, new ArrayBuffer(16), 0)).done, 16);
      fs.rmSync(path); // the caller's handle and the kept one still reach the file
      const again = await reads.read(fd, path, new ArrayBuffer(4096), 4096);
      assert.equal(again.done, 4096);
      assertBytes(new Uint8Array(again.buffer), data.subarray(4096));
    } finally {
      fs.closeSync(fd);
    }
  }));
