/**
 * {@linkcode FileStorage}: the on-disk contract of blobrt, written once over a
 * {@linkcode FileSystemPort} so that every filesystem driver keeps it the same
 * way. Byte-compatible with commonware-runtime:
 * `<directory>/<partition>/<lowercase hex of the name>`, each file starting
 * with a V0 (8-byte `CWIC`) or V1 (4096-byte `CWIK`) header.
 *
 * - `open` creates or opens, deciding as commonware main does
 *   ({@linkcode resolveHeader}). An existing blob opens in the layout its own
 *   header names. A new file, one shorter than 8 bytes, or a torn V1 creation
 *   gets a fresh header of the storage's `layout` in commonware main's order:
 *   the partition and root directories fsynced, the file truncated to 0, the
 *   whole header written, the file fsynced; then `open` resolves. Any other
 *   bad header is refused (`BlobCorrupt`) and the file is left as it was.
 * - `open` is durable, always: the first time a storage opens a blob whose
 *   header was already valid (left perhaps by an open that failed or was
 *   killed before its fsync), the file is fsynced, then, once per partition,
 *   the partition directory and the root, before `open` resolves. When the
 *   first `open` creates the root (or missing parents of it), the parent of
 *   each directory it created is fsynced too. The root's entry in its parent
 *   is fsynced by a storage's first operation even when the root exists (the
 *   process that made it may have been killed before its fsync): by the first
 *   `open`, or by a first `remove` or `scan` with the root as well.
 * - `remove` fsyncs the parent directory before it resolves.
 * - `scan` refuses a partition holding anything but canonical lowercase hex
 *   files (`PartitionCorrupt`).
 * - `open`, `remove` and `scan` run one at a time per storage. A promise cannot
 *   be cancelled, so a creation that has started always runs to completion.
 * - Nothing inside the directory is followed: a partition that is a symbolic
 *   link (or not a directory) is refused with `PartitionCorrupt` before
 *   anything is created, removed or listed in it, a blob that is a symbolic
 *   link or not a regular file with `BlobOpenFailed` (`open`, nothing created)
 *   or `PartitionCorrupt` (`remove`, nothing removed). The root directory
 *   itself may be a symbolic link: that is the user's choice, and it is
 *   followed. The checks are `lstat`s before the operation (plus `O_NOFOLLOW`
 *   or its equivalent on open, see the port).
 * - Nothing outside, even under a race: every port call on a path below the
 *   root is given the root, and where the port can (this package's ports on
 *   Linux with FFI: Bun, Deno with `--allow-ffi`; `fs/_beneath.ts`) it
 *   resolves the path beneath it with `openat2(RESOLVE_BENEATH |
 *   RESOLVE_NO_SYMLINKS)` and creates, removes and lists through directory
 *   descriptors, so a partition swapped for a link between check and use
 *   makes the call fail instead of reaching outside. Without FFI (Node; Deno
 *   without `--allow-ffi`) what remains is the window between each `lstat`
 *   and the path-based call after it: a partition swapped for a link to an
 *   outside directory there lets `mkdir` of the partition pass, and lets the
 *   blob's `open` create or open (and the header write reach) a file of that
 *   name outside, `remove` unlink one, `scan` list that directory and
 *   `remove(partition)` delete the link's target's entries through it. A
 *   cold read on a pool thread reopens the blob by path and checks it is the
 *   same file (`fs/_async_reads.ts`): it may open, but never read, a file
 *   outside.
 * - One process per directory: the first operation takes the port's `lock`
 *   on the root (`fs/_dir_lock.ts`: a `flock` on the directory itself where
 *   the runtime has one, plus the `.blobrt-lock` record) and holds its share
 *   until `close()` or the process exits; while another live process holds
 *   it, every operation rejects with `StorageLocked`, and so does one issued
 *   after the lock stopped covering the root (the directory replaced; on
 *   Node, the record removed or replaced). A `scan` or `remove` before the
 *   root exists takes no lock and touches nothing.
 * - `close()` runs after the operations issued before it, closes every handle
 *   the storage opened and gives back its share of the lock; later calls
 *   reject with `Closed`.
 * - Reads and writes use the port's synchronous positional calls: one handle
 *   can serve many concurrent callers and no two of its operations interleave.
 *   `sync` runs off the event loop; `close` waits for syncs in flight.
 *
 * @example A driver is a port plus this class
 * ```ts
 * import { FileStorage } from "@blobrt/storage/driver";
 * import { NodeStorage } from "@blobrt/storage/node";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * const storage = new NodeStorage({ directory });
 * assert.ok(storage instanceof FileStorage);
 * await Deno.remove(directory, { recursive: true });
 * ```
 *
 * @module
 */

