/**
 * Hot path of the filesystem drivers available under Deno (NodeStorage, the
 * default, and DenoStorage) against the bare `node:fs` positional call they
 * wrap (the `baseline` of every group), on a 16 MiB page-cached file in a
 * temporary directory that is removed on unload.
 *
 * Run one group per process (steadier), for example:
 *
 *   node_modules/.bin/deno bench -A --filter "/^fs readAt 4 KiB:/" bench/fs_bench.ts
 *
 * Groups: `fs readAt|readAtBuf|writeAt|append 4 KiB|64 KiB`, `fs vectored 64 KiB|1 MiB`
 * (N bytes as one buffer, 4 chunks, 1024 chunks), `fs sync 4 KiB` (a 4 KiB append, then sync).
 */

import * as fs from "node:fs";
import { join } from "node:path";
import type { Blob, Storage } from "../core/types.ts";
import { DenoStorage } from "../drivers/deno.ts";
import { NodeStorage } from "../drivers/node.ts";
import { randomOffsets } from "./_offsets.ts";

const KIB = 1024;
const FILE = 16 * KIB * KIB; // small enough to stay page-cached on this VM
const dir = Deno.makeTempDirSync({ prefix: "blobrt-fs-bench-" });
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function open(storage: Storage, name: string, fill = false): Promise<Blob> {
  const { blob } = await storage.open("bench", name);
  if (fill) await blob.writeAt(0, new Uint8Array(FILE).fill(1), { sync: true });
  return blob;
}
/** A raw descriptor on a blob's file (created by `open`, so it has a header). */
async function openFd(name: string): Promise<number> {
  await open(node, name);
  const hex = Array.from(new TextEncoder().encode(name), (b) => b.toString(16).padStart(2, "0"));
  return fs.openSync(join(dir, "bench", hex.join("")), "r+");
}

// Every member of a read/overwrite group uses the same file, so the same page cache.
const node = new NodeStorage({ directory: dir });
const deno = new DenoStorage({ directory: dir });
const drivers: [string, Blob][] = [
  ["NodeStorage", await open(node, "data", true)],
  ["DenoStorage", await open(deno, "data")],
];
const fd = await openFd("data");
// Appends go to a new file per member and group.
const storages = [node, deno];
const appendBlob = (i: number, g: string) => open(storages[i], `${g}-${i}`);

const group = (g: string, n: number) => ({ group: g, n, warmup: Math.max(10, n / 10) });
const bare = (g: string, n: number) => ({ ...group(g, n), baseline: true });

for (const size of [4 * KIB, 64 * KIB]) {
  const s = `${size / KIB} KiB`;
  const n = size === 4 * KIB ? 100_000 : 20_000;
  const record = new Uint8Array(size).fill(7);
  const reused = new Uint8Array(size);
  const at = randomOffsets(1, FILE / size, size); // aligned, uniform over the file

  let g = `fs readAt ${s}`;
  Deno.bench(`${g}: fs.readSync, fresh buffer`, bare(g, n), async () => {
    fs.readSync(fd, new Uint8Array(size), 0, size, 8 + at());
  });
  for (const [name, blob] of drivers) {
    Deno.bench(`${g}: ${name}`, group(g, n), async () => {
      await blob.readAt(at(), size);
    });
  }

  g = `fs readAtBuf ${s}`;
  Deno.bench(`${g}: fs.readSync, reused buffer`, bare(g, n), async () => {
    fs.readSync(fd, reused, 0, size, 8 + at());
  });
  for (const [name, blob] of drivers) {
    Deno.bench(`${g}: ${name}`, group(g, n), async () => {
      await blob.readAtBuf(at(), size, reused);
    });
  }

  g = `fs writeAt ${s}`;
  Deno.bench(`${g}: fs.writeSync`, bare(g, n), async () => {
    fs.writeSync(fd, record, 0, size, 8 + at());
  });
  for (const [name, blob] of drivers) {
    Deno.bench(`${g}: ${name}`, group(g, n), async () => {
      await blob.writeAt(at(), record);
    });
  }

  // Appends grow a file to 16 MiB, then it is truncated outside the timed section.
  g = `fs append ${s}`;
  const appendFd = await openFd(g);
  let pos = 0;
  Deno.bench(`${g}: fs.writeSync`, bare(g, n), async (b) => {
    if (pos >= FILE) fs.ftruncateSync(appendFd, 8 + (pos = 0));
    b.start();
    fs.writeSync(appendFd, record, 0, size, 8 + pos);
    b.end();
    pos += size;
  });
  for (const [i, [name]] of drivers.entries()) {
    const blob = await appendBlob(i, g);
    let pos = 0;
    Deno.bench(`${g}: ${name}`, group(g, n), async (b) => {
      if (pos >= FILE) await blob.resize(pos = 0);
      b.start();
      await blob.writeAt(pos, record);
      b.end();
      pos += size;
    });
  }
}

