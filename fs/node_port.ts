/**
 * The `node:fs` {@linkcode FileSystemPort}, shared by `NodeStorage` and
 * `BunStorage` (on Bun, `node:fs`'s positional calls are the fastest correct
 * primitives: see bench/RESULTS.md). Not a driver itself.
 *
 * - reads and writes: `fs.readSync`/`fs.writeSync` with an explicit position
 *   (real `pread`/`pwrite` on Deno ≥ 2.7.12, Bun and Node);
 * - vectored writes of large chunks: `fs.writevSync` (`pwritev` on Bun and Node; on
 *   Deno, whose `writevSync` concatenates in JavaScript, the chunks are coalesced);
 * - `datasync`/`fsync`: the asynchronous calls, which run off the event loop;
 * - every call passes all of its arguments (some Bun versions misread omitted ones);
 * - blobs open with `O_NOFOLLOW` (a symbolic link, dangling or not, is `ELOOP`
 *   and nothing is created), then `fstat` refuses anything but a regular file;
 * - given the storage root, a call on a path below it resolves beneath the root
 *   through FFI where the runtime has it (`fs/_beneath.ts`: Bun, and Deno with
 *   `--allow-ffi`); on Bun the blob's descriptor is used as it is, on Deno it is
 *   reopened through `/proc/self/fd`. Node resolves the path as given;
 * - `readAt` results of 64 KiB and more come from `Buffer.allocUnsafeSlow` (unpooled,
 *   not zeroed: the read fills every byte or the call fails), re-viewed as a plain
 *   `Uint8Array`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import {
  type DirEntry,
  errorCode,
  type FilePort,
  type FileSystemPort,
  NOT_REGULAR,
  portError,
} from "./port.ts";
import { detectRuntime } from "../core/_runtime.ts";
import { lockDirectory } from "./_dir_lock.ts";
import { sharedAsyncReads } from "./_async_reads.ts";
import { type BeneathHost, beneathOr } from "./_beneath.ts";

/** Deno's `writevSync` concatenates in JavaScript (117× slower): no `writev` there. */
const NO_PWRITEV = detectRuntime() === "deno";
/** `readAt` results from this size up skip zeroing. */
const UNZEROED_FROM = 64 * 1024;

/** Calls a Node-style callback API as a promise. */
function call<T>(fn: (cb: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => err ? reject(err) : resolve(value)));
}

const OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;

/** Opens a regular file without following a symbolic link; anything else is closed and refused. */
async function openRegular(path: string): Promise<number> {
  return checkRegular(await call<number>((cb) => fs.open(path, OPEN_FLAGS, 0o644, cb)), path);
}

/** `fd` when it is a regular file; otherwise it is closed and refused. */
function checkRegular(fd: number, path: string): number {
  let regular: boolean;
  try {
    regular = fs.fstatSync(fd).isFile();
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!regular) {
    fs.closeSync(fd);
    throw portError(NOT_REGULAR, "not a regular file", path);
  }
  return fd;
}

function filePort(fd: number, path: string): FilePort {
  return {
    fd,
    path,
    size: () => fs.fstatSync(fd).size,
    read: (buf, position) => fs.readSync(fd, buf, 0, buf.length, position),
    write: (buf, position) => fs.writeSync(fd, buf, 0, buf.length, position),
    // Deno's writevSync concatenates in JavaScript (no real pwritev): let core coalesce.
    writev: NO_PWRITEV ? undefined : (bufs, position) => fs.writevSync(fd, bufs, position),
    truncate: (length) => fs.ftruncateSync(fd, length),
    datasync: () => call<void>((cb) => fs.fdatasync(fd, cb)),
    fsync: () => call<void>((cb) => fs.fsync(fd, cb)),
    close: () => fs.closeSync(fd),
  };
}

/** Bun's `node:fs` takes the process's own descriptors; Deno's has numbers of its own. */
const RAW_FDS = detectRuntime() === "bun";

/** The path-based calls `fs/_beneath.ts` builds on, on `/proc/self/fd/<fd>` paths. */
const host: BeneathHost = {
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true, mode: 0o755 });
  },
  readDir: async (path) => {
    const entries = await fsp.readdir(path, { withFileTypes: true, encoding: "utf8" });
    return entries.map((e): DirEntry => ({ name: e.name, isFile: e.isFile() }));
  },
  syncDir: async (path) => {
    const fd = await call<number>((cb) => fs.open(path, fs.constants.O_RDONLY, 0, cb));
    try {
      await call<void>((cb) => fs.fsync(fd, cb));
    } finally {
      fs.closeSync(fd);
    }
  },
  adopt: async (raw, path, close) => {
    if (RAW_FDS) return filePort(checkRegular(raw, path), path);
    // Reopened through the descriptor's /proc entry, which names this very file.
    let fd;
    try {
      fd = await call<number>((cb) => fs.open(`/proc/self/fd/${raw}`, fs.constants.O_RDWR, 0, cb));
    } finally {
      close(raw);
    }
    return filePort(checkRegular(fd, path), path);
  },
};

/** The `node:fs` port: works wherever `node:fs` does (Deno, Bun, Node). */
export const nodeFileSystem: FileSystemPort = {
  name: "node:fs",
  mkdir: beneathOr(host, "mkdir", (path) => host.mkdir(path)),
  readDir: beneathOr(host, "readDir", (path) => host.readDir(path)),
  syncDir: beneathOr(host, "syncDir", (path) => host.syncDir(path)),
  removeFile: beneathOr(host, "removeFile", (path) => fsp.unlink(path)),
  lock: lockDirectory,
  readPool: sharedAsyncReads,
  kind: beneathOr(host, "kind", async (path) => {
    let st: fs.Stats;
    try {
      st = await fsp.lstat(path);
    } catch (err) {
      const code = errorCode(err);
      if (code === "ENOENT" || code === "ENOTDIR") return "missing";
      throw err;
    }
    if (st.isSymbolicLink()) return "symlink";
    if (st.isDirectory()) return "dir";
    return st.isFile() ? "file" : "other";
  }),
  removeDir: beneathOr(host, "removeDir", async (path) => {
    if (!(await fsp.lstat(path)).isDirectory()) {
      throw Object.assign(new Error(`not a directory: ${path}`), { code: "ENOTDIR" });
    }
    await fsp.rm(path, { recursive: true, force: false, maxRetries: 0, retryDelay: 100 });
  }),
  open: beneathOr(host, "open", async (path) => filePort(await openRegular(path), path)),
  // Large results: unpooled and not zeroed (a read overwrites every byte or
  // fails), viewed as a plain Uint8Array so no Buffer leaks out. Small ones: a
  // plain allocation, cheaper than the Buffer plus the view (on Bun, 4 KiB
  // reads lose a third through the view; see bench/RESULTS.md).
  allocForRead: (length): Uint8Array<ArrayBuffer> => {
    if (length < UNZEROED_FROM) return new Uint8Array(length);
    const b = Buffer.allocUnsafeSlow(length);
    // An ArrayBuffer of its own (never pooled, never shared), whatever version
    // of @types/node types `b.buffer`.
    return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, length);
  },
};