import { checkOpenArgs, checkRemoveArgs } from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import {
  type BlobLayout,
  checkLayout,
  createHeader,
  HEADER_SIZE_V1,
  resolveHeader,
} from "../core/header.ts";
import { fromHex, toHex, validatePartitionName } from "../core/names.ts";
import { openedBlob } from "../core/opened.ts";
import { Serial } from "../core/_serial.ts";
import type { BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import { FileBlob, readInto, type ReadIo, writeFully } from "./_file_blob.ts";
import {
  type DirectoryLock,
  errorCode,
  type FilePort,
  type FileSystemPort,
  LOCKED,
  NOT_REGULAR,
} from "./port.ts";

/**
 * Options of every filesystem driver.
 *
 * @example
 * ```ts
 * import { type FileStorageOptions, NodeStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const options: FileStorageOptions = { directory: "/tmp/blobs", layout: "v1" };
 * assert.equal(new NodeStorage(options).layout, "v1"); // nothing touched yet
 * ```
 */
export interface FileStorageOptions {
  /** The root directory; created on first use. */
  directory: string;
  /**
   * The header of the blobs `open` creates or resets: `"v0"` (the default,
   * 8 bytes, read by every commonware release) or `"v1"` (4096 bytes with a
   * CRC32C, what commonware's main branch creates). Existing blobs keep their
   * own layout.
   */
  layout?: BlobLayout;
  /**
   * How many reads of data not in the page cache may run at once off the
   * event loop (on the runtime's asynchronous file calls, one handle per read
   * in flight), so they neither block the loop nor wait for one another
   * (default {@linkcode DEFAULT_READ_DEPTH}). `0` keeps every read on the
   * calling thread. Ports without an OS file descriptor (`DenoStorage`)
   * always read on the calling thread.
   */
  readDepth?: number;
}

/**
 * Cold reads in flight at once, by default: 16, each on the runtime's
 * asynchronous file calls (bench/RESULTS.md).
 *
 * @example
 * ```ts
 * import { DEFAULT_READ_DEPTH } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_READ_DEPTH, 16);
 * ```
 */
export const DEFAULT_READ_DEPTH: number = 16;

function checkReadDepth(depth: unknown): number {
  if (depth === undefined) return DEFAULT_READ_DEPTH;
  if (typeof depth !== "number") {
    throw new TypeError(`readDepth must be a number, got ${typeof depth}`);
  }
  if (!Number.isSafeInteger(depth) || depth < 0 || depth > 1024) {
    throw new RangeError(`readDepth must be an integer in 0..=1024, got ${depth}`);
  }
  return depth;
}

function readIo(depth: number, port: FileSystemPort): ReadIo {
  if (depth === 0 || port.readPool === undefined) return {};
  return { pool: port.readPool(depth) };
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/**
 * A {@linkcode Storage} of files in a directory, over any
 * {@linkcode FileSystemPort}. The filesystem drivers extend it.
 *
 * @example
 * ```ts
 * import { NodeStorage } from "@blobrt/storage/node";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * const storage = new NodeStorage({ directory });
 * await using opened = await storage.open("p", "b");
 * await opened.blob.writeAt(0, new Uint8Array([1, 2, 3]), { sync: true });
 * assert.deepEqual((await Deno.readFile(`${directory}/p/62`)).subarray(8), new Uint8Array([1, 2, 3]));
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export class FileStorage implements Storage {
  readonly #fs: FileSystemPort;
  readonly #root: string;
  readonly #layout: BlobLayout;
  readonly #readDepth: number;
  readonly #serial = new Serial();
  #io: ReadIo | undefined;
  /** Blobs (`partition/hex`) this storage has made durable (or created) since it started. */
  readonly #durable = new Set<string>();
  /** Partitions whose directory and the root this storage has fsynced since it started. */
  readonly #syncedPartitions = new Set<string>();
  /**
   * Directories whose entries for a root (or ancestor) this storage created
   * still need an fsync; `undefined` until the first `open` looks.
   */
  #rootParents: string[] | undefined;
  /** The parent of the root when the root existed at the first operation. */
  #existingParent: string | undefined;
  /** Whether this storage holds (shares) its process's lock on the root. */
  #locked = false;
  /** This storage's share of the lock, where the port gives one. */
  #share: DirectoryLock | undefined;
  /** The handles open now, for `close`. */
  readonly #handles = new Set<FileBlob>();
  /** Set by `close()`: every later operation rejects with `Closed`. */
  #closing: Promise<void> | undefined;

  /**
   * Creates the storage; nothing touches the disk until the first operation.
   *
   * @param options Where the blobs live, and the layout of new ones.
   * @param port How to reach the filesystem.
   * @throws {TypeError} When `directory` is not a non-empty string, or `layout` not a string.
   * @throws {RangeError} When `layout` is neither `"v0"` nor `"v1"`.
   */
  constructor(options: FileStorageOptions, port: FileSystemPort) {
    if (typeof options?.directory !== "string" || options.directory === "") {
      throw new TypeError("options.directory must be a non-empty string");
    }
    this.#root = options.directory;
    this.#layout = checkLayout(options.layout);
    this.#readDepth = checkReadDepth(options.readDepth);
    this.#fs = port;
  }

  /** The root directory. */
  get directory(): string {
    return this.#root;
  }

  /** The layout of the blobs `open` creates or resets. */
  get layout(): BlobLayout {
    return this.#layout;
  }

  /**
   * Opens or creates a blob (see {@linkcode Storage.open}).
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @param options Accepted versions.
   * @returns The handle, logical size and version.
   */
  open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob> {
    try {
      const { name: bytes, versions } = checkOpenArgs(partition, name, options);
      const hex = toHex(bytes);
      this.#checkOpen(partition, hex);
      return this.#serial.run(() => this.#open(partition, hex, versions));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Removes a blob, or the whole partition when `name` is omitted; durable when
   * it resolves. Open handles keep reading what they had.
   *
   * @param partition Partition name.
   * @param name Blob name; omit to remove the partition.
   */
  remove(partition: string, name?: BlobName): Promise<void> {
    try {
      const bytes = checkRemoveArgs(partition, name);
      const hex = bytes === undefined ? undefined : toHex(bytes);
      this.#checkOpen(partition, hex);
      return this.#serial.run(() => this.#remove(partition, hex));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The blob names of a partition, sorted bytewise.
   *
   * @param partition Partition name.
   * @returns The names.
   */
  scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]> {
    try {
      validatePartitionName(partition);
      this.#checkOpen(partition, undefined);
      return this.#serial.run(() => this.#scan(partition));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Closes every handle this storage opened (each waits for what was issued
   * on it before), then gives back its share of the directory lock: once no
   * storage of this process holds the directory, the lock is released (and
   * the lock file deleted), so another process can take it. Operations
   * issued before `close` complete first; later ones reject with `Closed`.
   * A second call returns the first one's promise.
   *
   * @example
   * ```ts
   * import { NodeStorage } from "@blobrt/storage/node";
   * import assert from "node:assert/strict";
   *
   * const directory = await Deno.makeTempDir();
   * const storage = new NodeStorage({ directory });
   * const { blob } = await storage.open("p", "b");
   * await storage.close();
   * await assert.rejects(blob.sync(), { code: "Closed" });
   * await assert.rejects(storage.scan("p"), { code: "Closed" });
   * await Deno.remove(directory, { recursive: true });
   * ```
   *
   * @returns A promise that resolves once every handle is closed and the lock released.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#serial.run(async () => {
      const closes = await Promise.allSettled([...this.#handles].map((blob) => blob.close()));
      this.#handles.clear();
      this.#share?.release();
      this.#share = undefined;
      for (const c of closes) if (c.status === "rejected") throw c.reason;
    });
  }

  /**
   * Same as {@linkcode FileStorage.close}, for `await using`.
   *
   * @returns The promise of `close()`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Throws `Closed` once `close()` was called. */
  #checkOpen(partition: string, blob: string | undefined): void {
    if (this.#closing !== undefined) throw new StorageError("Closed", { partition, blob });
  }

  async #open(
    partition: string,
    hex: string,
    versions: { min: number; max: number },
  ): Promise<OpenedBlob> {
    const dir = join(this.#root, partition);
    try {
      // Never create through a link: checked before mkdir, and again after it
      // (mkdir accepts a link to a directory as the directory).
      refuseNonDirectory(partition, hex, await this.#fs.kind?.(dir, this.#root));
      this.#rootParents ??= await this.#missingAncestors();
      await this.#lock(partition, hex, true);
      await this.#fs.mkdir(dir, this.#root);
      // The root and any parents that mkdir created: their entries made durable.
      while (this.#rootParents.length > 0) {
        await this.#syncParent(this.#rootParents[0]!);
        this.#rootParents.shift();
      }
      refuseNonDirectory(partition, hex, await this.#fs.kind?.(dir, this.#root));
    } catch (cause) {
      if (cause instanceof StorageError) throw cause;
      throw new StorageError("PartitionCreationFailed", { partition, blob: hex, cause });
    }
    let file: FilePort;
    try {
      file = await this.#fs.open(join(dir, hex), this.#root);
    } catch (cause) {
      const code = errorCode(cause);
      const reason = code === "ELOOP"
        ? "a symbolic link"
        : code === "EISDIR" || code === NOT_REGULAR
        ? "not a regular file"
        : undefined;
      throw new StorageError("BlobOpenFailed", { partition, blob: hex, reason, cause });
    }
    /** Set while this open writes a fresh header: on failure, the file goes. */
    let creating = false;
    try {
      const rawLength = file.size();
      const raw = new Uint8Array(Math.min(rawLength, HEADER_SIZE_V1));
      if (readInto(file, raw, 0) < raw.length) throw new Error("file shrank while opening");
      let header = resolveHeader(raw, rawLength, versions, partition, hex);
      const key = `${partition}/${hex}`;
      if (header !== undefined && !this.#durable.has(key)) {
        // A valid header this storage did not write: it may come from an open
        // that failed or was killed before its fsync. Made durable once per
        // storage: the file, then (once per partition) its directory and the root.
        await file.fsync();
        if (!this.#syncedPartitions.has(partition)) {
          await this.#fs.syncDir(dir, this.#root);
          await this.#fs.syncDir(this.#root);
          this.#syncedPartitions.add(partition);
        }
      }
      if (header === undefined) {
        // New, short or torn: create it afresh. The directories come first, so
        // that a parseable header always means durable directory entries; the
        // truncation keeps a torn write from splicing old bytes into a header.
        creating = true;
        await this.#fs.syncDir(dir, this.#root);
        await this.#fs.syncDir(this.#root);
        const region = createHeader(this.#layout, versions.max);
        file.truncate(0);
        writeFully(file, region, 0);
        await file.fsync();
        this.#syncedPartitions.add(partition);
        header = {
          layout: this.#layout,
          version: versions.max,
          dataOffset: region.length,
          size: 0,
        };
      }
      this.#durable.add(key);
      const { dataOffset, size, version } = header;
      const alloc = this.#fs.allocForRead;
      const io = this.#io ??= readIo(this.#readDepth, this.#fs);
      const blob = new TrackedBlob(file, dataOffset + size, dataOffset, partition, hex, alloc, io);
      blob.track(this.#handles);
      return openedBlob(blob, size, version);
    } catch (err) {
      file.close();
      // A creation (or reset of a short or torn file) that failed leaves no
      // blob for scan to list; a file it could not remove holds no valid
      // header or one that the next open makes durable.
      if (creating) await this.#fs.removeFile(join(dir, hex), this.#root).catch(() => {});
      if (err instanceof StorageError) throw err;
      throw new StorageError("BlobOpenFailed", { partition, blob: hex, cause: err });
    }
  }

  async #remove(partition: string, hex: string | undefined): Promise<void> {
    const dir = join(this.#root, partition);
    await this.#lock(partition, hex, false);
    await this.#syncRootOnce(partition, hex);
    await this.#checkPartition(partition, dir, hex);
    if (hex === undefined) {
      try {
        await this.#fs.removeDir(dir, this.#root);
      } catch (cause) {
        throw partitionError(partition, cause);
      }
      this.#forget(partition);
      await this.#syncDir(this.#root, partition);
      return;
    }
    const path = join(dir, hex);
    let kind;
    try {
      kind = await this.#fs.kind?.(path, this.#root);
    } catch (cause) {
      throw partitionError(partition, cause, hex);
    }
    if (kind === "symlink") {
      // Unlinking the link would be harmless, but it is not a blob: refused, kept.
      throw new StorageError("PartitionCorrupt", {
        partition,
        blob: hex,
        reason: "a symbolic link",
      });
    }
    try {
      this.#durable.delete(`${partition}/${hex}`);
      await this.#fs.removeFile(path, this.#root);
    } catch (cause) {
      if (errorCode(cause) !== "ENOENT") throw partitionError(partition, cause, hex);
      const listing = await this.#fs.readDir(dir, this.#root).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (listing !== undefined) throw partitionError(partition, listing, hex);
      throw new StorageError("BlobMissing", { partition, blob: hex, cause });
    }
    await this.#syncDir(dir, partition, hex);
  }

  /** Drops what this storage knew durable of a removed partition. */
  #forget(partition: string): void {
    this.#syncedPartitions.delete(partition);
    const prefix = `${partition}/`;
    for (const key of this.#durable) if (key.startsWith(prefix)) this.#durable.delete(key);
  }

  /**
   * The directories to fsync once `mkdir` has created the root: the parent of
   * the root and of each missing ancestor, nearest the filesystem root first.
   * Empty when the root exists (a symbolic link to a directory included).
   */
  /**
   * Takes the process's lock on the root at this storage's first operation
   * (with `create`, making the root first). Without a root there is nothing to
   * lock, and a `remove` or `scan` touches nothing.
   */
  async #lock(partition: string, blob: string | undefined, create: boolean): Promise<void> {
    if (this.#fs.lock === undefined) return;
    try {
      if (this.#locked) {
        // The lock must still cover the root (see `DirectoryLock.check`).
        this.#share?.check();
        return;
      }
      if (create) await this.#fs.mkdir(this.#root);
      this.#share = (await this.#fs.lock(this.#root)) ?? undefined;
      this.#locked = true;
    } catch (cause) {
      if (cause instanceof StorageError) throw cause;
      const code = errorCode(cause);
      if (code === "ENOENT" && !create) return;
      if (code === LOCKED) {
        const reason = (cause as Error).message;
        throw new StorageError("StorageLocked", { partition, blob, reason, cause });
      }
      const reason = code === "ENOTDIR" || code === "EEXIST"
        ? "the storage directory is not a directory"
        : undefined;
      // Making the root is part of creating the partition; otherwise the root failed us.
      throw new StorageError(create ? "PartitionCreationFailed" : "Io", {
        partition,
        blob,
        reason,
        cause,
      });
    }
  }

  async #missingAncestors(): Promise<string[]> {
    const parents: string[] = [];
    for (let path = trimSlashes(this.#root); !isTop(path); path = parentOf(path)) {
      if (!(await this.#missing(path))) break;
      parents.unshift(parentOf(path));
    }
    // The root's own entry, even when the root exists: the process that made
    // it may have died before it fsynced the parent.
    const root = trimSlashes(this.#root);
    if (parents.length === 0 && !isTop(root)) parents.push(this.#existingParent = parentOf(root));
    return parents;
  }

  /**
   * fsyncs a directory above the root. The parent of a root this storage did
   * not create may be one this process cannot open for reading (mode 0711,
   * or outside Deno's `--allow-read`): that fsync is skipped, as nothing
   * here can do it.
   */
  async #syncParent(dir: string): Promise<void> {
    try {
      await this.#fs.syncDir(dir);
    } catch (err) {
      if (dir !== this.#existingParent || !notAllowed(err)) throw err;
    }
  }

  /**
   * At the first `remove` or `scan` of a storage (before any `open`) on a
   * root that exists: its entry in its parent, and the root, made durable
   * (the first `open` does it with the partition and the file). Nothing when
   * the root is missing.
   */
  async #syncRootOnce(partition: string, blob?: string): Promise<void> {
    if (this.#rootParents !== undefined) return;
    const root = trimSlashes(this.#root);
    if (await this.#missing(root)) return;
    if (!isTop(root)) {
      this.#existingParent = parentOf(root);
      try {
        await this.#syncParent(this.#existingParent);
      } catch (cause) {
        throw new StorageError("Io", { partition, blob, cause });
      }
    }
    await this.#syncDir(root, partition, blob);
    this.#rootParents = [];
  }

  /** Whether nothing is at `path` (`lstat`, or a listing where the port has no `kind`). */
  async #missing(path: string): Promise<boolean> {
    if (this.#fs.kind !== undefined) return await this.#fs.kind(path) === "missing";
    try {
      await this.#fs.readDir(path);
      return false;
    } catch (err) {
      return errorCode(err) === "ENOENT";
    }
  }

  async #syncDir(path: string, partition: string, blob?: string): Promise<void> {
    try {
      const below = path.startsWith(join(this.#root, "")) && path !== join(this.#root, "");
      await this.#fs.syncDir(path, below ? this.#root : undefined);
    } catch (cause) {
      throw new StorageError("Io", { partition, blob, cause });
    }
  }

  /**
   * Refuses a partition that exists but is not a real directory (a symbolic
   * link to one included); a missing one is left to the operation to report.
   */
  async #checkPartition(partition: string, dir: string, blob?: string): Promise<void> {
    let kind;
    try {
      kind = await this.#fs.kind?.(dir, this.#root);
    } catch (cause) {
      throw partitionError(partition, cause, blob);
    }
    if (kind === undefined || kind === "dir" || kind === "missing") return;
    throw new StorageError("PartitionCorrupt", {
      partition,
      blob,
      reason: kind === "symlink" ? "a symbolic link" : "not a directory",
    });
  }

  async #scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]> {
    const dir = join(this.#root, partition);
    await this.#lock(partition, undefined, false);
    await this.#syncRootOnce(partition);
    await this.#checkPartition(partition, dir);
    let entries;
    try {
      entries = await this.#fs.readDir(dir, this.#root);
    } catch (cause) {
      throw partitionError(partition, cause);
    }
    const names: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile) {
        throw new StorageError("PartitionCorrupt", {
          partition,
          reason: `not a file: ${entry.name}`,
        });
      }
      if (fromHex(entry.name) === undefined) {
        throw new StorageError("PartitionCorrupt", {
          partition,
          reason: `not a lowercase hex blob name: ${entry.name}`,
        });
      }
      names.push(entry.name);
    }
    // Lowercase hex sorts in the same order as the bytes it encodes.
    return names.sort().map((hex) => fromHex(hex)!);
  }
}

/** A handle that leaves its storage's set of open handles when it closes. */
class TrackedBlob extends FileBlob {
  #handles: Set<FileBlob> | undefined;

  /** Joins `handles` until closed. */
  track(handles: Set<FileBlob>): void {
    this.#handles = handles;
    handles.add(this);
  }

  override close(): Promise<void> {
    this.#handles?.delete(this);
    return super.close();
  }
}

/** `path` without trailing separators (`/` stays `/`). */
function trimSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && isSep(path[end - 1]!)) end--;
  return path.slice(0, end);
}

function isSep(c: string): boolean {
  return c === "/" || c === "\\";
}

/** Whether `path` is a filesystem root or the current directory, which always exist. */
function isTop(path: string): boolean {
  return path === "" || path === "." || path === "/" || path === "\\" ||
    /^[A-Za-z]:[\\/]?$/.test(path);
}

/** The directory holding `path` (trimmed of trailing separators): `.` for a bare name. */
function parentOf(path: string): string {
  let i = path.length - 1;
  while (i >= 0 && !isSep(path[i]!)) i--;
  if (i < 0) return ".";
  const parent = trimSlashes(path.slice(0, i + 1));
  return /^[A-Za-z]:$/.test(parent) ? parent + path[i] : parent;
}

/** Whether `err` says this process may not open the path (`EACCES`, `EPERM`, Deno's `NotCapable`). */
function notAllowed(err: unknown): boolean {
  const code = errorCode(err);
  const name = (err as { name?: unknown } | null)?.name;
  return code === "EACCES" || code === "EPERM" || name === "NotCapable" ||
    name === "PermissionDenied";
}

/** Refuses, before anything is created, a partition that is a symbolic link or not a directory. */
function refuseNonDirectory(partition: string, blob: string, kind: string | undefined): void {
  if (kind === "symlink") {
    throw new StorageError("PartitionCorrupt", { partition, blob, reason: "a symbolic link" });
  }
  if (kind === "file" || kind === "other") {
    throw new StorageError("PartitionCorrupt", { partition, blob, reason: "not a directory" });
  }
}

/**
 * The error for a failed operation on a partition's directory: `ENOENT` is
 * `PartitionMissing`, `ENOTDIR` (a file where the directory should be) is
 * `PartitionCorrupt`, anything else `Io`.
 */
function partitionError(partition: string, cause: unknown, blob?: string): StorageError {
  switch (errorCode(cause)) {
    case "ENOENT":
      return new StorageError("PartitionMissing", { partition, blob, cause });
    case "ENOTDIR":
      return new StorageError("PartitionCorrupt", {
        partition,
        blob,
        reason: "not a directory",
        cause,
      });
    default:
      return new StorageError("Io", { partition, blob, cause });
  }
}
