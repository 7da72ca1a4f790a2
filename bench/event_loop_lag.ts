/**
 * The event loop under blobrt, as a server sees it: the largest gap between
 * the callbacks of a 1 ms `setInterval` while (1) a 2 s awaited loop of
 * page-cached 4 KiB `readAt`s runs, (2) 64 MiB are written in 1 MiB awaited
 * writes, (3) one 64 MiB write is awaited; and, for the machine's own noise,
 * (4) while the process sleeps 2 s with nothing else to do. The read loop's
 * 99th percentile gap comes with its maximum. The default driver of the
 * runtime, in a temporary directory.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/event_loop_lag.ts
 * node_modules/.bin/bun bench/event_loop_lag.ts
 * node_modules/.bin/esbuild bench/event_loop_lag.ts --bundle --platform=node --format=esm \
 *   --outfile=/tmp/lag.mjs --log-level=warning && node /tmp/lag.mjs
 * ```
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage, DEFAULT_DRIVER } from "../mod.ts";
import { randomOffsets } from "./_offsets.ts";

const MIB = 1 << 20;

/** Runs `work` while a 1 ms interval records its gaps; returns the largest gap in ms. */
async function maxGap(work: () => Promise<void>): Promise<number> {
  return (await gaps(work)).at(-1)!;
}

/** Runs `work` while a 1 ms interval records its gaps; returns them in ms, smallest first. */
async function gaps(work: () => Promise<void>): Promise<number[]> {
  const seen: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    seen.push(now - last);
    last = now;
  }, 1);
  await work();
  clearInterval(timer);
  seen.push(performance.now() - last);
  return seen.sort((a, b) => a - b);
}

const dir = mkdtempSync(join(tmpdir(), "blobrt-lag-"));
try {
  const { blob } = await createStorage({ directory: dir }).open("p", "b");
  await blob.writeAt(0, new Uint8Array(16 * MIB).fill(1));
  const at = randomOffsets(1, (16 * MIB) / 4096, 4096);
  let reads = 0;
  const readGaps = await gaps(async () => {
    const start = performance.now();
    while (performance.now() - start < 2000) {
      await blob.readAt(at(), 4096);
      reads++;
    }
  });
  const readGap = readGaps.at(-1)!;
  const readP99 = readGaps[Math.floor(readGaps.length * 0.99)]!;
  const mib = new Uint8Array(MIB).fill(3);
  const writesGap = await maxGap(async () => {
    for (let i = 0; i < 64; i++) await blob.writeAt(16 * MIB + i * MIB, mib);
  });
  const big = new Uint8Array(64 * MIB).fill(5); // allocated before measuring
  const bigGap = await maxGap(() => blob.writeAt(80 * MIB, big));
  const idleGap = await maxGap(() => new Promise((resolve) => setTimeout(resolve, 2000)));
  await blob.close();
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : "node";
  console.log(
    `| ${runtime} (${DEFAULT_DRIVER}) | ${readGap.toFixed(1)}, p99 ${readP99.toFixed(1)} (${
      reads.toLocaleString("en")
    } reads) | ` +
      `${writesGap.toFixed(1)} | ${bigGap.toFixed(1)} | ${idleGap.toFixed(1)} |`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
