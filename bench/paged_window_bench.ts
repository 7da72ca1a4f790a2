/**
 * What the unsynced window of `PagedWriter` (issue 20.1) costs: appends with
 * no sync, with syncs more often than the window and less often, and the
 * time `PagedWriter.open` takes on a large blob. Page size 4084, the default
 * 64 KiB write buffer, 4 KiB records, `NodeStorage` over a temporary
 * directory (or `MemoryStorage` with `memory`). Prints medians of
 * interleaved rounds; run it on two commits to compare.
 *
 *   node_modules/.bin/deno run -A bench/paged_window_bench.ts [node|memory]
 *   node_modules/.bin/bun bench/paged_window_bench.ts [node|memory]
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Storage } from "../mod.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { NodeStorage } from "../drivers/node.ts";
import { SeededRandom } from "../core/random.ts";
import { PageCache } from "../buffer/page_cache.ts";
import { PagedWriter } from "../buffer/paged_writer.ts";
import { args, median, runtimeVersion } from "./measure.ts";

const PAGE = PageCache.pageSizeFor(4096);
const MIB = 1 << 20;
const APPEND_BYTES = 32 * MIB;
const RECORD = 4096;
const OPEN_BYTES = 256 * MIB;
const ROUNDS = 5;
const OPENS = 20;

const source = new Uint8Array(APPEND_BYTES);
{
  const rng = new SeededRandom(3);
  for (let i = 0; i < source.length; i += 4) {
    const x = rng.nextUint32();
    source[i] = x;
    source[i + 1] = x >>> 8;
    source[i + 2] = x >>> 16;
    source[i + 3] = x >>> 24;
  }
}

let counter = 0;

/** MiB/s of appending `APPEND_BYTES` in records, syncing every `every` bytes (0: at the end only). */
async function append(storage: Storage, every: number): Promise<number> {
  const { blob, size } = await storage.open("bench", `a${counter++}`);
  const writer = await PagedWriter.open(blob, size, {
    cache: new PageCache({ pageSize: PAGE, capacity: 64 }),
  });
  const t0 = performance.now();
  let unsynced = 0;
  for (let at = 0; at < APPEND_BYTES; at += RECORD) {
    await writer.append(source.subarray(at, at + RECORD));
    unsynced += RECORD;
    if (every > 0 && unsynced >= every) {
      await writer.sync();
      unsynced = 0;
    }
  }
  await writer.sync();
  const seconds = (performance.now() - t0) / 1000;
  await blob.close();
  return APPEND_BYTES / MIB / seconds;
}

/** Median milliseconds of `PagedWriter.open` on a synced blob of `OPEN_BYTES` logical bytes. */
async function openTime(storage: Storage): Promise<number> {
  const name = `o${counter++}`;
  {
    const { blob, size } = await storage.open("bench", name);
    const writer = await PagedWriter.open(blob, size, {
      cache: new PageCache({ pageSize: PAGE, capacity: 64 }),
    });
    for (let at = 0; at < OPEN_BYTES; at += APPEND_BYTES) await writer.append(source);
    await writer.append(source.subarray(0, 100)); // a partial last page
    await writer.sync();
    await blob.close();
  }
  const times: number[] = [];
  for (let i = 0; i < OPENS; i++) {
    const { blob, size } = await storage.open("bench", name);
    const t0 = performance.now();
    const writer = await PagedWriter.open(blob, size, {
      cache: new PageCache({ pageSize: PAGE, capacity: 64 }),
    });
    times.push(performance.now() - t0);
    if (writer.size !== OPEN_BYTES + 100) throw new Error(`opened at ${writer.size}`);
    await blob.close();
  }
  return median(times);
}

const which = args()[0] ?? "node";
const directory = mkdtempSync(join(tmpdir(), "blobrt-window-"));
const storage: Storage = which === "memory" ? new MemoryStorage() : new NodeStorage({ directory });
try {
  const cases: [string, number][] = [
    ["no sync until the end", 0],
    ["sync every 256 KiB", 256 * 1024],
    ["sync every 4 MiB", 4 * MIB],
  ];
  const results = new Map<string, number[]>(cases.map(([label]) => [label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, every] of cases) results.get(label)!.push(await append(storage, every));
  }
  console.log(
    `${runtimeVersion()}, ${which}, page ${PAGE}, ${APPEND_BYTES / MIB} MiB of 4 KiB appends`,
  );
  for (const [label] of cases) {
    console.log(`append, ${label}: ${median(results.get(label)!).toFixed(0)} MiB/s`);
  }
  console.log(
    `open of a ${OPEN_BYTES / MIB} MiB blob: ${
      (await openTime(storage)).toFixed(2)
    } ms (median of ${OPENS})`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
}
