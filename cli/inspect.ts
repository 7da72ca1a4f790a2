/**
 * Reading a storage directory without changing it: its partitions, the header
 * of every blob (classified by core's {@linkcode classifyHeader}, as `open`
 * reads it) and every entry that does not belong.
 *
 * @module
 */

import * as fs from "node:fs";
import { classifyHeader, HEADER_SIZE, type HeaderClass } from "../core/header.ts";
import { fromHex, isPartitionName } from "../core/names.ts";
import type { VersionRange } from "../core/types.ts";

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
  /** Logical size: the file size less the header, or 0 for a short file. */
  size: number;
  /** What the first bytes are. */
  header: HeaderClass;
}

/**
 * Reads a blob file's header and size, and nothing else.
 *
 * @param path The file.
 * @returns Its size and classified header.
 * @throws The OS error when the file cannot be opened or read.
 */
export function readHeader(path: string): BlobFile {
  const fd = fs.openSync(path, "r");
  try {
    const fileSize = fs.fstatSync(fd).size;
    const head = new Uint8Array(Math.min(fileSize, HEADER_SIZE));
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const header = classifyHeader(head.subarray(0, n));
    return { size: header.status === "short" ? 0 : fileSize - HEADER_SIZE, header };
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
  return "version" in header
    ? { ...base, size, version: header.version, status: header.status }
    : { ...base, size, status: header.status };
}

const byName = (a: fs.Dirent, b: fs.Dirent) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

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
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort(byName)) {
    if (!entry.isDirectory()) {
      report.foreign.push({ entry: entry.name, problem: "not a partition directory" });
      continue;
    }
    if (!isPartitionName(entry.name)) {
      report.foreign.push({ entry: entry.name, problem: "not a valid partition name" });
      continue;
    }
    const partition = entry.name;
    report.partitions.push(partition);
    // Lowercase hex sorts as the bytes it spells.
    for (
      const file of fs.readdirSync(`${dir}/${partition}`, { withFileTypes: true }).sort(byName)
    ) {
      const name = fromHex(file.name);
      if (!file.isFile()) {
        report.foreign.push({ partition, entry: file.name, problem: "not a file" });
      } else if (name === undefined) {
        report.foreign.push({
          partition,
          entry: file.name,
          problem: "not a lowercase hex blob name",
        });
      } else {
        report.blobs.push(inspectBlob(dir, partition, file.name, name));
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
  for (const { partition, hex, status, version } of report.blobs) {
    const at = { partition, entry: hex };
    if (status === "short") out.push({ ...at, problem: "short file (no complete header)" });
    else if (status !== "ok") out.push({ ...at, problem: status });
    else if (
      versions !== undefined && version !== undefined &&
      (version < versions.min || version > versions.max)
    ) {
      out.push({
        ...at,
        problem: `blob version ${version} outside ${versions.min}..=${versions.max}`,
      });
    }
  }
  return out;
}
