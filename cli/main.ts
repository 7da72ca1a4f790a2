/**
 * `blobrt`: look inside a storage directory (blobrt's or commonware-runtime's,
 * which share the format) without writing code. Every command only reads: it
 * never resets a short file, never creates a directory.
 *
 * ```sh
 * deno run -A cli.ts inspect <dir> [--json]
 * bun cli.ts verify <dir> [--versions 0..3]
 * deno run -A cli.ts cat <dir> <partition> <name|hex:…> [--offset N] [--length N] [--hex]
 * deno run -A cli.ts bench [--workload …] [--driver …] [--duration S] [--json]
 * ```
 *
 * Exit codes: 0 success (for `verify`: everything sound), 1 problems found or
 * the blob cannot be read, 2 bad arguments or a missing directory.
 *
 * @example Inspecting a directory from code
 * ```ts
 * import { inspectDirectory } from "@blobrt/storage/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/p`);
 * await Deno.writeFile(`${dir}/p/6869`, new Uint8Array([67, 87, 73, 67, 0, 0, 0, 2, 33]));
 * const report = inspectDirectory(dir);
 * assert.deepEqual(report.blobs.map((b) => [b.partition, b.text, b.size, b.version, b.status]), [
 *   ["p", "hi", 1, 2, "ok"],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { decodeHeader, HEADER_SIZE, MAGIC, RUNTIME_VERSION } from "../core/header.ts";
import { blobNameBytes, fromHex, toHex } from "../core/names.ts";
import type { VersionRange } from "../core/types.ts";
import { main as workload } from "./workload.ts";

export type { VersionRange };

/** One blob file found by {@linkcode inspectDirectory}. */
export interface BlobReport {
  /** The partition (directory name). */
  partition: string;
  /** The file name: the lowercase hex of the blob name. */
  hex: string;
  /** The name as text, when it is printable UTF-8. */
  text?: string;
  /** Logical size (file size less the header), or 0 for a short file. */
  size: number;
  /** The blob version from the header, when the header is readable. */
  version?: number;
  /** `ok`, or what is wrong with the header. */
  status: "ok" | "short" | "bad magic" | "bad runtime version" | "unreadable";
}

/** Something in the directory that is not a blob of the format. */
export interface Problem {
  /** The partition, when the problem is inside one. */
  partition?: string;
  /** The entry's file name (hex for blobs). */
  entry: string;
  /** What is wrong. */
  problem: string;
}

/** What {@linkcode inspectDirectory} found. */
export interface DirectoryReport {
  /** Partitions, sorted. */
  partitions: string[];
  /** Blob files, sorted by partition then name bytes. */
  blobs: BlobReport[];
  /** Entries that do not belong (not a directory, not a hex file, …). */
  foreign: Problem[];
}

