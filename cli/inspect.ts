/**
 * Reading a storage directory without changing it: its partitions, the header
 * of every blob (classified by core's {@linkcode classifyHeader}, as `open`
 * reads it: V0 or V1, with the V1 checksum and padding verified) and every
 * entry that does not belong.
 *
 * @module
 */

import * as fs from "node:fs";
import {
  type BlobLayout,
  classifyHeader,
  dataOffset,
  HEADER_SIZE,
  HEADER_SIZE_V1,
  type HeaderClass,
} from "../core/header.ts";
import { compareBytes, fromHex, isPartitionName, toHex } from "../core/names.ts";
import { LOCK_FILE } from "../fs/_dir_lock.ts";
import type { VersionRange } from "../core/types.ts";
import { type RawEntry, readRawDir } from "./_raw_dir.ts";

/** One blob file found by {@linkcode inspectDirectory}. */
export interface BlobReport {
  /** The partition (directory name). */
  partition: string;
  /** The file name: the lowercase hex of the blob name. */
  hex: string;
  /** The name as text, when it is printable UTF-8. */
  text?: string;
  /** The layout its magic names (`v0`: `CWIC`, `v1`: `CWIK`), when it names one. */
  layout?: BlobLayout;
  /**
   * Logical size: the file size less the layout's header (8 bytes when the
   * magic names none); 0 for a short or torn file, which `open` resets.
   */
  size: number;
  /** The blob version from the header, when the header is readable. */
  version?: number;
  /**
   * `ok`, or what is wrong with the header: `short` (under 8 bytes) and `torn`
   * (an interrupted V1 creation) are blobs that `open` resets; the others it
   * refuses.
   */
  status: HeaderClass["status"] | "unreadable";
}

/** Something in the directory that is not a blob of the format. */
export interface Problem {
  /** The partition, when the problem is inside one. */
  partition?: string;
  /**
   * The entry's file name as text, when its bytes are valid UTF-8 (for a
   * blob, its hex name); absent for any other name, which only `entryHex` gives.
   */
  entry?: string;
  /** The entry's file name exactly: the lowercase hex of its bytes. */
  entryHex: string;
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

/** A blob file as its header describes it. */
export interface BlobFile {
  /** File byte of logical offset 0: 8 or 4096 by the layout, 8 when the magic names none. */
  dataOffset: number;
  /** Logical size: the file size less `dataOffset`, or 0 for a short or torn file. */
  size: number;
  /** What the first bytes are. */
  header: HeaderClass;
}

/** What kind of non-file an entry is, for an error message. */
function kind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a FIFO";
  if (st.isDirectory()) return "a directory";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Why a path was not opened: it is not a regular file. */
class NotAFile extends Error {
  constructor(st: fs.Stats) {
    const what = kind(st);
    super(what.startsWith("not ") ? what : `not a regular file (${what})`);
  }
}

// Where the OS has them (Linux, macOS): never follow a final symbolic link,
// never wait for a FIFO's writer. 0 elsewhere.
const SAFE_OPEN = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) |
  (fs.constants.O_NONBLOCK ?? 0);

/**
 * Opens a blob file for reading without ever blocking or following a link:
 * `lstat` first and refuse anything but a regular file (a symbolic link, FIFO,
 * directory, socket, device) without opening it; then open with `O_NOFOLLOW |
 * O_NONBLOCK` and `fstat`, refusing (after closing) whatever was swapped in
 * between.
 *
 * @param path The file.
 * @returns The open file descriptor; the caller closes it.
 * @throws An `Error` saying what the path is when it is not a regular file,
 * or the OS error.
 */
