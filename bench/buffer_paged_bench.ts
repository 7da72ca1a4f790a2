/**
 * commonware's `buffer_paged` benchmark set on blobrt's `PagedWriter`, each
 * case against the raw `Blob` calls that move the same bytes, in the same run:
 *
 * - `append`: records of 64 B, 256 B, 1 KiB and 4 KiB appended (buffered, no
 *   sync; commonware's 4-page write buffer, and for 256 B also the default
 *   64 KiB and 1 MiB) against raw sequential `writeAt` of the same bytes in
 *   1 MiB writes;
 *   plus the share of the append time spent in CRC32C (the same pages
 *   checksummed alone);
 * - `read`: random `readInto` of 64 B to 4 KiB over a blob of 4,096 pages
 *   whose cache holds 99 % of them (about 1 % misses), and fully cached,
 *   against raw `readAtBuf` (reused buffer) and `readAt` of the same ranges;
 * - `sync`: 256-byte records with `sync` after every 1 and every 16 appends,
 *   against raw `writeAt` of each record and `sync` at the same cadence.
 *
 * Page size 4084 (4096-byte physical pages), write buffer 4 pages, as
 * commonware's. Each case runs in interleaved rounds (raw, paged, raw, …) and
 * reports medians and the median of the per-round ratios.
 *
 *   node_modules/.bin/deno run -A bench/buffer_paged_bench.ts [memory|node|deno|all]
 *   node_modules/.bin/bun bench/buffer_paged_bench.ts [memory|node|bun|all]
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Blob, Storage } from "../mod.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { NodeStorage } from "../drivers/node.ts";
import { DenoStorage } from "../drivers/deno.ts";
import { BunStorage } from "../drivers/bun.ts";
import { crc32c } from "../core/crc32c.ts";
import { SeededRandom } from "../core/random.ts";
import { detectRuntime } from "../core/_runtime.ts";
import { PageCache } from "../buffer/page_cache.ts";
import { PagedWriter } from "../buffer/paged_writer.ts";
import { args, median, runtimeVersion } from "./measure.ts";

const runtime = detectRuntime();
const PAGE = PageCache.pageSizeFor(4096);
const WRITE_BUFFER = 4 * PAGE;
const MIB = 1 << 20;
const APPEND_BYTES = 16 * MIB;
const READ_PAGES = 4096;
const READS = 20000;
const ROUNDS = 5;

let blobCounter = 0;
const name = (): string => `b${blobCounter++}`;

type Row = { case: string; raw: string; paged: number[]; base: number[]; unit: string };
const rows: Row[] = [];

function record(caseName: string, raw: string, paged: number[], base: number[], unit: string) {
  rows.push({ case: caseName, raw, paged, base, unit });
}

/** Seconds taken by `fn`. */
async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function fill(n: number, seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const x = rng.nextUint32();
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  return out;
}

const source = fill(APPEND_BYTES, 7);

async function fresh(storage: Storage): Promise<{ blob: Blob; size: number }> {
  const opened = await storage.open("bench", name());
  return { blob: opened.blob, size: opened.size };
}

async function benchAppend(
  storage: Storage,
  recordSize: number,
  bufferSize = WRITE_BUFFER,
): Promise<void> {
  const paged: number[] = [];
  const base: number[] = [];
  const crcShare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Raw: the same bytes in 1 MiB sequential writes.
    const raw = await fresh(storage);
    base.push(
      APPEND_BYTES / MIB /
        await time(async () => {
          for (let at = 0; at < APPEND_BYTES; at += MIB) {
            await raw.blob.writeAt(at, source.subarray(at, at + MIB));
          }
        }),
    );
    await raw.blob.close();

    const p = await fresh(storage);
    const cache = new PageCache({ pageSize: PAGE, capacity: 1000 });
    const writer = await PagedWriter.open(p.blob, p.size, { cache, bufferSize });
    const t = await time(async () => {
      for (let at = 0; at + recordSize <= APPEND_BYTES; at += recordSize) {
        await writer.append(source.subarray(at, at + recordSize));
      }
    });
    paged.push(APPEND_BYTES / MIB / t);
    await p.blob.close();

    const tc = await time(async () => {
      for (let at = 0; at + PAGE <= APPEND_BYTES; at += PAGE) {
        crc32c(source.subarray(at, at + PAGE));
      }
    });
    crcShare.push(tc / t);
  }
  const buffer = bufferSize === WRITE_BUFFER ? "4-page buffer" : `${bufferSize >> 10} KiB buffer`;
  record(`append ${recordSize} B, ${buffer}`, "writeAt 1 MiB", paged, base, "MiB/s");
  rows[rows.length - 1]!.case += ` (crc32c ${(median(crcShare) * 100).toFixed(0)}% of append)`;
}

