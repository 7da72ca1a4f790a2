/**
 * `blobrt`: look inside a storage directory (blobrt's or commonware-runtime's,
 * which share the format) without writing code. Every command only reads: it
 * never resets a short file, never creates a directory.
 *
 * ```sh
 * deno run -A cli/main.ts inspect <dir> [--json]
 * bun cli/main.ts verify <dir> [--versions 0..3] [--json]
 * deno run -A cli/main.ts cat <dir> <partition> <name|hex:…> [--offset N] [--length N] [--hex]
 * deno run -A cli/main.ts bench [--workload …] [--driver …] [--duration S] [--json]
 * deno run -A cli/main.ts --version
 * ```
 *
 * Installed from npm, the same is the `blobrt` command (`npx blobrt`, `bunx blobrt`); from JSR,
 * `deno run -A jsr:@blobrt/storage/cli`.
 *
 * Options take `--name value` or `--name=value`; everything after `--` is an
 * argument, never an option (`blobrt cat <dir> p -- --odd-name`).
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
import { blobNameBytes, fromHex, isPartitionName, toHex } from "../core/names.ts";
import type { VersionRange } from "../core/types.ts";
import { parseCommandLine, UsageError } from "./args.ts";
import { inspectDirectory, openBlobFile, type Problem, problems, readHeaderFd } from "./inspect.ts";
import { main as workload } from "./workload.ts";
import { VERSION } from "./_version.ts";

export { inspectDirectory, problems };
export type { BlobReport, DirectoryReport, Problem } from "./inspect.ts";
export type { VersionRange };

const HELP = {
  main: `blobrt: inspect, verify and read storage directories (read-only)

usage: blobrt <command> [options]
       blobrt --version | --help

commands:
  inspect <dir> [--json]           one row per blob, then totals
  verify <dir> [--versions A..B]   report every problem; exit 1 if any (--json)
  cat <dir> <partition> <name>     write a blob's logical bytes to stdout
  bench [options]                  run the workload harness in a temporary directory

Options take '--name value' or '--name=value'; after '--' every argument is
positional. Run 'blobrt <command> --help' for a command's options.

Names are printed so they cannot drive or reorder the terminal: C0 controls
and DEL become \\xHH; every other control, format character (bidirectional
controls and isolates such as U+202E and U+2066..U+2069, zero-width
characters), line or paragraph separator (U+2028, U+2029), lone surrogate
or unassigned code point becomes \\uHHHH (\\u{HHHHH} above U+FFFF); a
backslash becomes \\\\; a name that is not UTF-8 prints its printable ASCII
bytes and \\xHH for the others. --json output is exact JSON with the same
characters as \\u escapes, and gives every name as bytes too (see
'blobrt inspect --help'). The lock file a running storage keeps in its
directory (.blobrt-lock) is not a foreign entry.
cat never opens a symbolic link, FIFO or other non-regular file.`,
  inspect: `usage: blobrt inspect <dir> [--json]

One row per blob: partition, name (lowercase hex, and the text when it is
printable UTF-8), header layout (v0: 8-byte CWIC header, v1: 4096-byte CWIK
header; - when the magic names neither), logical size, blob version, header
status; totals at the end. Foreign entries follow, one line each.
Control and format characters in names print escaped (see blobrt --help).
--json prints one JSON object, names exact:
  partitions  [name, ...], sorted
  blobs       [{ partition, hex, text?, layout?, size, version?, status }]:
              hex is the file name (the name's bytes in lowercase hex), text
              the name when it is printable UTF-8
  foreign     [{ partition?, entry?, entryHex, problem }]: entryHex is the
              entry's file name as the lowercase hex of its bytes (always
              exact); entry is that name as text, only when it is valid UTF-8
  totals      { partitions, blobs, bytes, problems }
(Deno reads names that are not UTF-8 as bytes through FFI: run it with
--allow-ffi or -A; without, entryHex is that of Deno's lossy text (U+FFFD
for each bad byte) and the problem says so.)`,
  verify: `usage: blobrt verify <dir> [--versions MIN..MAX] [--json]

Checks every partition and blob: foreign entries, invalid partition names,
non-hex names, short files, torn creations (both of which open resets), bad
magic, bad runtime version, and for V1 headers a bad checksum, a truncated
header region or non-zero padding, and (with
--versions) blob versions outside MIN..MAX (inclusive). Prints each problem
with its partition and hex name (control characters as \\xHH or \\uHHHH, a
backslash as \\\\). Exits 0 when all is sound, 1 otherwise.
--json prints one JSON object instead: { ok, partitions, blobs, problems },
where problems is a list of { partition?, entry?, entryHex, problem } as in
'blobrt inspect --help' (entryHex: the file name's bytes in hex; entry: the
name as text, only when it is valid UTF-8). Never writes.`,
  cat: `usage: blobrt cat <dir> <partition> <name> [--offset N] [--length N] [--hex]

Writes the blob's logical bytes (after the header: 8 bytes for v0, 4096 for
v1) to stdout.
<name> is the blob name as text, or hex:<lowercase hex> for any bytes; a name
that starts with '-' goes after '--' (blobrt cat <dir> p -- --name).
--offset N   start at logical byte N (default 0)
--length N   write N bytes (default: to the end)
--hex        write lowercase hex instead of raw bytes
The blob must be a regular file in a partition directory: a symbolic link
(as the partition or as the blob), FIFO, directory or socket is refused
(exit 1) without being followed. <dir> itself may be a link, as for the
storage drivers.`,
  bench: `usage: blobrt bench [--workload NAME|all] [--driver default|node|deno|bun|memory]
                    [--io-size N] [--inflight N] [--file-size N] [--duration S]
                    [--dir PATH] [--cache warm|cold] [--anchors|--no-anchors] [--json]

Runs commonware-runtime's storage workloads (read_seq, read_rand, write_seq,
write_rand, write_append, write_sync, read_write_append) on a temporary
directory, which it removes afterwards (also on Ctrl-C), and prints ops/s,
MiB/s, p50/p95/p99 latency, and the event loop's lag while each ran (lag max,
lag p99: gaps between the callbacks of a 1 ms setInterval, in ms).
Defaults: 4096-byte operations, 1 in flight, a 64 MiB file, 2 s per workload.

--cache cold   evict the file's pages after writing and syncing it, before the
               run and before each anchor: posix_fadvise(DONTNEED) through FFI
               (Bun; Deno with --allow-ffi), else as root drop_caches; refused
               (exit 2) where neither works. Pages read come back into the
               cache, so with posix_fadvise read_rand evicts again after every
               1/64 of the file and read_seq at each wrap-around (outside the
               timing). drop_caches evicts only before each run: the default
               64 MiB file with 4 KiB random reads is fine for 1-2 s at 1 in
               flight; with many in flight use a larger --file-size (the table
               notes a run that read over half the file).
--no-anchors   skip the anchors. By default read_rand, read_seq and write_rand
               are run again on the same file with the same offsets through
               the node:fs sync calls, fs.promises (one FileHandle per
               operation in flight) and random-access-file, and a second table
               gives their ops/s and blobrt ÷ anchor (n/a with the reason when
               one cannot run).`,
} as const;

type Command = Exclude<keyof typeof HELP, "main">;

function isCommand(name: string): name is Command {
  return name !== "main" && Object.hasOwn(HELP, name);
}

/** Whether `--help` or `-h` comes before any `--`. */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** A non-negative integer option, or `undefined` when not given. */
function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag} must be a non-negative integer, got ${value}`);
  }
  return n;
}

/** `MIN..MAX` (or `MIN..=MAX`), both u16s, `MIN <= MAX`. */
function versionRange(value: string, flag: string): VersionRange {
  const m = /^(\d+)\.\.=?(\d+)$/.exec(value);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!(min <= max && max <= 0xffff)) {
    throw new UsageError(`${flag} must be MIN..MAX with 0 <= MIN <= MAX <= 65535, got ${value}`);
  }
  return { min, max };
}

function directory(path: string): string {
  let stat;
  try {
    stat = fs.statSync(path);
  } catch {
    throw new UsageError(`no such directory: ${path}`);
  }
  if (!stat.isDirectory()) throw new UsageError(`not a directory: ${path}`);
  return path;
}

/** The one `<dir>` argument of `inspect` and `verify`. */
function onlyDirectory(command: Command, positionals: string[]): string {
  const [dir] = positionals;
  if (dir === undefined || positionals.length > 1) {
    throw new UsageError(`${command} takes exactly one <dir>`);
  }
  return directory(dir);
}

/** `code` in lowercase hex, zero-padded to `digits` digits. */
const hexOf = (code: number, digits: number) => code.toString(16).padStart(digits, "0");

/**
 * What a name must not print raw: controls (C0, DEL, C1), format characters
 * (bidirectional controls and isolates, zero-width characters, soft hyphen,
 * tags, …), line and paragraph separators, lone surrogates and unassigned
 * code points.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Cn}]/u;
const UNSAFE_OR_BACKSLASH = new RegExp(`\\\\|${UNSAFE.source}`, "gu");
const UNSAFE_ALL = new RegExp(UNSAFE.source, "gu");

/** `\xHH` below U+0080, `\uHHHH` in the BMP, `\u{HHHHH}` above. */
function escapeCodePoint(c: string): string {
  const code = c.codePointAt(0)!;
  if (code < 0x80) return `\\x${hexOf(code, 2)}`;
  return code <= 0xffff ? `\\u${hexOf(code, 4)}` : `\\u{${code.toString(16)}}`;
}

/**
 * Text for a human: a backslash becomes `\\`, C0 controls and DEL `\xHH`,
 * every other control, format character (bidirectional controls, zero-width
 * characters, …), line or paragraph separator, lone surrogate or unassigned
 * code point `\uHHHH` (`\u{HHHHH}` above the BMP); everything else stays.
 * Foreign names then cannot drive or reorder the terminal, and stay
 * unambiguous.
 */
function visible(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, (c) => c === "\\" ? "\\\\" : escapeCodePoint(c));
}

/** A name that is not UTF-8, for a human: printable ASCII as is (`\\` for a backslash), other bytes `\xHH`. */
function visibleBytes(hex: string): string {
  let out = "";
  for (let i = 0; i < hex.length; i += 2) {
    const b = parseInt(hex.slice(i, i + 2), 16);
    out += b === 0x5c
      ? "\\\\"
      : b >= 0x20 && b < 0x7f
      ? String.fromCharCode(b)
      : `\\x${hex.slice(i, i + 2)}`;
  }
  return out;
}

/**
 * `JSON.stringify(value, null, 2)`, with every character that {@linkcode visible}
 * escapes (DEL, C1 controls, format characters, separators, …; JSON allows
 * them raw, and terminals obey some) written as `\u` escapes, UTF-16 units:
 * still exact JSON, `JSON.parse` gives back the same strings.
 */
function json(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_ALL, (c) => {
    if (c === "\n") return c; // the indentation's line breaks
    let out = "";
    for (let i = 0; i < c.length; i++) out += `\\u${hexOf(c.charCodeAt(i), 4)}`;
    return out;
  });
}

/** `partition/entry: problem`, or `entry: problem` outside partitions, for a human. */
function where(p: Problem): string {
  const entry = p.entry === undefined ? visibleBytes(p.entryHex) : visible(p.entry);
  return `${p.partition === undefined ? "" : visible(p.partition) + "/"}${entry}`;
}

/** Rows of cells, left-aligned in columns two spaces apart. */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd());
}

function inspect(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parseCommandLine(args, { json: "boolean" });
  const report = inspectDirectory(onlyDirectory("inspect", positionals));
  const totals = {
    partitions: report.partitions.length,
    blobs: report.blobs.length,
    bytes: report.blobs.reduce((n, b) => n + b.size, 0),
    problems: problems(report).length,
  };
  if (values.json) {
    out(json({ ...report, totals }));
    return 0;
  }
  const rows = report.blobs.map((b) => [
    visible(b.partition),
    visible(b.hex),
    b.text === undefined ? "" : `"${visible(b.text).replaceAll('"', '\\"')}"`,
    b.layout ?? "-",
    String(b.size),
    b.version === undefined ? "-" : String(b.version),
    visible(b.status),
  ]);
  const heading = ["PARTITION", "NAME (HEX)", "TEXT", "LAYOUT", "SIZE", "VERSION", "STATUS"];
  table([heading, ...rows]).forEach(out);
  for (const f of report.foreign) {
    out(`foreign: ${where(f)}: ${visible(f.problem)}`);
  }
  out(
    `total: ${totals.partitions} partitions, ${totals.blobs} blobs, ${totals.bytes} bytes, ${totals.problems} problems`,
  );
  return 0;
}

function verify(args: string[], out: (s: string) => void): number {
  const checks = { versions: versionRange };
  const { values, positionals } = parseCommandLine(
    args,
    { versions: "string", json: "boolean" },
    checks,
  );
  const versions = values.versions === undefined
    ? undefined
    : versionRange(values.versions, "--versions");
  const report = inspectDirectory(onlyDirectory("verify", positionals));
  const found = problems(report, versions);
  if (values.json) {
    const { partitions, blobs } = report;
    out(json({
      ok: found.length === 0,
      partitions: partitions.length,
      blobs: blobs.length,
      problems: found,
    }));
    return found.length === 0 ? 0 : 1;
  }
  for (const p of found) {
    out(`${where(p)}: ${visible(p.problem)}`);
  }
  out(
    found.length === 0
      ? `ok: ${report.partitions.length} partitions, ${report.blobs.length} blobs, no problems`
      : `${found.length} problems in ${report.partitions.length} partitions, ${report.blobs.length} blobs`,
  );
  return found.length === 0 ? 0 : 1;
}

/** What the partition directory is: `lstat`, never following a link. */
function partitionStat(dir: string, partition: string): fs.Stats {
  const st = fs.lstatSync(`${dir}/${partition}`);
  if (st.isSymbolicLink()) throw new Error("the partition is a symbolic link");
  if (!st.isDirectory()) throw new Error("the partition is not a directory");
  return st;
}

/**
 * Opens `<dir>/<partition>/<hex>` for reading with no symbolic link followed
 * at either component (`<dir>` itself may be one, as for the drivers): the
 * partition is `lstat`ed before and after the open and must be the same
 * directory; the blob is opened by {@linkcode openBlobFile}; where
 * `/proc/self/fd` exists, the open file's path must be exactly the expected one.
 */
function openInPartition(dir: string, partition: string, hex: string): number {
  const before = partitionStat(dir, partition);
  const fd = openBlobFile(`${dir}/${partition}/${hex}`);
  try {
    const after = partitionStat(dir, partition);
    if (after.dev !== before.dev || after.ino !== before.ino) {
      throw new Error("the partition was replaced while it was opened");
    }
    let opened: string | undefined;
    try {
      opened = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc: the lstat checks stand
    }
    if (opened !== undefined && opened !== `${fs.realpathSync(dir)}/${partition}/${hex}`) {
      throw new Error("the file opened is not inside the storage directory");
    }
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

function cat(args: string[], write: (b: Uint8Array) => void, err: (s: string) => void): number {
  const { values, positionals } = parseCommandLine(
    args,
    { offset: "string", length: "string", hex: "boolean" },
    { offset: count, length: count },
  );
  const [dirArg, partition, nameArg] = positionals;
  if (
    dirArg === undefined || partition === undefined || nameArg === undefined ||
    positionals.length > 3
  ) {
    throw new UsageError("cat takes <dir> <partition> <name>");
  }
  const dir = directory(dirArg);
  if (!isPartitionName(partition)) throw new UsageError(`invalid partition name: ${partition}`);
  let name: Uint8Array | undefined;
  if (nameArg.startsWith("hex:")) name = fromHex(nameArg.slice(4));
  else if (nameArg !== "") name = blobNameBytes(nameArg);
  if (name === undefined) throw new UsageError(`invalid blob name: ${nameArg}`);
  const offset = count(values.offset, "--offset") ?? 0;
  const length = count(values.length, "--length");
  const hex = toHex(name);
  let fd;
  try {
    // No symbolic link at any component under <dir>: the partition is lstat'ed, the blob
    // opened with lstat, O_NOFOLLOW | O_NONBLOCK and fstat, and then both checked again.
    fd = openInPartition(dir, partition, hex);
  } catch (e) {
    err(`blobrt: cannot read ${partition}/${hex}: ${(e as Error).message}`);
    return 1;
  }
  try {
    let blob;
    try {
      blob = readHeaderFd(fd);
    } catch (e) {
      err(`blobrt: cannot read ${partition}/${hex}: ${(e as Error).message}`);
      return 1;
    }
    if (blob.header.status !== "ok") {
      err(`blobrt: ${partition}/${hex} has no valid header (${blob.header.status})`);
      return 1;
    }
    const end = length === undefined ? blob.size : offset + length;
    if (offset > blob.size || end > blob.size) {
      err(
        `blobrt: ${partition}/${hex}: range ${offset}..${end} is past the end (${blob.size} bytes)`,
      );
      return 1;
    }
    const chunk = new Uint8Array(Math.min(1 << 20, Math.max(1, end - offset)));
    for (let at = offset; at < end;) {
      const position = blob.dataOffset + at;
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - at), position);
      if (n === 0) break;
      const bytes = chunk.subarray(0, n);
      write(values.hex ? new TextEncoder().encode(toHex(bytes)) : bytes);
      at += n;
    }
    if (values.hex) write(new TextEncoder().encode("\n"));
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
  const rawErr = io.err ?? ((s: string) => process.stderr.write(s + "\n"));
  // Error lines echo arguments and file names: never raw control characters.
  const err = (s: string) => rawErr(visible(s));
  const write = io.write ?? ((b: Uint8Array) => process.stdout.write(b));
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      out(HELP.main);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version") {
      if (rest.length > 0) throw new UsageError("--version takes no arguments");
      out(VERSION);
      return 0;
    }
    if (!isCommand(command)) throw new UsageError(`unknown command: ${command}`);
    if (wantsHelp(rest)) {
      out(HELP[command]);
      return 0;
    }
    switch (command) {
      case "inspect":
        return inspect(rest, out);
      case "verify":
        return verify(rest, out);
      case "cat":
        return cat(rest, write, err);
      case "bench":
        return await workload(rest, "blobrt");
    }
  } catch (e) {
    err(`blobrt: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

// No top-level await: `require()` of this module (Node 20 on ESM) must stay possible.
if (import.meta.main) main(process.argv.slice(2)).then((code) => process.exitCode = code);
