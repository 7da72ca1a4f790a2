/**
 * The workload harness: commonware-runtime's storage workloads against any
 * blobrt driver, under Deno or Bun, with the event loop's lag while each runs
 * and, in the same process, anchors that do the same operations without blobrt.
 *
 * ```sh
 * deno run -A cli/workload.ts [options]
 * bun cli/workload.ts [options]
 * ```
 *
 * Options (defaults in brackets):
 *   --workload NAME   read_seq | read_rand | write_seq | write_rand | write_append |
 *                     write_sync | read_write_append | all   [all]
 *   --driver NAME     default | node | deno | bun | memory     [default]
 *   --io-size N       bytes per operation                      [4096]
 *   --inflight N      operations in flight at once             [1]
 *   --file-size N     bytes in the blob (reads, random writes) [64 MiB]
 *   --duration S      seconds per workload                     [2]
 *   --dir PATH        where to put the temporary directory     [os tmpdir]
 *   --cache MODE      warm | cold                              [warm]
 *   --anchors, --no-anchors
 *                     run the anchors after read_rand, read_seq and
 *                     write_rand                               [on]
 *   --json            print one JSON object instead of a table
 *
 * Values can also be given as `--name=value`.
 *
 * It reports ops/s, MiB/s and p50/p95/p99 latency per workload, and the event
 * loop's lag while it ran: a 1 ms `setInterval` records the gaps between its
 * callbacks, and `lag max` / `lag p99` are the longest gap and the 99th
 * percentile, in ms (about 1 ms when nothing blocks the loop; the harness
 * itself steps out to the loop every 250 ms, which bounds what it can show).
 *
 * `--cache cold` evicts the blob's pages from the page cache after writing and
 * syncing its data, before the measured run (and again before each anchor's):
 * with `posix_fadvise(POSIX_FADV_DONTNEED)` through FFI (Bun; Deno with
 * `--allow-ffi`), else, as root, by writing 1 to `/proc/sys/vm/drop_caches`
 * (after an fsync); otherwise it refuses (exit 2). Pages read during the run
 * come back into the cache, so with `posix_fadvise` the read workloads evict
 * again while they run, outside the operations' latencies and running time:
 * read_rand after every 1/64 of the file's slots, read_seq each time it wraps
 * around (the count is `reevictions` in the JSON). With `drop_caches` (which
 * empties the whole machine's page cache) it evicts only before each run, so a
 * run stays cold only while it touches a small part of the file: the default
 * 64 MiB file with 4 KiB random reads is fine for 1–2 s at one operation in
 * flight; with many in flight, give a larger `--file-size`. The table notes a
 * cold run that read over half of the file without evicting again.
 *
 * Anchors (`--anchors`, the default; `--no-anchors` skips them) run after
 * blobrt's read_rand, read_seq and write_rand, on the same file with the same
 * offsets and as many operations in flight (see `cli/_anchors.ts`): the bare
 * `node:fs` sync loop, `fs.promises` with one FileHandle per operation in
 * flight, and `random-access-file` ("n/a" with the reason where it does not
 * load or work). A second table gives their ops/s and blobrt ÷ anchor (above
 * 1: blobrt is faster). They are skipped on the memory driver.
 *
 * It shows progress on stderr during long runs, and removes its files on exit,
 * also on Ctrl-C.
 *
 * @module
 */

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createStorage, DEFAULT_DRIVER, type DriverName } from "../drivers/select.ts";
import { detectRuntime } from "../core/_runtime.ts";
import { blobNameBytes, toHex } from "../core/names.ts";
import { SeededRandom } from "../core/random.ts";
import { loadLibc } from "../fs/_libc.ts";
import { parseCommandLine, UsageError } from "./args.ts";
import {
  type Anchor,
  type AnchorName,
  type AnchorResult,
  ANCHORS,
  anchorTable,
  type Io,
  runAnchor,
} from "./_anchors.ts";
import { type Lag, measure } from "./_lag.ts";

