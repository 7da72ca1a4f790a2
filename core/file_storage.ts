/**
 * {@linkcode FileStorage}: the on-disk contract of blobrt, written once over a
 * {@linkcode FileSystemPort} so that every filesystem driver keeps it the same
 * way. Byte-compatible with commonware-runtime:
 * `<directory>/<partition>/<lowercase hex of the name>`, 8-byte `CWIC` header.
 *
 * - `open` creates or opens; a new (or shorter than 8 bytes) file gets a fresh
 *   header and is made durable (file, partition directory and root fsynced)
 *   before `open` resolves. A bad header is refused (`BlobCorrupt`) and the
 *   file is left as it was.
 * - `remove` fsyncs the parent directory before it resolves.
 * - `scan` refuses a partition holding anything but canonical lowercase hex
 *   files (`PartitionCorrupt`).
 * - `open`, `remove` and `scan` run one at a time per storage. A promise cannot
 *   be cancelled, so a creation that has started always runs to completion.
 * - Reads and writes use the port's synchronous positional calls: one handle
 *   can serve many concurrent callers and no two of its operations interleave.
 *   `sync` runs off the event loop; `close` waits for syncs in flight.
 *
 * @example A driver is a port plus this class
 * ```ts
 * import { FileStorage } from "@blobrt/storage/file-storage";
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

import {
  checkOpenArgs,
  checkRead,
  checkReadBuf,
  checkRemoveArgs,
  checkResize,
  checkSync,
  checkWrite,
} from "./args.ts";
import { StorageError } from "./errors.ts";
import { encodeHeader, HEADER_SIZE, validateHeader } from "./header.ts";
import { IoBufMut } from "./io_buf_mut.ts";
import { IoBufsMut } from "./io_bufs_mut.ts";
import { fromHex, toHex, validatePartitionName } from "./names.ts";
import { errorCode, type FilePort, type FileSystemPort } from "./file_port.ts";
import { concat } from "./view.ts";
import {
  type Blob,
  type BlobName,
  type OpenedBlob,
  openedBlob,
  type OpenOptions,
  type ReadTarget,
  type Storage,
  type WriteData,
  type WriteOptions,
} from "./types.ts";

export { errorCode, type FilePort, type FileSystemPort } from "./file_port.ts";
export type { DirEntry } from "./file_port.ts";

/** Options of every filesystem driver. */
export interface FileStorageOptions {
  /** The root directory; created on first use. */
  directory: string;
}

