/**
 * blobrt against the bare `node:fs` positional call and the npm peers users
 * would otherwise pick (`random-access-file`, `random-access-memory`), on this
 * runtime, in one process. Prints one JSON object; `npm run bench:compare`
 * (bench/compare_run.mjs) runs it under Deno and Bun and prints the tables.
 *
 *   node_modules/.bin/deno run -A bench/compare.ts [--no-raf] [--dir PATH]
 *   node_modules/.bin/bun bench/compare.ts [--no-raf] [--dir PATH]
 *   ... --probe [--addon]   exit 0 if random-access-file loads and reads and
 *                           writes (with --addon: also its native lock/sparse/trim)
 *
 * Every workload runs its contenders in 9 interleaved 200 ms rounds (see
 * bench/measure.ts); ops/s are medians, ratios medians of per-round ratios.
 * The page-cached file is 16 MiB in a temporary directory, removed at the end.
 *
 * @module
 */

import * as fs from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createStorage, DEFAULT_DRIVER, type DriverName } from "../drivers/select.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { detectRuntime } from "../core/_runtime.ts";
import type { Blob } from "../core/types.ts";
import { args, interleave, median, type Op, pairedRatio, runtimeVersion } from "./measure.ts";
import { distinctSlots, randomOffsets } from "./_offsets.ts";