/** The workloads, as in commonware-runtime's storage benchmark. */
export const WORKLOADS = [
  "read_seq",
  "read_rand",
  "write_seq",
  "write_rand",
  "write_append",
  "write_sync",
  "read_write_append",
] as const;

/** One workload's name. */
export type Workload = typeof WORKLOADS[number];

/** The workloads that get anchors (when `anchors` is on). */
export const ANCHORED: readonly Workload[] = ["read_rand", "read_seq", "write_rand"];

export type { AnchorName, AnchorResult };

/** Whether the page cache holds the file when the measured run starts. */
export type CacheMode = "warm" | "cold";

/** How `--cache cold` evicts a file's pages. */
export type EvictionMethod = "posix_fadvise" | "drop_caches";

/** Options of {@linkcode runWorkload}. */
export interface WorkloadOptions {
  /** Driver to use. */
  driver: DriverName;
  /** Bytes per operation. */
  ioSize: number;
  /** Operations in flight at once. */
  inflight: number;
  /** Bytes in the blob for reads and random writes. */
  fileSize: number;
  /** Milliseconds to run. */
  durationMs: number;
  /** Parent of the temporary directory. */
  dir: string;
  /** `"cold"`: evict the file's pages before the measured run(s); default `"warm"`. */
  cache?: CacheMode;
  /** Run the anchors after the workloads in {@linkcode ANCHORED}; default false. */
  anchors?: boolean;
  /** Called about once a second with the operations done so far. */
  progress?: (done: number, elapsedMs: number) => void;
  /** Called before each anchor runs. */
  onAnchor?: (anchor: Anchor) => void;
}

/** The outcome of one workload. */
export interface WorkloadResult extends Lag {
  /** Which workload. */
  workload: Workload;
  /** Which driver. */
  driver: DriverName;
  /** The cache mode. */
  cache: CacheMode;
  /** How the pages were evicted for a cold run; `null` when warm. */
  eviction: EvictionMethod | null;
  /** How many times a cold run evicted the pages again while it ran (see `--cache`). */
  reevictions: number;
  /** Operations completed. */
  ops: number;
  /** Operations per second. */
  opsPerSec: number;
  /** MiB per second. */
  mibPerSec: number;
  /** Latency percentiles, microseconds. */
  p50: number;
  /** 95th percentile, microseconds. */
  p95: number;
  /** 99th percentile, microseconds. */
  p99: number;
  /** The anchors, for the workloads in {@linkcode ANCHORED} when asked for. */
  anchors?: AnchorResult[];
}

const MIB = 1024 * 1024;
const PARTITION = "bench";
const DROP_CACHES = "/proc/sys/vm/drop_caches";

/** The `p`th percentile (0..100) of sorted latencies; 0 when there are none. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Evicts a file's pages from the page cache (see {@linkcode evictionMethod}). */
export interface Evictor {
  /** How. */
  method: EvictionMethod;
  /** Syncs the file (only clean pages can be dropped) and evicts its pages. */
  evict(path: string): void;
  /**
   * With `posix_fadvise` only: keeps `path` open and gives a hook for the
   * measured loop that evicts its pages again every `every` operations (no
   * sync: for read workloads), returning the milliseconds it took.
   */
  keep?(path: string, every: number): { between(): number; times(): number; close(): void };
}

/**
 * How this process can evict a file's pages, or why it cannot.
 *
 * @returns `posix_fadvise` where FFI is allowed, else `drop_caches` as root,
 *   else the reason (naming both ways).
 */
