/**
 * Hot path of MemoryStorage: a 4 KiB readAt / readAtBuf / writeAt against the
 * floor it is allowed to cost: one copy of the bytes plus one promise.
 *
 * Run: `npm run bench` (or `deno bench -A bench/memory_bench.ts`).
 */

import { IoBufMut, MemoryStorage } from "../mod.ts";

const SIZE = 4096;
const RECORDS = 256; // 1 MiB blob
const storage = new MemoryStorage();
const { blob } = await storage.open("bench", "blob");
const record = new Uint8Array(SIZE).fill(7);
await blob.writeAt(0, new Uint8Array(SIZE * RECORDS));

// The floor: the same bytes moved once, inside an async function.
const raw = new Uint8Array(8 + SIZE * RECORDS);
const target = new Uint8Array(SIZE);
const reused = IoBufMut.withCapacity(SIZE);
let i = 0;
const next = (): number => (i = (i * 1103515245 + 12345) & 0x7fffffff) % RECORDS * SIZE;
// Enough iterations that JIT warm-up and GC pauses average out.
const opts = { n: 200_000, warmup: 20_000 };

async function floorRead(offset: number): Promise<Uint8Array> {
  return raw.slice(8 + offset, 8 + offset + SIZE);
}
async function floorReadInto(offset: number): Promise<Uint8Array> {
  target.set(raw.subarray(8 + offset, 8 + offset + SIZE));
  return target;
}
async function floorWrite(offset: number): Promise<void> {
  raw.set(record, 8 + offset);
}

Deno.bench(
  "4 KiB read: copy + promise",
  { ...opts, group: "read 4 KiB", baseline: true },
  async () => {
    await floorRead(next());
  },
);
Deno.bench("4 KiB read: MemoryStorage readAt", { ...opts, group: "read 4 KiB" }, async () => {
  await blob.readAt(next(), SIZE);
});
Deno.bench(
  "4 KiB read into: copy + promise",
  { ...opts, group: "read into 4 KiB", baseline: true },
  async () => {
    await floorReadInto(next());
  },
);
Deno.bench(
  "4 KiB read into: MemoryStorage readAtBuf",
  { ...opts, group: "read into 4 KiB" },
  async () => {
    await blob.readAtBuf(next(), SIZE, reused);
  },
);
Deno.bench(
  "4 KiB write: copy + promise",
  { ...opts, group: "write 4 KiB", baseline: true },
  async () => {
    await floorWrite(next());
  },
);
Deno.bench("4 KiB write: MemoryStorage writeAt", { ...opts, group: "write 4 KiB" }, async () => {
  await blob.writeAt(next(), record);
});
