/**
 * Each wrapper's overhead on the 4 KiB hot path, against the bare memory
 * driver (the baseline of every group).
 *
 * Run: `node_modules/.bin/deno bench -A bench/wrappers_bench.ts`
 * (one group per process is steadier: add `--filter "/^read/"` or `--filter "/^write/"`).
 */

import { AuditedStorage, Auditor } from "../drivers/audited.ts";
import { FaultyStorage } from "../drivers/faulty.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { MeteredStorage } from "../drivers/metered.ts";
import type { Blob, Storage } from "../core/types.ts";
import { randomOffsets } from "./_offsets.ts";

const SIZE = 4096;
const RECORDS = 256;
const opts = { n: 200_000, warmup: 20_000 };
const record = new Uint8Array(SIZE).fill(7);

async function blobOf(storage: Storage): Promise<Blob> {
  const { blob } = await storage.open("bench", "blob");
  await blob.writeAt(0, new Uint8Array(SIZE * RECORDS));
  return blob;
}

const wrappers: [string, Blob][] = [
  ["MemoryStorage", await blobOf(new MemoryStorage())],
  ["MeteredStorage (no provider)", await blobOf(new MeteredStorage(new MemoryStorage()))],
  ["FaultyStorage (rates 0)", await blobOf(new FaultyStorage(new MemoryStorage(), { seed: 1 }))],
  ["AuditedStorage", await blobOf(new AuditedStorage(new MemoryStorage(), new Auditor()))],
];

// Aligned, uniform over the blob (bench/_offsets.ts).
const next = randomOffsets(1, RECORDS, SIZE);

for (const [name, blob] of wrappers) {
  const baseline = name === "MemoryStorage";
  Deno.bench(`read 4 KiB: ${name}`, { ...opts, group: "readAt 4 KiB", baseline }, async () => {
    await blob.readAt(next(), SIZE);
  });
  Deno.bench(`write 4 KiB: ${name}`, { ...opts, group: "writeAt 4 KiB", baseline }, async () => {
    await blob.writeAt(next(), record);
  });
}
