/**
 * Hot path of MemoryStorage against the floor each operation is allowed to
 * cost (the `baseline` of every group): the same bytes moved with
 * `Uint8Array.slice`/`set`, inside an `async` function (one promise).
 *
 * Run one group per process (steadier), for example:
 *
 *   node_modules/.bin/deno bench -A --filter "/^memory readAt 4 KiB:/" bench/memory_bench.ts
 *
 * Groups: `memory readAt|readAtBuf|writeAt|append 4 KiB|64 KiB`,
 * `memory vectored 64 KiB` (one buffer, 4 chunks, 1024 chunks), `memory sync 4 KiB`.
 */

import { IoBufMut, MemoryStorage } from "../mod.ts";
import { randomOffsets } from "./_offsets.ts";

const KIB = 1024;
const BLOB = 1024 * KIB; // 1 MiB: the hot path, mostly in cache
const storage = new MemoryStorage();
const open = async (name: string) => (await storage.open("bench", name)).blob;
const blob = await open("blob");
await blob.writeAt(0, new Uint8Array(BLOB));
const raw = new Uint8Array(8 + BLOB); // the floor's store, header included

// The floors: one copy inside an awaited async call, as the driver's promise is awaited.
async function slice(src: Uint8Array, o: number, size: number): Promise<Uint8Array> {
  return src.slice(o, o + size);
}
async function set(dst: Uint8Array, src: Uint8Array, o: number): Promise<void> {
  dst.set(src, o);
}
const group = (g: string, n: number) => ({ group: g, n, warmup: n / 10 });
const floor = (g: string, n: number) => ({ ...group(g, n), baseline: true });

for (const size of [4 * KIB, 64 * KIB]) {
  const s = `${size / KIB} KiB`;
  // Enough iterations that JIT warm-up and GC pauses average out.
  const n = size === 4 * KIB ? 200_000 : 20_000;
  const record = new Uint8Array(size).fill(7);
  const target = new Uint8Array(size);
  const reused = IoBufMut.withCapacity(size);
  const at = randomOffsets(1, BLOB / size, size); // aligned, uniform over the blob

  let g = `memory readAt ${s}`;
  Deno.bench(`${g}: slice + promise`, floor(g, n), async () => {
    await slice(raw, 8 + at(), size);
  });
  Deno.bench(`${g}: MemoryStorage`, group(g, n), async () => {
    await blob.readAt(at(), size);
  });

  g = `memory readAtBuf ${s}`;
  Deno.bench(`${g}: set into a reused buffer + promise`, floor(g, n), async () => {
    const o = 8 + at();
    await set(target, raw.subarray(o, o + size), 0);
  });
  Deno.bench(`${g}: MemoryStorage, reused IoBufMut`, group(g, n), async () => {
    await blob.readAtBuf(at(), size, reused);
  });

  g = `memory writeAt ${s}`;
  Deno.bench(`${g}: set + promise`, floor(g, n), async () => {
    await set(raw, record, 8 + at());
  });
  Deno.bench(`${g}: MemoryStorage`, group(g, n), async () => {
    await blob.writeAt(at(), record);
  });

  // Appends grow to 16 MiB, then start over (the reset is not timed).
  g = `memory append ${s}`;
  const big = new Uint8Array(8 + 16 * BLOB);
  let end = 0;
  Deno.bench(`${g}: set + promise`, floor(g, n), async (b) => {
    if (end >= 16 * BLOB) end = 0;
    b.start();
    await set(big, record, 8 + end);
    b.end();
    end += size;
  });
  const appended = await open(g);
  let pos = 0;
  Deno.bench(`${g}: MemoryStorage`, group(g, n), async (b) => {
    if (pos >= 16 * BLOB) await appended.resize(pos = 0);
    b.start();
    await appended.writeAt(pos, record);
    b.end();
    pos += size;
  });
}

// Vectored: 64 KiB as one buffer, as 4 chunks and as 1024 chunks.
{
  const N = 64 * KIB;
  const g = "memory vectored 64 KiB";
  const one = new Uint8Array(N).fill(9);
  const chunks = (k: number) =>
    Array.from({ length: k }, (_, i) => one.subarray(i * N / k, (i + 1) * N / k));
  const shapes: [string, Uint8Array | Uint8Array[]][] = [
    ["one buffer", one],
    ["4 × 16 KiB", chunks(4)],
    ["1024 × 64 B", chunks(1024)],
  ];
  const many = shapes[2][1] as Uint8Array[];
  const at = randomOffsets(2, BLOB / N, N);
  Deno.bench(`${g}: set + promise, one buffer`, floor(g, 20_000), async () => {
    await set(raw, one, 8 + at());
  });
  const setAll = async (o: number) => {
    for (let i = 0; i < many.length; o += many[i++].length) raw.set(many[i], o);
  };
  Deno.bench(`${g}: set + promise, 1024 × 64 B`, group(g, 20_000), async () => {
    await setAll(8 + at());
  });
  for (const [what, data] of shapes) {
    Deno.bench(`${g}: MemoryStorage, ${what}`, group(g, 20_000), async () => {
      await blob.writeAt(at(), data);
    });
  }
}

// A 4 KiB write made durable: MemoryStorage copies it into the durable image.
{
  const g = "memory sync 4 KiB";
  const record = new Uint8Array(4 * KIB).fill(3);
  const durable = new Uint8Array(8 + BLOB);
  const at = randomOffsets(3, BLOB / record.length, record.length);
  const setBoth = async (o: number) => {
    raw.set(record, o);
    durable.set(record, o);
  };
  Deno.bench(`${g}: two sets + promise`, floor(g, 200_000), async () => {
    await setBoth(8 + at());
  });
  Deno.bench(`${g}: MemoryStorage writeAt + sync()`, group(g, 200_000), async () => {
    await blob.writeAt(at(), record);
    await blob.sync();
  });
  Deno.bench(`${g}: MemoryStorage writeAt { sync: true }`, group(g, 200_000), async () => {
    await blob.writeAt(at(), record, { sync: true });
  });
}