export function openBlobFile(path: string): number {
  const before = fs.lstatSync(path);
  if (!before.isFile()) throw new NotAFile(before);
  const fd = fs.openSync(path, SAFE_OPEN);
  try {
    const after = fs.fstatSync(fd);
    if (!after.isFile()) throw new NotAFile(after);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/**
 * Reads the header (its first 4096 bytes at most) and size of an open blob file.
 *
 * @param fd A file descriptor from {@linkcode openBlobFile}.
 * @returns Its size and classified header.
 * @throws The OS error when the file cannot be read.
 */
export function readHeaderFd(fd: number): BlobFile {
  const fileSize = fs.fstatSync(fd).size;
  const head = new Uint8Array(Math.min(fileSize, HEADER_SIZE_V1));
  let n = 0;
  for (let r = 1; n < head.length && r > 0; n += r) {
    r = fs.readSync(fd, head, n, head.length - n, n);
  }
  const header = classifyHeader(head.subarray(0, n), fileSize);
  const offset = "layout" in header ? dataOffset(header.layout) : HEADER_SIZE;
  const reset = header.status === "short" || header.status === "torn";
  return { dataOffset: offset, size: reset ? 0 : Math.max(0, fileSize - offset), header };
}

/**
 * Reads a blob file's header (its first 4096 bytes at most) and size, and
 * nothing else. Opened by {@linkcode openBlobFile}: never blocks on a FIFO,
 * never follows a symbolic link.
 *
 * @param path The file.
 * @returns Its size and classified header.
 * @throws An `Error` when `path` is not a regular file, or the OS error when
 * the file cannot be opened or read.
 */
export function readHeader(path: string): BlobFile {
  const fd = openBlobFile(path);
  try {
    return readHeaderFd(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function inspectBlob(dir: string, partition: string, hex: string, name: Uint8Array): BlobReport {
  const base = { partition, hex, text: printable(name) };
  let file;
  try {
    file = readHeader(`${dir}/${partition}/${hex}`);
  } catch {
    return { ...base, size: 0, status: "unreadable" };
  }
  const { size, header } = file;
  return "layout" in header
    ? { ...base, layout: header.layout, size, version: header.version, status: header.status }
    : { ...base, size, status: header.status };
}

const byName = (a: RawEntry, b: RawEntry) => compareBytes(a.bytes, b.bytes);

/** A problem with the entry `e` (of `partition`, when given). */
function foreign(e: RawEntry, problem: string, partition?: string): Problem {
  const named = e.text === undefined || e.lossy ? {} : { entry: e.text };
  const at = partition === undefined ? {} : { partition };
  // Deno without FFI sees such a name only as lossy text: say so rather than guess bytes.
  const note = e.lossy ? " (the name is not UTF-8: run Deno with --allow-ffi for its bytes)" : "";
  return { ...at, ...named, entryHex: toHex(e.bytes), problem: problem + note };
}

/** The problem of a blob file whose name is `hex`. */
function blobProblem(partition: string, hex: string, problem: string): Problem {
  return { partition, entry: hex, entryHex: toHex(new TextEncoder().encode(hex)), problem };
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
 *   {
 *     partition: "p",
 *     entry: "README",
 *     entryHex: "524541444d45",
 *     problem: "not a lowercase hex blob name",
 *   },
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
  // Names as their bytes: two names that are not UTF-8 never read as one.
  for (const entry of readRawDir(dir).sort(byName)) {
    if (entry.text === LOCK_FILE && entry.kind === "file") continue; // a running storage's lock
    if (entry.kind !== "dir") {
      report.foreign.push(foreign(entry, "not a partition directory"));
      continue;
    }
    if (entry.text === undefined || !isPartitionName(entry.text)) {
      report.foreign.push(foreign(entry, "not a valid partition name"));
      continue;
    }
    const partition = entry.text;
    report.partitions.push(partition);
    // Lowercase hex sorts as the bytes it spells.
    for (const file of readRawDir(`${dir}/${partition}`).sort(byName)) {
      const name = file.text === undefined ? undefined : fromHex(file.text);
      if (file.kind !== "file") {
        report.foreign.push(foreign(file, "not a file", partition));
      } else if (name === undefined) {
        report.foreign.push(foreign(file, "not a lowercase hex blob name", partition));
      } else {
        report.blobs.push(inspectBlob(dir, partition, file.text!, name));
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
 *   { partition: "p", entry: "00", entryHex: "3030", problem: "blob version 9 outside 0..=3" },
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
  for (const { partition, hex, status, version } of report.blobs) {
    const at = (problem: string) => out.push(blobProblem(partition, hex, problem));
    if (status === "short") at("short file (no complete header)");
    else if (status === "torn") at("torn creation (open resets it)");
    else if (status !== "ok") at(status);
    else if (
      versions !== undefined && version !== undefined &&
      (version < versions.min || version > versions.max)
    ) {
      at(`blob version ${version} outside ${versions.min}..=${versions.max}`);
    }
  }
  return out;
}
