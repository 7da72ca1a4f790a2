/**
 * The workload harness: commonware-runtime's storage workloads against any
 * blobrt driver, under Deno or Bun.
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
 *   --json            print one JSON object instead of a table
 *
 * Values can also be given as `--name=value`.
 *
 * It reports ops/s, MiB/s and p50/p95/p99 latency per workload, shows progress
 * on stderr during long runs, and removes its files on exit, also on Ctrl-C.
 *
 * @module
 */

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createStorage, DEFAULT_DRIVER, type DriverName } from "../drivers/select.ts";
import { detectRuntime } from "../core/_runtime.ts";
import { SeededRandom } from "../core/random.ts";
import type { Blob } from "../core/types.ts";
import { parseCommandLine, UsageError } from "./args.ts";

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
  /** Called about once a second with the operations done so far. */
  progress?: (done: number, elapsedMs: number) => void;
}

/** The outcome of one workload. */
export interface WorkloadResult {
  /** Which workload. */
  workload: Workload;
  /** Which driver. */
  driver: DriverName;
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
}

const MIB = 1024 * 1024;

/** The `p`th percentile (0..100) of sorted latencies; 0 when there are none. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Runs one workload on a fresh temporary directory and removes it afterwards.
 *
 * @param workload Which workload.
 * @param o Options.
 * @returns Throughput and latency.
 */
