/**
 * The port a filesystem driver implements: the few file and directory
 * primitives {@linkcode FileStorage} needs, in one runtime's terms. Core holds
 * every rule of the on-disk contract; a driver only says how to call its
 * runtime.
 *
 * Positional calls are synchronous: on one thread a synchronous call cannot
 * interleave with another, which is what makes concurrent use of one handle
 * safe, and for page-cached data it is also the fastest path each runtime has.
 * Everything that may wait on the disk for long (`datasync`, directory syncs,
 * opens) is asynchronous.
 *
 * @example A port is a plain object
 * ```ts
 * import type { FileSystemPort } from "@blobrt/storage/driver";
 *
 * function describe(port: FileSystemPort): string {
 *   return port.name;
 * }
 * ```
 *
 * @module
 */

/** An open file, addressed by physical byte positions. */
export interface FilePort {
  /**
   * The OS file descriptor, where the port has one that other threads of the
   * process can use: reads of data not in the page cache then run on worker
   * threads. Optional: without it every read is synchronous.
   */
  readonly fd?: number;
  /** The file's path, with `fd`: how a worker thread that cannot share `fd` reaches the file. */
  readonly path?: string;
  /** Current file size in bytes. */
  size(): number;
  /** Reads into `buf` at `position`; returns the count read (0 at end of file). */
  read(buf: Uint8Array, position: number): number;
  /** Writes `buf` at `position`; returns the count written (may be short). Keeps no reference to `buf`. */
  write(buf: Uint8Array, position: number): number;
  /**
   * Writes `bufs` in order at `position` in one call where the runtime has a
   * real `pwritev`; returns the count written (may be short). Optional.
   */
  writev?(bufs: Uint8Array[], position: number): number;
  /** Sets the file size. */
  truncate(length: number): void;
  /** Flushes the file's data (fdatasync) without blocking the event loop. */
  datasync(): Promise<void>;
  /** Flushes data and metadata (fsync) without blocking the event loop. */
  fsync(): Promise<void>;
  /** Closes the file. */
  close(): void;
}

/**
 * Reads on other threads, so that reads of data not in the page cache leave
 * the event loop free and run in parallel.
 */
export interface ReadOffload {
  /**
   * Reads up to `buffer.byteLength` bytes at `position` of `fd` (the file at
   * `path`) on another thread; resolves with the count read (short only at
   * end of file; -1 when that thread could not reach this very file) and the
   * buffer, which was transferred away and comes back.
   */
  read(
    fd: number,
    path: string,
    buffer: ArrayBuffer,
    position: number,
  ): Promise<{ done: number; buffer: ArrayBuffer }>;
}

/**
 * One storage's share of its process's lock on a directory, as a port's
 * `lock` resolves it.
 *
 * @example A lock that checks nothing and releases nothing
 * ```ts
 * import type { DirectoryLock } from "@blobrt/storage/driver";
 *
 * const share: DirectoryLock = { check() {}, release() {} };
 * share.check();
 * share.release();
 * ```
 */
export interface DirectoryLock {
  /**
   * Throws an error of code {@linkcode LOCKED} when the lock no longer
   * covers the directory (replaced, or its lock file tampered with where the
   * lock is that file). The engine calls it before each `open`, `remove` and
   * `scan`.
   */
  check(): void;
  /** Gives the share back; the process's last share releases the lock. A second call does nothing. */
  release(): void;
}

/** One entry of a directory listing. */
export interface DirEntry {
  /** The entry's name. */
  name: string;
  /** Whether it is a regular file. */
  isFile: boolean;
}

/**
 * The directory and file-opening primitives of one runtime.
 *
 * Nothing inside the storage directory is followed: `open` refuses a symbolic
 * link or anything but a regular file, and the engine asks `kind` before it
 * uses a partition directory. The root directory itself may be a symbolic
 * link: that is the user's choice, and it is followed.
 *
 * The engine passes the storage root as `root` to each call on a path below
 * it (`path` is then `root` joined with names). A port that can resolves such
 * a path beneath `root` without following a symbolic link at any component,
 * so another process swapping a directory for a link mid-call cannot send
 * it outside (`ELOOP`, or `ENOTDIR` for a directory on the way, and `kind`
 * says `"symlink"`); the ports of this package do where the runtime has FFI on
 * Linux (`fs/_beneath.ts`). A port may ignore `root` and resolve `path`.
 */