const PARTITION = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The name as text when it is valid UTF-8 without control characters. */
function printable(bytes: Uint8Array): string | undefined {
  try {
    const text = strictUtf8.decode(bytes);
    // deno-lint-ignore no-control-regex
    return /[\u0000-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

function readHeader(path: string): { raw: number; header?: Uint8Array } {
  const fd = fs.openSync(path, "r");
  try {
    const raw = fs.fstatSync(fd).size;
    if (raw < HEADER_SIZE) return { raw };
    const header = new Uint8Array(HEADER_SIZE);
    fs.readSync(fd, header, 0, HEADER_SIZE, 0);
    return { raw, header };
  } finally {
    fs.closeSync(fd);
  }
}

function inspectBlob(dir: string, partition: string, hex: string): BlobReport {
  const bytes = fromHex(hex)!;
  const base = { partition, hex, text: printable(bytes) };
  let file;
  try {
    file = readHeader(`${dir}/${partition}/${hex}`);
  } catch {
    return { ...base, size: 0, status: "unreadable" };
  }
  if (file.header === undefined) return { ...base, size: 0, status: "short" };
  const h = decodeHeader(file.header);
  const size = file.raw - HEADER_SIZE;
  if (!h.magic.every((b, i) => b === MAGIC[i])) return { ...base, size, status: "bad magic" };
  if (h.runtimeVersion !== RUNTIME_VERSION) {
    return { ...base, size, version: h.blobVersion, status: "bad runtime version" };
  }
  return { ...base, size, version: h.blobVersion, status: "ok" };
}

/**
 * Reads a storage directory without changing it: every partition, every blob
 * header, and every entry that does not belong.
 *
 * @example
 * ```ts
 * import { inspectDirectory } from "@blobrt/storage/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/p`);
 * await Deno.writeFile(`${dir}/p/README`, new Uint8Array(1));
 * assert.deepEqual(inspectDirectory(dir).foreign, [
 *   { partition: "p", entry: "README", problem: "not a lowercase hex blob name" },
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The storage directory.
 * @returns What is there.
 * @throws The OS error when `dir` cannot be listed.
 */
export function inspectDirectory(dir: string): DirectoryReport {
  const report: DirectoryReport = { partitions: [], blobs: [], foreign: [] };
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : 1
  );
  for (const entry of entries) {
    if (!entry.isDirectory()) {
      report.foreign.push({ entry: entry.name, problem: "not a partition directory" });
      continue;
    }
    if (!PARTITION.test(entry.name)) {
      report.foreign.push({ entry: entry.name, problem: "not a valid partition name" });
      continue;
    }
    report.partitions.push(entry.name);
    const files = fs.readdirSync(`${dir}/${entry.name}`, { withFileTypes: true });
    for (const file of files.sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (!file.isFile()) {
        report.foreign.push({ partition: entry.name, entry: file.name, problem: "not a file" });
      } else if (fromHex(file.name) === undefined) {
        report.foreign.push({
          partition: entry.name,
          entry: file.name,
          problem: "not a lowercase hex blob name",
        });
      } else {
        report.blobs.push(inspectBlob(dir, entry.name, file.name));
      }
    }
  }
  return report;
}

/**
 * Every problem of a directory: foreign entries, and blobs whose header is bad
 * or whose version is outside `versions` (when given).
 *
 * @example
 * ```ts
 * import { inspectDirectory, problems } from "@blobrt/storage/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/p`);
 * await Deno.writeFile(`${dir}/p/00`, new Uint8Array([67, 87, 73, 67, 0, 0, 0, 9]));
 * assert.deepEqual(problems(inspectDirectory(dir), { min: 0, max: 3 }), [
 *   { partition: "p", entry: "00", problem: "blob version 9 outside 0..=3" },
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param report What {@linkcode inspectDirectory} found.
 * @param versions Accepted blob versions, if any.
 * @returns The problems, in directory order.
 */
export function problems(report: DirectoryReport, versions?: VersionRange): Problem[] {
  const out = [...report.foreign];
  for (const b of report.blobs) {
    const at = { partition: b.partition, entry: b.hex };
    if (b.status === "short") out.push({ ...at, problem: "short file (no complete header)" });
    else if (b.status !== "ok") out.push({ ...at, problem: b.status });
    else if (versions && (b.version! < versions.min || b.version! > versions.max)) {
      out.push({
        ...at,
        problem: `blob version ${b.version} outside ${versions.min}..=${versions.max}`,
      });
    }
  }
  return out;
}

// ---- command line ----

class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `blobrt: inspect, verify and read storage directories (read-only)

usage: blobrt <command> [options]

commands:
  inspect <dir> [--json]           one row per blob, then totals
  verify <dir> [--versions A..B]   report every problem; exit 1 if any
  cat <dir> <partition> <name>     write a blob's logical bytes to stdout
  bench [options]                  run the workload harness in a temporary directory

run 'blobrt <command> --help' for a command's options.`,
  inspect: `usage: blobrt inspect <dir> [--json]

One row per blob: partition, name (lowercase hex, and the text when it is
printable UTF-8), logical size, blob version, header status; totals at the end.
--json prints the same as one JSON object.`,
  verify: `usage: blobrt verify <dir> [--versions MIN..MAX]

Checks every partition and blob: foreign entries, non-hex names, short files,
bad magic, bad runtime version, and (with --versions) blob versions outside
MIN..MAX (inclusive). Prints each problem with its partition and hex name.
Exits 0 when all is sound, 1 otherwise. Never writes.`,
  cat: `usage: blobrt cat <dir> <partition> <name> [--offset N] [--length N] [--hex]

Writes the blob's logical bytes (after the 8-byte header) to stdout.
<name> is the blob name as text, or hex:<lowercase hex> for any bytes.
--offset N   start at logical byte N (default 0)
--length N   write N bytes (default: to the end)
--hex        write lowercase hex instead of raw bytes`,
  bench: `usage: blobrt bench [--workload NAME|all] [--driver default|node|deno|bun|memory]
                    [--io-size N] [--inflight N] [--file-size N] [--duration S]
                    [--dir PATH] [--json]

Runs commonware-runtime's storage workloads (read_seq, read_rand, write_seq,
write_rand, write_append, write_sync, read_write_append) on a temporary
directory, which it removes afterwards (also on Ctrl-C), and prints ops/s,
MiB/s and p50/p95/p99 latency.`,
};

function parse(args: string[], flags: string[], valued: string[]) {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) {
      positional.push(a);
    } else if (valued.includes(a)) {
      if (i + 1 >= args.length) throw new UsageError(`${a} needs a value`);
      options.set(a, args[++i]);
    } else if (flags.includes(a)) {
      options.set(a, true);
    } else {
      throw new UsageError(`unknown option: ${a}`);
    }
  }
  return { positional, options };
}