export async function runWorkload(workload: Workload, o: WorkloadOptions): Promise<WorkloadResult> {
  const dir = fs.mkdtempSync(join(o.dir, "blobrt-workload-"));
  cleanup.add(dir);
  try {
    const storage = createStorage({ directory: dir, driver: o.driver });
    const { blob } = await storage.open("bench", workload);
    const slots = Math.max(1, Math.floor(o.fileSize / o.ioSize));
    const needsData = workload.startsWith("read") || workload === "write_rand";
    if (needsData) {
      const chunk = new Uint8Array(Math.min(MIB, slots * o.ioSize)).fill(0xab);
      for (let at = 0; at < slots * o.ioSize; at += chunk.length) {
        await blob.writeAt(at, chunk.subarray(0, Math.min(chunk.length, slots * o.ioSize - at)));
      }
      await blob.sync();
    }
    const op = operation(workload, blob, o.ioSize, slots);
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + o.durationMs;
    let done = 0;
    let lastReport = start;
    const worker = async (id: number) => {
      const step = op(id);
      while (performance.now() < end) {
        const t = performance.now();
        await step();
        const now = performance.now();
        latencies.push((now - t) * 1000);
        done++;
        if (now - lastReport >= 250) {
          // Page-cached I/O resolves at once, so this loop would never reach the
          // event loop: step out now and then for progress output and Ctrl-C.
          if (
            o.progress && Math.floor((now - start) / 1000) > Math.floor((lastReport - start) / 1000)
          ) {
            o.progress(done, now - start);
          }
          lastReport = now;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
    };
    await Promise.all(Array.from({ length: o.inflight }, (_, i) => worker(i)));
    const elapsed = (performance.now() - start) / 1000;
    await blob.close();
    const sorted = Float64Array.from(latencies).sort();
    const moved = done * o.ioSize;
    return {
      workload,
      driver: o.driver,
      ops: done,
      opsPerSec: done / elapsed,
      mibPerSec: moved / MIB / elapsed,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    cleanup.delete(dir);
  }
}

/** Builds, per worker, a function that performs one operation of the workload. */
function operation(
  workload: Workload,
  blob: Blob,
  size: number,
  slots: number,
): (worker: number) => () => Promise<unknown> {
  const data = new Uint8Array(size).fill(0x5a);
  let next = 0; // shared cursor: sequential and append workloads advance it together
  let appended = 0;
  switch (workload) {
    case "read_seq":
      return () => () => blob.readAt((next++ % slots) * size, size);
    case "read_rand":
      return (w) => {
        const rng = new SeededRandom(w + 1);
        return () => blob.readAt(rng.below(slots) * size, size);
      };
    case "write_seq":
      return () => () => blob.writeAt((next++ % slots) * size, data);
    case "write_rand":
      return (w) => {
        const rng = new SeededRandom(w + 1);
        return () => blob.writeAt(rng.below(slots) * size, data);
      };
    case "write_append":
      return () => () => blob.writeAt(appended++ * size, data);
    case "write_sync":
      return () => async () => {
        await blob.writeAt(appended++ * size, data);
        await blob.sync();
      };
    case "read_write_append":
      // Appends, and reads back a record already appended (or writes when none is).
      return (w) => {
        const rng = new SeededRandom(w + 1);
        let toggle = false;
        return () => {
          toggle = !toggle;
          if (toggle || appended === 0) return blob.writeAt(appended++ * size, data);
          return blob.readAt(rng.below(appended) * size, size);
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

/** The checks of valued options, which also word a refused `--name -…` value. */
const CHECKS = {
  workload: parseWorkloads,
  driver: parseDriver,
  "io-size": parseSize,
  inflight: parseSize,
  "file-size": parseSize,
  duration: parseMilliseconds,
};

/**
 * Parses the command line into options and workloads.
 *
 * @param args Arguments without the program name.
 * @returns What to run.
 * @throws {UsageError} (a `RangeError`) on a bad argument.
 */
export function parseArgs(args: string[]): {
  options: WorkloadOptions;
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
    json: "boolean",
  }, CHECKS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  // An option's value read by its check, or undefined when it is not given.
  const read = <T>(value: string | undefined, flag: string, parse: (v: string, f: string) => T) =>
    value === undefined ? undefined : parse(value, flag);
  const options: WorkloadOptions = {
    driver: read(values.driver, "--driver", parseDriver) ?? DEFAULT_DRIVER,
    ioSize: read(values["io-size"], "--io-size", parseSize) ?? 4096,
    inflight: read(values.inflight, "--inflight", parseSize) ?? 1,
    fileSize: read(values["file-size"], "--file-size", parseSize) ?? 64 * MIB,
    durationMs: read(values.duration, "--duration", parseMilliseconds) ?? 2000,
    dir: values.dir ?? tmpdir(),
  };
  const workloads = read(values.workload, "--workload", parseWorkloads) ?? [...WORKLOADS];
  return { options, workloads, json: values.json ?? false };
}

/**
 * Runs the harness from command-line arguments, printing the report; on bad
 * arguments prints `<program>: <message>` and sets `process.exitCode` to 2.
 *
 * @param args Arguments without the program name.
 * @param program The name to put before an error message.
 */
export async function main(args: string[], program = "workload"): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${program}: ${err.message}`);
    process.exitCode = 2;
    return;
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
  for (const workload of workloads) {
    if (!json) {
      process.stderr.write(
        `running ${workload} (${options.driver}, ${options.durationMs / 1000} s)…\n`,
      );
    }
    const progress = options.durationMs >= 5000
      ? (done: number, ms: number) =>
        process.stderr.write(`  ${workload}: ${done} ops in ${(ms / 1000).toFixed(0)} s\n`)
      : undefined;
    results.push(await runWorkload(workload, { ...options, progress }));
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  if (json) {
    console.log(JSON.stringify({ runtime, options, results }, null, 2));
    return;
  }
  const f = (x: number, d = 0) =>
    x.toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(
    `\n${runtime}, driver ${options.driver}, ${options.ioSize} B per op, ${options.inflight} in flight, ` +
      `${f(options.fileSize / MIB)} MiB file\n`,
  );
  console.log("| workload | ops/s | MiB/s | p50 µs | p95 µs | p99 µs |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    console.log(
      `| ${r.workload} | ${f(r.opsPerSec)} | ${f(r.mibPerSec, 1)} | ${f(r.p50, 1)} | ${
        f(r.p95, 1)
      } | ${f(r.p99, 1)} |`,
    );
  }
}

if (import.meta.main) await main(process.argv.slice(2));
