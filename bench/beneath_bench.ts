/**
 * What resolving beneath the root and the durable root chain cost (issue 20
 * item 5): per-call latency of `open` (an existing, already durable blob, then
 * close), `scan` (100 blobs), `remove` of a missing blob (`BlobMissing`: the
 * checks and the unlink, no fsync), create + remove (each with its fsyncs),
 * and a fresh storage's first `open` of an existing blob on an existing root
 * (the durable chain: root's parent, root, partition, file). Mean and median
 * µs per call, after a warm-up; one driver per run.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/beneath_bench.ts deno   # or node
 * node_modules/.bin/bun bench/beneath_bench.ts bun            # or node
 * ```
 *
 * @module
 */

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createStorage, type DriverName } from "../drivers/select.ts";
import type { Storage } from "../core/types.ts";

const driver = (process.argv.at(-1) ?? "node") as DriverName;
const top = fs.mkdtempSync(join(tmpdir(), "blobrt-beneath-bench-"));
const directory = join(top, "store");

/** Mean and median µs of `n` runs of `op` after `n / 10` warm-up runs. */
async function time(n: number, op: (i: number) => Promise<unknown>): Promise<string> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await op(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  return `mean ${mean.toFixed(1)} µs, median ${samples[n >> 1]!.toFixed(1)} µs`;
}

try {
  const storage: Storage = createStorage({ driver, directory });
  for (let i = 0; i < 100; i++) await (await storage.open("p", `blob-${i}`)).blob.close();
  const rows: [string, string][] = [];
  rows.push([
    "open + close, existing",
    await time(2000, async () => {
      await (await storage.open("p", "blob-0")).blob.close();
    }),
  ]);
  rows.push(["scan, 100 blobs", await time(1000, () => storage.scan("p"))]);
  rows.push([
    "remove, missing blob",
    await time(2000, () => storage.remove("p", "nope").catch(() => {})),
  ]);
  rows.push([
    "create + remove",
    await time(100, async (i) => {
      await (await storage.open("p", `new-${i}`)).blob.close();
      await storage.remove("p", `new-${i}`);
    }),
  ]);
  rows.push([
    "first open, fresh storage",
    await time(100, async () => {
      const fresh = createStorage({ driver, directory });
      await (await fresh.open("p", "blob-1")).blob.close();
    }),
  ]);
  for (const [name, result] of rows) console.log(`${driver}\t${name}\t${result}`);
} finally {
  fs.rmSync(top, { recursive: true, force: true });
}