async function benchRead(storage: Storage, readSize: number, cachedShare: number): Promise<void> {
  const size = READ_PAGES * PAGE;
  // The paged blob and a raw blob of the same logical bytes.
  const p = await fresh(storage);
  const capacity = Math.max(1, Math.round(READ_PAGES * cachedShare));
  const cache = new PageCache({ pageSize: PAGE, capacity });
  const writer = await PagedWriter.open(p.blob, p.size, { cache, bufferSize: WRITE_BUFFER });
  await writer.append(source.subarray(0, size));
  await writer.sync();
  const raw = await fresh(storage);
  for (let at = 0; at < size; at += MIB) {
    await raw.blob.writeAt(at, source.subarray(at, Math.min(at + MIB, size)));
  }
  await raw.blob.sync();
  // Warm: every page once, so the cache holds its share.
  const warm = new Uint8Array(PAGE);
  for (let page = 0; page < READ_PAGES; page++) await writer.readInto(warm, page * PAGE);
  const target = new Uint8Array(readSize);

  const paged: number[] = [];
  const base: number[] = [];
  const baseAt: number[] = [];
  const rng = new SeededRandom(readSize);
  const offsets = Array.from({ length: READS }, () => rng.below(size - readSize));
  for (let round = 0; round < ROUNDS; round++) {
    base.push(
      READS /
        await time(async () => {
          for (const o of offsets) await raw.blob.readAtBuf(o, readSize, target);
        }),
    );
    paged.push(
      READS /
        await time(async () => {
          for (const o of offsets) await writer.readInto(target, o);
        }),
    );
    baseAt.push(
      READS /
        await time(async () => {
          for (const o of offsets) await raw.blob.readAt(o, readSize);
        }),
    );
  }
  const label = cachedShare >= 1 ? "all cached" : "~1% misses";
  record(`read ${readSize} B, ${label}`, "readAtBuf", paged, base, "ops/s");
  record(`read ${readSize} B, ${label}`, "readAt", paged, baseAt, "ops/s");
  await p.blob.close();
  await raw.blob.close();
}

async function benchSync(storage: Storage, every: number, disk: boolean): Promise<void> {
  const records = disk ? (every === 1 ? 200 : 1600) : 20000;
  const rec = source.subarray(0, 256);
  const paged: number[] = [];
  const base: number[] = [];
  for (let round = 0; round < 3; round++) {
    const raw = await fresh(storage);
    base.push(
      records /
        await time(async () => {
          for (let i = 0; i < records; i++) {
            await raw.blob.writeAt(i * 256, rec);
            if ((i + 1) % every === 0) await raw.blob.sync();
          }
        }),
    );
    await raw.blob.close();
    const p = await fresh(storage);
    const cache = new PageCache({ pageSize: PAGE, capacity: 64 });
    const writer = await PagedWriter.open(p.blob, p.size, { cache, bufferSize: WRITE_BUFFER });
    paged.push(
      records /
        await time(async () => {
          for (let i = 0; i < records; i++) {
            await writer.append(rec);
            if ((i + 1) % every === 0) await writer.sync();
          }
        }),
    );
    await p.blob.close();
  }
  record(`append 256 B + sync every ${every}`, "writeAt + sync", paged, base, "records/s");
}

async function runStorage(label: string, make: () => { storage: Storage; cleanup(): void }) {
  const { storage, cleanup } = make();
  const disk = label !== "memory";
  const start = rows.length;
  try {
    for (const r of [64, 256, 1024, 4096]) await benchAppend(storage, r);
    await benchAppend(storage, 256, 64 << 10);
    await benchAppend(storage, 256, 1 << 20);
    for (const r of [64, 256, 1024, 4096]) await benchRead(storage, r, 0.99);
    for (const r of [256, 4096]) await benchRead(storage, r, 1);
    await benchSync(storage, 1, disk);
    await benchSync(storage, 16, disk);
  } finally {
    cleanup();
  }
  console.log(`\n### ${label} (${runtimeVersion()})\n`);
  console.log("| case | baseline | paged | baseline | paged ÷ baseline |");
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const row of rows.slice(start)) {
    const ratios = row.paged.map((x, i) => x / row.base[i]!);
    const fmt = (x: number) => x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(1);
    console.log(
      `| ${row.case} | ${row.raw} | ${fmt(median(row.paged))} ${row.unit} | ${
        fmt(median(row.base))
      } ${row.unit} | ${median(ratios).toFixed(2)} |`,
    );
  }
}

function tempStorage(make: (directory: string) => Storage) {
  return () => {
    const directory = mkdtempSync(join(tmpdir(), "blobrt-paged-bench-"));
    return { storage: make(directory), cleanup: () => rmSync(directory, { recursive: true }) };
  };
}

const pick = args()[0] ?? "all";
const drivers: [string, () => { storage: Storage; cleanup(): void }][] = [
  ["memory", () => ({ storage: new MemoryStorage(), cleanup: () => {} })],
  ["node", tempStorage((directory) => new NodeStorage({ directory }))],
];
if (runtime === "deno") {
  drivers.push([
    "deno",
    tempStorage((directory) => new DenoStorage({ directory })),
  ]);
}
if (runtime === "bun") {
  drivers.push([
    "bun",
    tempStorage((directory) => new BunStorage({ directory })),
  ]);
}
for (const [label, make] of drivers) {
  if (pick === "all" || pick === label) await runStorage(label, make);
}