// Vectored writes: N bytes as one buffer, as 4 chunks and as 1024 chunks.
for (const N of [64 * KIB, KIB * KIB]) {
  const g = `fs vectored ${N < KIB * KIB ? "64 KiB" : "1 MiB"}`;
  const n = N < KIB * KIB ? 20_000 : 2_000;
  const one = new Uint8Array(N).fill(9);
  const chunks = (k: number) =>
    Array.from({ length: k }, (_, i) => one.subarray(i * N / k, (i + 1) * N / k));
  const shapes: [string, Uint8Array | Uint8Array[]][] = [
    ["one buffer", one],
    [`4 × ${N / 4 / KIB} KiB`, chunks(4)],
    [`1024 × ${N / 1024} B`, chunks(1024)],
  ];
  const many = chunks(1024);
  const at = randomOffsets(2, FILE / N, N);
  Deno.bench(`${g}: fs.writeSync, one buffer`, bare(g, n), async () => {
    fs.writeSync(fd, one, 0, N, 8 + at());
  });
  Deno.bench(`${g}: fs.writevSync, ${shapes[2][0]}`, group(g, n / 4), async () => {
    fs.writevSync(fd, many, 8 + at());
  });
  // The least a copying vectored write can do: copy the chunks into one new buffer, write once.
  Deno.bench(`${g}: copy ${shapes[2][0]} + fs.writeSync`, group(g, n), async () => {
    const buf = new Uint8Array(N);
    for (let i = 0, o = 0; i < many.length; o += many[i++].length) buf.set(many[i], o);
    fs.writeSync(fd, buf, 0, N, 8 + at());
  });
  const scratch = new Uint8Array(N);
  Deno.bench(
    `${g}: copy ${shapes[2][0]} into a reused buffer + fs.writeSync`,
    group(g, n),
    async () => {
      for (let i = 0, o = 0; i < many.length; o += many[i++].length) scratch.set(many[i], o);
      fs.writeSync(fd, scratch, 0, N, 8 + at());
    },
  );
  for (const [name, blob] of drivers) {
    for (const [what, data] of shapes) {
      Deno.bench(`${g}: ${name}, ${what}`, group(g, n), async () => {
        await blob.writeAt(at(), data);
      });
    }
  }
}

// A 4 KiB append made durable: the bare loop is `fs.writeSync` + `fs.fdatasync` (off the loop).
{
  const g = "fs sync 4 KiB";
  const record = new Uint8Array(4 * KIB).fill(3);
  const n = 1_000;
  const appendFd = await openFd(g);
  let pos = 0;
  const fdatasync = (fd: number) =>
    new Promise<void>((ok, fail) => fs.fdatasync(fd, (e) => e ? fail(e) : ok()));
  Deno.bench(`${g}: fs.writeSync + fs.fdatasync`, bare(g, n), async () => {
    fs.writeSync(appendFd, record, 0, record.length, 8 + (pos += record.length));
    await fdatasync(appendFd);
  });
  Deno.bench(`${g}: fs.writeSync + fs.fdatasyncSync`, group(g, n), async () => {
    fs.writeSync(appendFd, record, 0, record.length, 8 + (pos += record.length));
    fs.fdatasyncSync(appendFd);
  });
  for (const [i, [name]] of drivers.entries()) {
    const blob = await appendBlob(i, g);
    let pos = 0;
    Deno.bench(`${g}: ${name} writeAt + sync()`, group(g, n), async () => {
      await blob.writeAt(pos += record.length, record);
      await blob.sync();
    });
    Deno.bench(`${g}: ${name} writeAt { sync: true }`, group(g, n), async () => {
      await blob.writeAt(pos += record.length, record, { sync: true });
    });
  }
}