/** The callback API of random-access-storage (random-access-file, random-access-memory). */
interface RandomAccess {
  read(offset: number, size: number, cb: (err: Error | null, data?: Uint8Array) => void): void;
  write(offset: number, data: Uint8Array, cb: (err: Error | null) => void): void;
  del(offset: number, size: number, cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
}
type RandomAccessClass = new (arg?: unknown, opts?: object) => RandomAccess;

const require = createRequire(import.meta.url);
const KIB = 1024;
const MIB = KIB * KIB;
const FILE = 16 * MIB; // stays page-cached on this VM (it reclaims cold page cache)
const ROUNDS = 9;
const ROUND_MS = 200;
const argv = args();
// `--only TEXT`: run only the workloads whose name contains TEXT (for profiling).
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : undefined;

const call = <T = void>(f: (cb: (err: Error | null, v?: T) => void) => void): Promise<T> =>
  new Promise((ok, fail) => f((err, v) => err ? fail(err) : ok(v as T)));

// `--dir PATH`: where to make the temporary directory (the runner passes one it
// removes afterwards, so even a crashed probe leaves nothing behind).
const parent = argv.includes("--dir") ? argv[argv.indexOf("--dir") + 1] : tmpdir();
const dir = fs.mkdtempSync(join(parent, "blobrt-compare-"));
const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

if (argv.includes("--probe")) {
  try {
    const RAF: RandomAccessClass = require("random-access-file");
    const opts = argv.includes("--addon") ? { lock: true, sparse: true } : {};
    const f = new RAF(join(dir, "probe"), opts);
    await call((cb) => f.write(0, new Uint8Array(8192).fill(1), cb));
    const got = await call<Uint8Array>((cb) => f.read(4096, 4096, cb));
    if (got.length !== 4096 || got[0] !== 1) throw new Error("read back wrong bytes");
    if (argv.includes("--addon")) await call((cb) => f.del(0, 4096, cb));
    await call((cb) => f.close(cb));
  } finally {
    cleanup();
  }
  console.log("ok");
  process.exit(0);
}

/** One contender of a workload. */
interface Contender {
  name: string;
  role: "bare" | "driver" | "default" | "peer" | "reference";
  op: Op;
}
/** One row of the output: a contender's median ops/s and its ratios. */
interface Row {
  workload: string;
  name: string;
  role: Contender["role"];
  ops: number;
  vsBare: number;
  vsPeer: number | null;
}
/** A target check: `value` against `limit` (`≥` or `≤`). */
interface Target {
  target: string;
  workload: string;
  value: number;
  op: "≥" | "≤";
  limit: number;
  met: boolean;
}

const rows: Row[] = [];
const targets: Target[] = [];
/** Records `median(runs[a] / runs[b])` against `limit` (nothing when the workload was skipped). */
function target(
  t: string,
  workload: string,
  runs: Map<string, number[]>,
  [a, b]: [string, string],
  op: "≥" | "≤",
  limit: number,
): void {
  if (!runs.has(a) || !runs.has(b)) return;
  const value = pairedRatio(runs.get(a)!, runs.get(b)!);
  targets.push({
    target: t,
    workload,
    value,
    op,
    limit,
    met: op === "≥" ? value >= limit : value <= limit,
  });
}

/** Runs one workload; the first contender is the bare baseline. Returns per-round ops/s. */
async function run(workload: string, contenders: Contender[]): Promise<Map<string, number[]>> {
  if (only !== undefined && !workload.includes(only)) return new Map();
  console.error(`${runtimeVersion()}: ${workload}`);
  const runs = await interleave(contenders.map((c) => c.op), ROUNDS, ROUND_MS);
  const peer = contenders.findIndex((c) => c.role === "peer");
  contenders.forEach((c, i) =>
    rows.push({
      workload,
      name: c.name,
      role: c.role,
      ops: median(runs[i]),
      vsBare: pairedRatio(runs[i], runs[0]),
      vsPeer: peer < 0 ? null : pairedRatio(runs[i], runs[peer]),
    })
  );
  return new Map(contenders.map((c, i) => [c.name, runs[i]]));
}

const runtime = detectRuntime();
const useRaf = !argv.includes("--no-raf");
const names: Record<DriverName, string> = {
  node: "NodeStorage",
  bun: "BunStorage",
  deno: "DenoStorage",
  memory: "MemoryStorage",
};
const driverNames: DriverName[] = runtime === "bun" ? ["bun", "node"] : ["node", "deno"];
const label = (d: DriverName) => `${names[d]}${d === DEFAULT_DRIVER ? " (default)" : ""}`;
const role = (d: DriverName) => d === DEFAULT_DRIVER ? "default" as const : "driver" as const;

// Random offsets from SeededRandom (bench/_offsets.ts): 4 KiB and 64 KiB slots of the 16 MiB
// file (and of the 16 MiB memory blob). Sanity line: the slots 40,000 draws of the main workload
// touch (4,096 of 4,096; the old LCG touched 159 and then cycled).
const rand4k = randomOffsets(1, FILE / (4 * KIB), 4 * KIB);
const rand64k = randomOffsets(2, FILE / (64 * KIB), 64 * KIB);
console.error(
  `${runtimeVersion()}: 4 KiB random offsets touch ${
    distinctSlots(1, FILE / (4 * KIB), 40_000)
  } of ${FILE / (4 * KIB)} slots in 40,000 draws`,
);
let cursor = 0;
const seq1m = (): number => (cursor = (cursor + MIB) % FILE);

try {
  // One file for every read and overwrite contender: the same page cache for all.
  const storages = driverNames.map((d) => createStorage({ directory: dir, driver: d }));
  const blobs: Blob[] = [];
  for (const s of storages) {
    blobs.push((await s.open("bench", "data")).blob);
    // Fill through the first handle; the others open the filled file.
    if (blobs.length === 1) await blobs[0].writeAt(0, new Uint8Array(FILE).fill(1), { sync: true });
  }
  const path = join(dir, "bench", "64617461"); // hex of "data"
  const fd = fs.openSync(path, "r+");
  const RAF: RandomAccessClass | undefined = useRaf ? require("random-access-file") : undefined;
  const raf = RAF && new RAF(path);

  const fsWorkloads: [string, number, () => number, "read" | "write"][] = [
    ["4 KiB random read", 4 * KIB, rand4k, "read"],
    ["4 KiB random write", 4 * KIB, rand4k, "write"],
    ["1 MiB sequential read", MIB, seq1m, "read"],
    ["1 MiB sequential write", MIB, seq1m, "write"],
  ];
  for (const [workload, size, at, kind] of fsWorkloads) {
    const data = new Uint8Array(size).fill(7);
    const reused = new Uint8Array(size);
    const contenders: Contender[] = kind === "read"
      ? [
        {
          name: "node:fs readSync (bare)",
          role: "bare",
          op: () => fs.readSync(fd, new Uint8Array(size), 0, size, 8 + at()),
        },
        ...driverNames.map((d, i) => ({
          name: label(d),
          role: role(d),
          op: () => blobs[i].readAt(at(), size),
        })),
        {
          name: `${label(DEFAULT_DRIVER)} readAtBuf, reused buffer`,
          role: "reference",
          op: () => blobs[0].readAtBuf(at(), size, reused),
        },
      ]
      : [
        {
          name: "node:fs writeSync (bare)",
          role: "bare",
          op: () => fs.writeSync(fd, data, 0, size, 8 + at()),
        },
        ...driverNames.map((d, i) => ({
          name: label(d),
          role: role(d),
          op: () => blobs[i].writeAt(at(), data),
        })),
      ];
    if (raf) {
      contenders.push({
        name: "random-access-file",
        role: "peer",
        op: kind === "read"
          ? () => call<Uint8Array>((cb) => raf.read(8 + at(), size, cb))
          : () => call((cb) => raf.write(8 + at(), data, cb)),
      });
    }
    const runs = await run(workload, contenders);
    const pair: [string, string] = [label(DEFAULT_DRIVER), "random-access-file"];
    target("default driver ÷ random-access-file", workload, runs, pair, "≥", 10);
  }

  // write_sync: a 4 KiB append made durable, each contender on a file of its own.
  {
    const workload = "4 KiB append + sync (write_sync)";
    const record = new Uint8Array(4 * KIB).fill(3);
    const file = (name: string) => fs.openSync(join(dir, name), "w+");
    const [bareFd, bareSyncFd] = [file("sync-bare"), file("sync-bare-sync")];
    let [a, b] = [0, 0];
    const contenders: Contender[] = [
      {
        name: "node:fs writeSync + fdatasync (bare)",
        role: "bare",
        op: () => {
          fs.writeSync(bareFd, record, 0, record.length, a += record.length);
          return call((cb) => fs.fdatasync(bareFd, cb));
        },
      },
      {
        name: "node:fs writeSync + fdatasyncSync",
        role: "reference",
        op: () => {
          fs.writeSync(bareSyncFd, record, 0, record.length, b += record.length);
          fs.fdatasyncSync(bareSyncFd);
        },
      },
    ];
    for (const [i, d] of driverNames.entries()) {
      const blob = (await storages[i].open("bench", `sync-${d}`)).blob;
      let pos = 0;
      contenders.push({
        name: `${label(d)} writeAt + sync()`,
        role: role(d),
        op: async () => {
          await blob.writeAt(pos += record.length, record);
          await blob.sync();
        },
      });
    }
    const runs = await run(workload, contenders);
    const pair: [string, string] = [
      contenders[0].name,
      `${label(DEFAULT_DRIVER)} writeAt + sync()`,
    ];
    target("default driver time ÷ bare write + fs.fdatasync", workload, runs, pair, "≤", 1.1);
    fs.closeSync(bareFd);
    fs.closeSync(bareSyncFd);
  }

  // Vectored: 64 KiB as one buffer against 1024 chunks of 64 B.
  {
    const workload = "64 KiB write: one buffer vs 1024 × 64 B";
    const N = 64 * KIB;
    const one = new Uint8Array(N).fill(9);
    const many = Array.from({ length: 1024 }, (_, i) => one.subarray(i * 64, (i + 1) * 64));
    const contenders: Contender[] = [
      {
        name: "node:fs writeSync, one buffer (bare)",
        role: "bare",
        op: () => fs.writeSync(fd, one, 0, N, 8 + rand64k()),
      },
      {
        name: "node:fs writevSync, 1024 chunks",
        role: "reference",
        op: () => fs.writevSync(fd, many, 8 + rand64k()),
      },
    ];
    for (const [i, d] of driverNames.entries()) {
      contenders.push(
        {
          name: `${label(d)}, one buffer`,
          role: role(d),
          op: () => blobs[i].writeAt(rand64k(), one),
        },
        {
          name: `${label(d)}, 1024 chunks`,
          role: role(d),
          op: () => blobs[i].writeAt(rand64k(), many),
        },
      );
    }
    const runs = await run(workload, contenders);
    for (const d of driverNames) {
      const pair: [string, string] = [`${label(d)}, one buffer`, `${label(d)}, 1024 chunks`];
      target(
        `${names[d]}: 1024-chunk write time ÷ one-buffer write`,
        workload,
        runs,
        pair,
        "≤",
        1.5,
      );
    }
  }
  fs.closeSync(fd);
  if (raf) await call((cb) => raf.close(cb));
  for (const blob of blobs) await blob.close();

  // Memory: 4 KiB random reads and writes in a 16 MiB blob.
  const RAM: RandomAccessClass = require("random-access-memory");
  const ram = new RAM();
  const raw = new Uint8Array(FILE); // the bare store: no header, so 4 KiB-aligned
  const mem = (await new MemoryStorage().open("bench", "data")).blob;
  await mem.writeAt(0, new Uint8Array(FILE).fill(1));
  await call((cb) => ram.write(0, new Uint8Array(FILE).fill(1), cb));
  const record = new Uint8Array(4 * KIB).fill(7);
  const size = record.length;
  const reused = new Uint8Array(size);
  let o = 0;
  for (const kind of ["read", "write"] as const) {
    const workload = `memory 4 KiB random ${kind}`;
    const contenders: Contender[] = kind === "read"
      ? [
        {
          name: "Uint8Array slice (bare)",
          role: "bare",
          op: () => (o = rand4k(), raw.slice(o, o + size)),
        },
        { name: "MemoryStorage", role: "default", op: () => mem.readAt(rand4k(), size) },
        {
          name: "MemoryStorage readAtBuf, reused buffer",
          role: "reference",
          op: () => mem.readAtBuf(rand4k(), size, reused),
        },
        {
          name: "random-access-memory",
          role: "peer",
          op: () => call<Uint8Array>((cb) => ram.read(rand4k(), size, cb)),
        },
      ]
      : [
        { name: "Uint8Array set (bare)", role: "bare", op: () => raw.set(record, rand4k()) },
        { name: "MemoryStorage", role: "default", op: () => mem.writeAt(rand4k(), record) },
        {
          name: "random-access-memory",
          role: "peer",
          op: () => call((cb) => ram.write(rand4k(), record, cb)),
        },
      ];
    const runs = await run(workload, contenders);
    const pair: [string, string] = ["MemoryStorage", "random-access-memory"];
    target("MemoryStorage ÷ random-access-memory", workload, runs, pair, "≥", 2);
  }
} finally {
  cleanup();
}

console.log(JSON.stringify({ runtime: runtimeVersion(), raf: useRaf, rows, targets }));