export async function evictionMethod(): Promise<Evictor | { method: null; reason: string }> {
  const libc = await loadLibc();
  const uid = (process as { getuid?: () => number }).getuid?.();
  let root = false;
  let why = uid === 0 ? "" : ` (running as uid ${uid ?? "unknown"})`;
  try {
    fs.accessSync(DROP_CACHES, fs.constants.W_OK);
    root = uid === 0;
  } catch (e) {
    if (uid === 0) why = ` (as root here: ${(e as Error).message.split("\n")[0]})`;
  }
  const withFile = (path: string, f: (fd: number) => void) => {
    const fd = fs.openSync(path, "r");
    try {
      fs.fsyncSync(fd); // dirty pages (after write_rand) are not dropped
      f(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  if (libc !== undefined) {
    const fadvise = (fd: number, path: string) => {
      const rc = libc.fadviseDontNeed(fd);
      if (rc !== 0) throw new Error(`posix_fadvise(DONTNEED) failed (${rc}) on ${path}`);
    };
    return {
      method: "posix_fadvise",
      evict: (path) => withFile(path, (fd) => fadvise(fd, path)),
      keep(path, every) {
        const fd = fs.openSync(path, "r");
        let ops = 0;
        let times = 0;
        return {
          between() {
            if (++ops % every !== 0) return 0;
            const t = performance.now();
            fadvise(fd, path);
            times++;
            return performance.now() - t;
          },
          times: () => times,
          close: () => fs.closeSync(fd),
        };
      },
    };
  }
  if (root) {
    return {
      method: "drop_caches",
      evict: (path) => withFile(path, () => fs.writeFileSync(DROP_CACHES, "1")),
    };
  }
  return {
    method: null,
    reason: "--cache cold cannot evict pages here: it needs posix_fadvise through FFI " +
      `(Bun, or Deno with --allow-ffi) or root to write 1 to /proc/sys/vm/drop_caches${why}`,
  };
}

/**
 * How often a cold run evicts again while it runs, in operations (0: never):
 * read_seq when it wraps around to the file's start, read_rand after reading
 * 1/64 of the file's slots (a read of a 4 KiB slot after the 8-byte header
 * brings in two pages, and the kernel reads ahead around cached neighbours,
 * so the file warms faster than the count of reads suggests).
 */
function reevictEvery(workload: Workload, slots: number): number {
  if (workload === "read_seq") return slots;
  if (workload === "read_rand") return Math.max(16, Math.floor(slots / 64));
  return 0;
}

/**
 * Runs one workload on a fresh temporary directory and removes it afterwards;
 * with `anchors`, also runs the anchors on the same file (workloads in
 * {@linkcode ANCHORED} on a filesystem driver).
 *
 * @param workload Which workload.
 * @param o Options.
 * @returns Throughput, latency, event-loop lag, and the anchors' results.
 * @throws {RangeError} For `cache: "cold"` on the memory driver.
 * @throws {Error} For `cache: "cold"` where pages cannot be evicted.
 */
export async function runWorkload(workload: Workload, o: WorkloadOptions): Promise<WorkloadResult> {
  const cache = o.cache ?? "warm";
  if (cache === "cold" && o.driver === "memory") {
    throw new RangeError("--cache cold needs a filesystem driver, not memory");
  }
  let evictor: Evictor | undefined;
  if (cache === "cold") {
    const how = await evictionMethod();
    if (how.method === null) throw new Error(how.reason);
    evictor = how;
  }
  const dir = fs.mkdtempSync(join(o.dir, "blobrt-workload-"));
  cleanup.add(dir);
  try {
    const storage = createStorage({ directory: dir, driver: o.driver });
    const { blob } = await storage.open(PARTITION, workload);
    const path = join(dir, PARTITION, toHex(blobNameBytes(workload)));
    const slots = Math.max(1, Math.floor(o.fileSize / o.ioSize));
    const needsData = workload.startsWith("read") || workload === "write_rand";
    if (needsData) {
      const chunk = new Uint8Array(Math.min(MIB, slots * o.ioSize)).fill(0xab);
      for (let at = 0; at < slots * o.ioSize; at += chunk.length) {
        await blob.writeAt(at, chunk.subarray(0, Math.min(chunk.length, slots * o.ioSize - at)));
      }
      await blob.sync();
    }
    // Runs the workload's workers over `ioOf` (cold: on a freshly evicted file).
    let reevictions = 0;
    const run = async (ioOf: (w: number) => Io, progress?: WorkloadOptions["progress"]) => {
      evictor?.evict(path);
      const every = reevictEvery(workload, slots);
      const keeper = every > 0 ? evictor?.keep?.(path, every) : undefined;
      try {
        return await measure(
          operation(workload, ioOf, o.ioSize, slots),
          o,
          progress,
          keeper?.between,
        );
      } finally {
        reevictions = keeper?.times() ?? 0;
        keeper?.close();
      }
    };
    const io: Io = {
      read: (p, n) => blob.readAt(p, n),
      write: (p, d) => blob.writeAt(p, d),
      sync: () => blob.sync(),
    };
    const measured = await run(() => io, o.progress);
    await blob.close();
    const result: WorkloadResult = {
      workload,
      driver: o.driver,
      cache,
      eviction: evictor?.method ?? null,
      reevictions,
      ops: measured.done,
      opsPerSec: measured.done / measured.elapsed,
      mibPerSec: (measured.done * o.ioSize) / MIB / measured.elapsed,
      p50: percentile(measured.sorted, 50),
      p95: percentile(measured.sorted, 95),
      p99: percentile(measured.sorted, 99),
      ...measured.lag,
    };
    if (o.anchors && ANCHORED.includes(workload) && o.driver !== "memory") {
      result.anchors = [];
      // Where logical offset 0 is in the file, whatever the header's layout.
      const base = fs.statSync(path).size - slots * o.ioSize;
      for (const anchor of ANCHORS) {
        o.onAnchor?.(anchor);
        result.anchors.push(await runAnchor(anchor, path, base, o, result.opsPerSec, run));
      }
    }
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    cleanup.delete(dir);
  }
}

/** Builds, per worker, a function that performs one operation of the workload. */
function operation(
  workload: Workload,
  ioOf: (worker: number) => Io,
  size: number,
  slots: number,
): (worker: number) => () => Promise<unknown> {
  const data = new Uint8Array(size).fill(0x5a);
  let next = 0; // shared cursor: sequential and append workloads advance it together
  let appended = 0;
  switch (workload) {
    case "read_seq":
      return (w) => {
        const io = ioOf(w);
        return () => io.read((next++ % slots) * size, size);
      };
    case "read_rand":
      return (w) => {
        const io = ioOf(w);
        const rng = new SeededRandom(w + 1);
        return () => io.read(rng.below(slots) * size, size);
      };
    case "write_seq":
      return (w) => {
        const io = ioOf(w);
        return () => io.write((next++ % slots) * size, data);
      };
    case "write_rand":
      return (w) => {
        const io = ioOf(w);
        const rng = new SeededRandom(w + 1);
        return () => io.write(rng.below(slots) * size, data);
      };
    case "write_append":
      return (w) => {
        const io = ioOf(w);
        return () => io.write(appended++ * size, data);
      };
    case "write_sync":
      return (w) => {
        const io = ioOf(w);
        if (io.sync === undefined) throw new Error("write_sync needs an Io with sync");
        const sync = io.sync;
        return async () => {
          await io.write(appended++ * size, data);
          await sync();
        };
      };
    case "read_write_append":
      // Appends, and reads back a record already appended (or writes when none is).
      return (w) => {
        const io = ioOf(w);
        const rng = new SeededRandom(w + 1);
        let toggle = false;
        return () => {
          toggle = !toggle;
          if (toggle || appended === 0) return io.write(appended++ * size, data);
          return io.read(rng.below(appended) * size, size);
        };
      };
  }
}

/** Temporary directories to remove if the process is interrupted. */
const cleanup = new Set<string>();

function parseSize(value: string, flag: string): number {
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(value);
  if (!m) throw new UsageError(`${flag}: not a size: ${value}`);
  const unit = (m[2] ?? "").toLowerCase()[0];
  const n = Number(m[1]) *
    (unit === "k" ? 1024 : unit === "m" ? MIB : unit === "g" ? 1024 * MIB : 1);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${flag}: must be positive: ${value}`);
  }
  return n;
}

function parseWorkloads(value: string): Workload[] {
  if (value === "all") return [...WORKLOADS];
  const workload = WORKLOADS.find((w) => w === value);
  if (workload === undefined) {
    throw new UsageError(`unknown workload: ${value} (one of ${WORKLOADS.join(", ")}, all)`);
  }
  return [workload];
}

const DRIVERS: readonly DriverName[] = ["node", "deno", "bun", "memory"];

function parseDriver(value: string): DriverName {
  if (value === "default") return DEFAULT_DRIVER;
  const driver = DRIVERS.find((d) => d === value);
  if (driver === undefined) throw new UsageError(`unknown driver: ${value}`);
  return driver;
}

function parseMilliseconds(value: string, flag: string): number {
  const s = Number(value);
  if (!(s > 0 && Number.isFinite(s))) {
    throw new UsageError(`${flag} must be a positive number of seconds, got ${value}`);
  }
  return s * 1000;
}

function parseCache(value: string, flag: string): CacheMode {
  if (value === "warm" || value === "cold") return value;
  throw new UsageError(`${flag} must be warm or cold, got ${value}`);
}

/** The checks of valued options, which also word a refused `--name -…` value. */
const CHECKS = {
  workload: parseWorkloads,
  driver: parseDriver,
  "io-size": parseSize,
  inflight: parseSize,
  "file-size": parseSize,
  duration: parseMilliseconds,
  cache: parseCache,
};

/**
 * Parses the command line into options and workloads.
 *
 * @param args Arguments without the program name.
 * @returns What to run.
 * @throws {UsageError} (a `RangeError`) on a bad argument.
 */
export function parseArgs(args: string[]): {
  options: WorkloadOptions & { cache: CacheMode; anchors: boolean };
  workloads: Workload[];
  json: boolean;
} {
  const { values, positionals } = parseCommandLine(args, {
    workload: "string",
    driver: "string",
    "io-size": "string",
    inflight: "string",
    "file-size": "string",
    duration: "string",
    dir: "string",
    cache: "string",
    anchors: "boolean",
    "no-anchors": "boolean",
    json: "boolean",
  }, CHECKS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  if (values.anchors && values["no-anchors"]) {
    throw new UsageError("--anchors and --no-anchors contradict each other");
  }
  // An option's value read by its check, or undefined when it is not given.
  const read = <T>(value: string | undefined, flag: string, parse: (v: string, f: string) => T) =>
    value === undefined ? undefined : parse(value, flag);
  const options = {
    driver: read(values.driver, "--driver", parseDriver) ?? DEFAULT_DRIVER,
    ioSize: read(values["io-size"], "--io-size", parseSize) ?? 4096,
    inflight: read(values.inflight, "--inflight", parseSize) ?? 1,
    fileSize: read(values["file-size"], "--file-size", parseSize) ?? 64 * MIB,
    durationMs: read(values.duration, "--duration", parseMilliseconds) ?? 2000,
    dir: values.dir ?? tmpdir(),
    cache: read(values.cache, "--cache", parseCache) ?? "warm",
    anchors: !values["no-anchors"],
  };
  if (options.cache === "cold" && options.driver === "memory") {
    throw new UsageError("--cache cold needs a filesystem driver, not memory");
  }
  const workloads = read(values.workload, "--workload", parseWorkloads) ?? [...WORKLOADS];
  return { options, workloads, json: values.json ?? false };
}

/**
 * Runs the harness from command-line arguments, printing the report; on bad
 * arguments (or `--cache cold` where pages cannot be evicted) prints
 * `<program>: <message>` and returns 2.
 *
 * @param args Arguments without the program name.
 * @param program The name to put before an error message.
 * @returns The exit code: 0, or 2 for bad arguments.
 */
export async function main(args: string[], program = "workload"): Promise<number> {
  let parsed;
  let eviction: EvictionMethod | null = null;
  try {
    parsed = parseArgs(args);
    if (parsed.options.cache === "cold") {
      const how = await evictionMethod();
      if (how.method === null) throw new UsageError(how.reason);
      eviction = how.method;
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${program}: ${err.message}`);
    return 2;
  }
  const { options, workloads, json } = parsed;
  const onSignal = () => {
    for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const runtime = detectRuntime();
  const results: WorkloadResult[] = [];
  const say = (line: string) => json || process.stderr.write(line + "\n");
  for (const workload of workloads) {
    say(`running ${workload} (${options.driver}, ${options.durationMs / 1000} s)…`);
    const progress = options.durationMs >= 5000
      ? (done: number, ms: number) =>
        say(`  ${workload}: ${done} ops in ${(ms / 1000).toFixed(0)} s`)
      : undefined;
    const onAnchor = (a: Anchor) => say(`  anchor ${a.label} (${options.durationMs / 1000} s)…`);
    results.push(await runWorkload(workload, { ...options, progress, onAnchor }));
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  if (json) {
    console.log(JSON.stringify({ runtime, options, eviction, results }, null, 2));
  } else printTables(runtime, options, eviction, results);
  return 0;
}

function printTables(
  runtime: string,
  options: WorkloadOptions & { cache: CacheMode },
  eviction: EvictionMethod | null,
  results: WorkloadResult[],
): void {
  const f = (x: number, d = 0) =>
    x.toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d });
  const how = eviction === "posix_fadvise" ? "posix_fadvise DONTNEED" : "drop_caches";
  const cache = options.cache === "cold" ? `cold cache (${how})` : "warm cache";
  console.log(
    `\n${runtime}, driver ${options.driver}, ${options.ioSize} B per op, ${options.inflight} in flight, ` +
      `${f(options.fileSize / MIB)} MiB file, ${cache}\n`,
  );
  console.log("| workload | ops/s | MiB/s | p50 µs | p95 µs | p99 µs | lag max ms | lag p99 ms |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const slots = Math.max(1, Math.floor(options.fileSize / options.ioSize));
  const notes: string[] = [];
  for (const r of results) {
    console.log(
      `| ${r.workload} | ${f(r.opsPerSec)} | ${f(r.mibPerSec, 1)} | ${f(r.p50, 1)} | ${
        f(r.p95, 1)
      } | ${f(r.p99, 1)} | ${f(r.lagMaxMs, 1)} | ${f(r.lagP99Ms, 1)} |`,
    );
    // The share of the file's slots the run read (expected, for random reads).
    const touched = r.workload === "read_rand"
      ? 1 - Math.exp(-r.ops / slots)
      : r.workload === "read_seq"
      ? Math.min(1, r.ops / slots)
      : 0;
    if (options.cache === "cold" && r.reevictions === 0 && touched > 0.5) {
      notes.push(
        `${r.workload} read about ${f(touched * 100)}% of the file, so later reads hit the ` +
          `cache: a larger --file-size (or a shorter --duration) keeps it cold`,
      );
    }
  }
  const pool = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.UV_THREADPOOL_SIZE;
  if (
    options.cache === "cold" && options.inflight > 4 && pool === undefined &&
    (globalThis as { Deno?: unknown }).Deno === undefined
  ) {
    notes.push(
      `this runtime runs cold reads on a thread pool of 4 or fewer unless the process starts ` +
        `with UV_THREADPOOL_SIZE set (README, "The thread pool is the ceiling")`,
    );
  }
  for (const note of notes) console.log(`\nnote: ${note}`);
  const anchored = results.filter((r) => r.anchors !== undefined);
  if (anchored.length === 0) return;
  for (const line of anchorTable(anchored, f)) console.log(line);
}

// No top-level await: `require()` of this module (Node 20 on ESM) must stay possible.
if (import.meta.main) main(process.argv.slice(2)).then((code) => process.exitCode = code);