/** Chunks of a vectored write smaller than this (on average) are copied into one buffer. */
const COALESCE_BELOW = 16 * 1024;
/** Most buffers handed to one `pwritev` (IOV_MAX is 1024 on Linux). */
const WRITEV_BATCH = 1024;

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
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Creates the storage; nothing touches the disk until the first operation.
   *
   * @param options Where the blobs live.
   * @param port How to reach the filesystem.
   */
  constructor(options: FileStorageOptions, port: FileSystemPort) {
    if (typeof options?.directory !== "string" || options.directory === "") {
      throw new TypeError("options.directory must be a non-empty string");
    }
    this.#root = options.directory;
    this.#fs = port;
  }

  /** The root directory. */
  get directory(): string {
    return this.#root;
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
      return this.#serial(() => this.#open(partition, hex, versions));
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
      return this.#serial(() => this.#remove(partition, hex));
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
  scan(partition: string): Promise<Uint8Array[]> {
    try {
      validatePartitionName(partition);
      return this.#serial(() => this.#scan(partition));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #open(
    partition: string,
    hex: string,
    versions: { min: number; max: number },
  ): Promise<OpenedBlob> {
    const dir = join(this.#root, partition);
    try {
      await this.#fs.mkdir(dir);
    } catch (cause) {
      throw new StorageError("PartitionCreationFailed", { partition, cause });
    }
    let file: FilePort;
    try {
      file = await this.#fs.open(join(dir, hex));
    } catch (cause) {
      throw new StorageError("BlobOpenFailed", { partition, blob: hex, cause });
    }
    try {
      let size = file.size();
      let version: number;
      if (size < HEADER_SIZE) {
        // New, or torn at creation: stamp a fresh header and make it durable.
        version = versions.max;
        writeFully(file, encodeHeader(version), 0);
        await file.fsync();
        await this.#fs.syncDir(dir);
        await this.#fs.syncDir(this.#root);
        size = HEADER_SIZE;
      } else {
        const header = new Uint8Array(HEADER_SIZE);
        if (readInto(file, header, 0) < HEADER_SIZE) throw new Error("file shrank while opening");
        version = validateHeader(header, versions, partition, hex);
      }
      const blob = new FileBlob(file, size, partition, hex, this.#fs.allocForRead);
      return openedBlob(blob, size - HEADER_SIZE, version);
    } catch (err) {
      file.close();
      if (err instanceof StorageError) throw err;
      throw new StorageError("BlobOpenFailed", { partition, blob: hex, cause: err });
    }
  }

  async #remove(partition: string, hex: string | undefined): Promise<void> {
    const dir = join(this.#root, partition);
    if (hex === undefined) {
      try {
        await this.#fs.removeDir(dir);
      } catch (cause) {
        throw partitionError(partition, cause);
      }
      await this.#syncDir(this.#root, partition);
      return;
    }
    try {
      await this.#fs.removeFile(join(dir, hex));
    } catch (cause) {
      if (errorCode(cause) !== "ENOENT") throw partitionError(partition, cause, hex);
      const listing = await this.#fs.readDir(dir).then(() => undefined, (err: unknown) => err);
      if (listing !== undefined) throw partitionError(partition, listing);
      throw new StorageError("BlobMissing", { partition, blob: hex, cause });
    }
    await this.#syncDir(dir, partition);
  }

  async #syncDir(path: string, partition: string): Promise<void> {
    try {
      await this.#fs.syncDir(path);
    } catch (cause) {
      throw new StorageError("Io", { partition, cause });
    }
  }

  async #scan(partition: string): Promise<Uint8Array[]> {
    let entries;
    try {
      entries = await this.#fs.readDir(join(this.#root, partition));
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

/**
 * The error for a failed operation on a partition's directory: `ENOENT` is
 * `PartitionMissing`, `ENOTDIR` (a file where the directory should be) is
 * `PartitionCorrupt`, anything else `Io`.
 */
function partitionError(partition: string, cause: unknown, blob?: string): StorageError {
  switch (errorCode(cause)) {
    case "ENOENT":
      return new StorageError("PartitionMissing", { partition, cause });
    case "ENOTDIR":
      return new StorageError("PartitionCorrupt", { partition, reason: "not a directory", cause });
    default:
      return new StorageError("Io", { partition, blob, cause });
  }
}

/** Reads until `buf` is full or the file ends; returns the count read. */
function readInto(file: FilePort, buf: Uint8Array, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = file.read(done === 0 ? buf : buf.subarray(done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buf`, retrying short writes. */
function writeFully(file: FilePort, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = file.write(done === 0 ? buf : buf.subarray(done), position + done);
    if (n <= 0) throw new Error(`write made no progress at position ${position + done}`);
    done += n;
  }
}

/** Writes all of `chunks` in order with `pwritev`, in batches, retrying short writes. */
function writevFully(
  file: FilePort & Required<Pick<FilePort, "writev">>,
  chunks: Uint8Array[],
  position: number,
): void {
  let i = 0;
  while (i < chunks.length) {
    const batch = chunks.slice(i, i + WRITEV_BATCH);
    let n = file.writev(batch, position);
    if (n <= 0) throw new Error(`pwritev made no progress at position ${position}`);
    position += n;
    // Skip what was written; a chunk written in part goes on from where it stopped.
    while (n > 0 && n >= chunks[i].length) n -= chunks[i++].length;
    if (n > 0) {
      chunks[i] = chunks[i].subarray(n);
    }
  }
}

/**
 * Scratch memory for coalescing vectored writes, reused across calls: the
 * copy and the write that follows are synchronous, so one buffer serves every
 * handle. Writes larger than `SCRATCH_MAX` get their own buffer.
 */
let scratch = new Uint8Array(0);
const SCRATCH_MAX = 1 << 20;

function coalesce(chunks: Uint8Array[], length: number): Uint8Array {
  if (length > SCRATCH_MAX) return concat(chunks, new Uint8Array(length));
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 64 * 1024));
  return concat(chunks, scratch.subarray(0, length));
}

/** A handle on one blob file. */
class FileBlob implements Blob {
  readonly #file: FilePort;
  readonly #alloc: (length: number) => Uint8Array;
  readonly #partition: string;
  readonly #hex: string;
  /** Physical size (header included), as this handle has made it. */
  #size: number;
  #closed = false;
  #syncing = 0;
  #drained: (() => void) | undefined;

  constructor(
    file: FilePort,
    size: number,
    partition: string,
    hex: string,
    alloc: (length: number) => Uint8Array = (length) => new Uint8Array(length),
  ) {
    this.#alloc = alloc;
    this.#file = file;
    this.#size = size;
    this.#partition = partition;
    this.#hex = hex;
  }

  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    checkRead(offset, length, this.#closed);
    if (length > 0) this.#inBounds(offset, length); // before allocating `length` bytes
    const buf = this.#alloc(length);
    if (length > 0) this.#read(buf, offset);
    return new IoBufsMut(new IoBufMut(buf));
  }

  async readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    const bufs = checkReadBuf(offset, length, target, this.#closed);
    if (length === 0) return bufs;
    this.#inBounds(offset, length);
    const chunks = bufs.buffers();
    for (let i = 0; i < chunks.length; i++) {
      const view = chunks[i].bytes();
      if (view.length === 0) break; // chunks after the first short one receive nothing
      this.#read(view, offset);
      offset += view.length;
    }
    return bufs;
  }

  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const { chunks, length, sync } = checkWrite(offset, data, options, this.#closed);
    if (length === 0) return;
    const position = offset + HEADER_SIZE;
    const file = this.#file;
    try {
      if (chunks.length === 1) writeFully(file, chunks[0], position);
      else if (file.writev !== undefined && length / chunks.length >= COALESCE_BELOW) {
        writevFully(file as Required<FilePort>, chunks, position);
      } else writeFully(file, coalesce(chunks, length), position);
    } catch (cause) {
      throw this.#error("WriteFailed", cause);
    }
    if (position + length > this.#size) this.#size = position + length;
    if (sync) await this.#datasync();
  }

  async resize(length: number): Promise<void> {
    checkResize(length, this.#closed);
    try {
      this.#file.truncate(length + HEADER_SIZE);
    } catch (cause) {
      throw this.#error("BlobResizeFailed", cause);
    }
    this.#size = length + HEADER_SIZE;
  }

  async sync(): Promise<void> {
    checkSync(this.#closed);
    await this.#datasync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#syncing > 0) await new Promise<void>((resolve) => this.#drained = resolve);
    this.#file.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #inBounds(offset: number, length: number): void {
    if (offset + HEADER_SIZE + length > this.#size) {
      throw new StorageError("BlobInsufficientLength");
    }
  }

  /** Fills `buf` from logical `offset` (already checked in bounds), or throws the reason. */
  #read(buf: Uint8Array, offset: number): void {
    const position = offset + HEADER_SIZE;
    let n: number;
    try {
      n = readInto(this.#file, buf, position);
    } catch (cause) {
      throw this.#error("ReadFailed", cause);
    }
    if (n < buf.length) throw new StorageError("BlobInsufficientLength");
  }

  async #datasync(): Promise<void> {
    this.#syncing++;
    try {
      await this.#file.datasync();
    } catch (cause) {
      throw this.#error("BlobSyncFailed", cause);
    } finally {
      if (--this.#syncing === 0) this.#drained?.();
    }
  }

  #error(
    code: "ReadFailed" | "WriteFailed" | "BlobResizeFailed" | "BlobSyncFailed",
    cause: unknown,
  ) {
    return new StorageError(code, { partition: this.#partition, blob: this.#hex, cause });
  }
}