export interface FileSystemPort {
  /** Short name for messages and benchmarks, such as `"node:fs"`. */
  readonly name: string;
  /** Creates a directory and its parents; no error if it exists. */
  mkdir(path: string, root?: string): Promise<void>;
  /** Lists a directory. */
  readDir(path: string, root?: string): Promise<DirEntry[]>;
  /** fsyncs a directory, making its entries durable. */
  syncDir(path: string, root?: string): Promise<void>;
  /** Removes a file. */
  removeFile(path: string, root?: string): Promise<void>;
  /** Removes a directory and everything in it. */
  removeDir(path: string, root?: string): Promise<void>;
  /**
   * What `path` names, without following a symbolic link in its last
   * component (`lstat`); `"missing"` when nothing is there or a parent is not
   * a directory. Optional: without it the engine cannot refuse a partition
   * directory that is a symbolic link, and relies on `open` alone for blobs.
   */
  kind?(path: string, root?: string): Promise<"file" | "dir" | "symlink" | "other" | "missing">;
  /**
   * Takes this process's exclusive lock on a storage directory, which exists;
   * resolves at once when this process holds it already, and rejects with an
   * error of code {@linkcode LOCKED} while another live process holds it. The
   * lock dies with the process (SIGKILL included). Resolves with the caller's
   * share of it ({@linkcode DirectoryLock}), which `storage.close()` gives
   * back; a port that resolves nothing keeps the lock until the process
   * exits. Optional: without it, two processes can open the same directory.
   */
  lock?(directory: string): Promise<DirectoryLock | void>;
  /**
   * The process's shared pool of `depth` reader threads, for reads of data
   * that is not in the page cache (see {@linkcode ReadOffload}). Optional:
   * without it, or with `readDepth: 0`, every read runs on the calling thread.
   * A port that has it imports threads; one for the browser leaves it out.
   */
  readPool?(depth: number): ReadOffload;
  /**
   * Opens a regular file for reading and writing, creating it if missing.
   * It never follows a symbolic link in the last component, and never creates
   * the target of a dangling one: a symbolic link rejects with an error of
   * code `ELOOP`. Anything else but a regular file rejects (`EISDIR` for a
   * directory, {@linkcode NOT_REGULAR} otherwise), closing what it opened.
   */
  open(path: string, root?: string): Promise<FilePort>;
  /**
   * Allocates a plain `Uint8Array` of `length` bytes that a read will fill
   * completely, so it need not be zeroed first. It must own its memory, an
   * `ArrayBuffer` of its own (no shared pool, no `SharedArrayBuffer`):
   * `readAt` hands it to the caller as a `Uint8Array<ArrayBuffer>`. Optional:
   * the default is `new Uint8Array(length)`.
   */
  allocForRead?(length: number): Uint8Array<ArrayBuffer>;
}

/**
 * The error code a port's `open` rejects with when the path names something
 * that is neither a regular file, a directory nor a symbolic link (a FIFO, a
 * socket, a device): BSD's "inappropriate file type".
 *
 * @example
 * ```ts
 * import { errorCode, NOT_REGULAR } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const err = Object.assign(new Error("a FIFO: /data/p/66"), { code: NOT_REGULAR });
 * assert.equal(errorCode(err), "EFTYPE");
 * ```
 */
export const NOT_REGULAR = "EFTYPE";

/**
 * The error code a port's `lock` rejects with while another process holds
 * the storage directory; the engine answers it with `StorageLocked`.
 *
 * @example
 * ```ts
 * import { LOCKED } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(LOCKED, "ELOCKED");
 * ```
 */
export const LOCKED = "ELOCKED";

/**
 * An error of `code` for `path`, as a port rejects with.
 *
 * @param code The POSIX-style code, such as `ELOOP` or {@linkcode NOT_REGULAR}.
 * @param message What happened.
 * @param path The path.
 * @returns The error.
 */
export function portError(code: string, message: string, path: string): Error {
  return Object.assign(new Error(`${message}: ${path}`), { code, path });
}

/**
 * The POSIX error code (`ENOENT`, `ENOTDIR`, …) of an error thrown by Deno,
 * Bun or Node, or `undefined`.
 *
 * @example
 * ```ts
 * import { errorCode } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(errorCode(Object.assign(new Error("x"), { code: "ENOENT" })), "ENOENT");
 * assert.equal(errorCode(new Error("x")), undefined);
 * ```
 *
 * @param err The error.
 * @returns Its code.
 */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
