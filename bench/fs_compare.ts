/**
 * Filesystem drivers against the bare `node:fs` positional sync loop, in one
 * process and one run, on a page-cached file. Runs under Deno and Bun:
 *
 *   node_modules/.bin/deno run -A bench/fs_compare.ts
 *   node_modules/.bin/bun bench/fs_compare.ts
 *
 * Each case runs for a fixed time in several interleaved rounds (bare, driver,
 * bare, driver, …); the table shows the median ops/s of each, and the median of
 * the per-round ratios driver / bare (pairing rounds cancels most of the drift
 * of a noisy machine). Add `--json` for machine-readable output.
 */

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Blob, Storage } from "../mod.ts";
import { BunStorage } from "../drivers/bun.ts";
import { DenoStorage } from "../drivers/deno.ts";
import { NodeStorage } from "../drivers/node.ts";
import { detectRuntime } from "../core/_runtime.ts";
import {
  args,
  fmtOps,
  interleave,
  median,
  type Op,
  pairedRatio,
  runtimeVersion,
} from "./measure.ts";
import { randomOffsets } from "./_offsets.ts";

const runtime = detectRuntime();
const KIB4 = 4096;
const MIB = 1 << 20;
// Small enough to stay in the page cache on VMs that reclaim cold pages (DAMON).
const FILE = 16 * MIB;
const ROUNDS = 9;
const ROUND_MS = 200;

type Case = { name: string; bare: (fd: number) => Op; driver: (blob: Blob) => Op };

// Aligned, uniform over the file (bench/_offsets.ts).
const rand4k = randomOffsets(1, FILE / KIB4, KIB4);
let seq = 0;
const seq1m = (): number => (seq = (seq + MIB) % FILE);

const reused = new Uint8Array(KIB4);
const record = new Uint8Array(KIB4).fill(3);
const big = new Uint8Array(MIB).fill(5);
const bigTarget = new Uint8Array(MIB);

const cases: Case[] = [
  {
    name: "4 KiB random readAt",
    bare: (fd) => () => fs.readSync(fd, new Uint8Array(KIB4), 0, KIB4, 8 + rand4k()),
    driver: (blob) => () => blob.readAt(rand4k(), KIB4),
  },
  {
    name: "4 KiB random readAtBuf (reused buffer)",
    bare: (fd) => () => fs.readSync(fd, reused, 0, KIB4, 8 + rand4k()),
    driver: (blob) => () => blob.readAtBuf(rand4k(), KIB4, reused),
  },
  {
    name: "4 KiB random writeAt",
    bare: (fd) => () => fs.writeSync(fd, record, 0, KIB4, 8 + rand4k()),
    driver: (blob) => () => blob.writeAt(rand4k(), record),
  },
  {
    name: "1 MiB sequential readAt",
    bare: (fd) => () => fs.readSync(fd, new Uint8Array(MIB), 0, MIB, 8 + seq1m()),
    driver: (blob) => () => blob.readAt(seq1m(), MIB),
  },
  {
    name: "1 MiB sequential readAtBuf (reused buffer)",
    bare: (fd) => () => fs.readSync(fd, bigTarget, 0, MIB, 8 + seq1m()),
    driver: (blob) => () => blob.readAtBuf(seq1m(), MIB, bigTarget),
  },
  {
    name: "1 MiB sequential writeAt",
    bare: (fd) => () => fs.writeSync(fd, big, 0, MIB, 8 + seq1m()),
    driver: (blob) => () => blob.writeAt(seq1m(), big),
  },
];

const drivers: [string, (directory: string) => Storage][] = [[
  "NodeStorage",
  (d) => new NodeStorage({ directory: d }),
]];
if (runtime === "deno") drivers.unshift(["DenoStorage", (d) => new DenoStorage({ directory: d })]);
if (runtime === "bun") drivers.unshift(["BunStorage", (d) => new BunStorage({ directory: d })]);

const dir = fs.mkdtempSync(join(tmpdir(), "blobrt-bench-"));
const results: {
  case: string;
  driver: string;
  bare: number;
  bareAwait: number;
  ops: number;
  ratio: number;
  ratioAwait: number;
}[] = [];
try {
  for (const [driverName, make] of drivers) {
    const storage = make(dir);
    const { blob } = await storage.open("bench", driverName);
    await blob.writeAt(0, new Uint8Array(FILE).fill(1));
    await blob.sync();
    const fd = fs.openSync(
      join(
        dir,
        "bench",
        Array.from(new TextEncoder().encode(driverName), (b) => b.toString(16).padStart(2, "0"))
          .join(""),
      ),
      "r+",
    );
    for (const c of cases) {
      const bareOp = c.bare(fd);
      // The same bare call behind one promise: the floor of any promise-returning API.
      const bareAwaitOp = async () => bareOp();
      const driverOp = c.driver(blob);
      const runs = await interleave([bareOp, bareAwaitOp, driverOp], ROUNDS, ROUND_MS);
      results.push({
        case: c.name,
        driver: driverName,
        bare: median(runs[0]),
        bareAwait: median(runs[1]),
        ops: median(runs[2]),
        ratio: pairedRatio(runs[2], runs[0]),
        ratioAwait: pairedRatio(runs[2], runs[1]),
      });
    }
    fs.closeSync(fd);
    await blob.close();
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

if (args().includes("--json")) {
  console.log(JSON.stringify({ runtime, results }, null, 2));
} else {
  console.log(`\n${runtimeVersion()}: medians of ${ROUNDS} paired ${ROUND_MS} ms rounds\n`);
  console.log(
    "| case | driver | bare ops/s | bare + await ops/s | driver ops/s | driver / bare | driver / (bare + await) |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    const cells = [r.case, r.driver, fmtOps(r.bare), fmtOps(r.bareAwait), fmtOps(r.ops)];
    console.log(`| ${cells.join(" | ")} | ${r.ratio.toFixed(2)} | ${r.ratioAwait.toFixed(2)} |`);
  }
}