function count(value: string | true | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${what} must be a non-negative integer, got ${value}`);
  }
  return n;
}

function directory(path: string | undefined): string {
  if (path === undefined) throw new UsageError("missing <dir>");
  let stat;
  try {
    stat = fs.statSync(path);
  } catch {
    throw new UsageError(`no such directory: ${path}`);
  }
  if (!stat.isDirectory()) throw new UsageError(`not a directory: ${path}`);
  return path;
}

function inspect(args: string[], out: (s: string) => void): number {
  const { positional, options } = parse(args, ["--json"], []);
  if (positional.length !== 1) throw new UsageError("inspect takes exactly one <dir>");
  const report = inspectDirectory(directory(positional[0]));
  const totals = {
    partitions: report.partitions.length,
    blobs: report.blobs.length,
    bytes: report.blobs.reduce((n, b) => n + b.size, 0),
    problems: problems(report).length,
  };
  if (options.has("--json")) {
    out(JSON.stringify({ ...report, totals }, null, 2));
    return 0;
  }
  const rows = report.blobs.map((b) => [
    b.partition,
    b.hex,
    b.text === undefined ? "" : JSON.stringify(b.text),
    String(b.size),
    b.version === undefined ? "-" : String(b.version),
    b.status,
  ]);
  const head = ["PARTITION", "NAME (HEX)", "TEXT", "SIZE", "VERSION", "STATUS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) out(r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  for (const f of report.foreign) {
    out(`foreign: ${f.partition === undefined ? "" : f.partition + "/"}${f.entry}: ${f.problem}`);
  }
  out(
    `total: ${totals.partitions} partitions, ${totals.blobs} blobs, ${totals.bytes} bytes, ${totals.problems} problems`,
  );
  return 0;
}

function verify(args: string[], out: (s: string) => void): number {
  const { positional, options } = parse(args, [], ["--versions"]);
  if (positional.length !== 1) throw new UsageError("verify takes exactly one <dir>");
  let versions: VersionRange | undefined;
  const v = options.get("--versions");
  if (typeof v === "string") {
    const m = /^(\d+)\.\.=?(\d+)$/.exec(v);
    if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 0xffff) {
      throw new UsageError(`--versions must be MIN..MAX with 0 <= MIN <= MAX <= 65535, got ${v}`);
    }
    versions = { min: Number(m[1]), max: Number(m[2]) };
  }
  const report = inspectDirectory(directory(positional[0]));
  const found = problems(report, versions);
  for (const p of found) {
    out(`${p.partition === undefined ? "" : p.partition + "/"}${p.entry}: ${p.problem}`);
  }
  out(
    found.length === 0
      ? `ok: ${report.partitions.length} partitions, ${report.blobs.length} blobs, no problems`
      : `${found.length} problems in ${report.partitions.length} partitions, ${report.blobs.length} blobs`,
  );
  return found.length === 0 ? 0 : 1;
}

function cat(args: string[], write: (b: Uint8Array) => void, err: (s: string) => void): number {
  const { positional, options } = parse(args, ["--hex"], ["--offset", "--length"]);
  if (positional.length !== 3) throw new UsageError("cat takes <dir> <partition> <name>");
  const [dirArg, partition, nameArg] = positional;
  const dir = directory(dirArg);
  if (!PARTITION.test(partition)) throw new UsageError(`invalid partition name: ${partition}`);
  let name: Uint8Array | undefined;
  if (nameArg.startsWith("hex:")) name = fromHex(nameArg.slice(4));
  else if (nameArg !== "") name = blobNameBytes(nameArg);
  if (name === undefined) throw new UsageError(`invalid blob name: ${nameArg}`);
  const offset = count(options.get("--offset"), "--offset") ?? 0;
  const length = count(options.get("--length"), "--length");
  const hex = toHex(name);
  const path = `${dir}/${partition}/${hex}`;
  let file;
  try {
    file = readHeader(path);
  } catch (e) {
    err(`blobrt: cannot read ${partition}/${hex}: ${(e as Error).message}`);
    return 1;
  }
  const blob = file.header === undefined ? undefined : inspectBlob(dir, partition, hex);
  if (blob === undefined || blob.status !== "ok") {
    err(`blobrt: ${partition}/${hex} has no valid header (${blob?.status ?? "short"})`);
    return 1;
  }
  const end = length === undefined ? blob.size : offset + length;
  if (offset > blob.size || end > blob.size) {
    err(
      `blobrt: ${partition}/${hex}: range ${offset}..${end} is past the end (${blob.size} bytes)`,
    );
    return 1;
  }
  const fd = fs.openSync(path, "r");
  try {
    const chunk = new Uint8Array(Math.min(1 << 20, Math.max(1, end - offset)));
    for (let at = offset; at < end;) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - at), HEADER_SIZE + at);
      if (n === 0) break;
      const bytes = chunk.subarray(0, n);
      write(options.has("--hex") ? new TextEncoder().encode(toHex(bytes)) : bytes);
      at += n;
    }
    if (options.has("--hex")) write(new TextEncoder().encode("\n"));
  } finally {
    fs.closeSync(fd);
  }
  return 0;
}

/**
 * Runs the command line with `args` (without the program name); returns the
 * exit code. Output goes through the given writers (stdout and stderr by
 * default).
 *
 * @example
 * ```ts
 * import { main } from "@blobrt/storage/cli";
 * import assert from "node:assert/strict";
 *
 * const errors: string[] = [];
 * const code = await main(["inspect", "/no/such/dir"], { err: (s) => errors.push(s) });
 * assert.equal(code, 2);
 * assert.deepEqual(errors, ["blobrt: no such directory: /no/such/dir"]);
 * ```
 *
 * @param args The arguments.
 * @param io Where output goes.
 * @returns The exit code: 0, 1 or 2.
 */
export async function main(
  args: string[],
  io: {
    out?: (line: string) => void;
    err?: (line: string) => void;
    write?: (b: Uint8Array) => void;
  } = {},
): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(s + "\n"));
  const err = io.err ?? ((s: string) => process.stderr.write(s + "\n"));
  const write = io.write ?? ((b: Uint8Array) => process.stdout.write(b));
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      out(HELP.main);
      return command === undefined ? 2 : 0;
    }
    if (!(command in HELP) || command === "main") {
      throw new UsageError(`unknown command: ${command}`);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      out(HELP[command]);
      return 0;
    }
    if (command === "inspect") return inspect(rest, out);
    if (command === "verify") return verify(rest, out);
    if (command === "bench") {
      await workload(rest);
      return typeof process.exitCode === "number" ? process.exitCode : 0;
    }
    return cat(rest, write, err);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`blobrt: ${e.message}`);
      return 2;
    }
    err(`blobrt: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
