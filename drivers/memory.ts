/**
 * {@linkcode MemoryStorage}: every blob in memory, with a model of durability
 * so programs can test crash recovery without a disk.
 *
 * The model, as a disk that loses its page cache on a crash:
 * - each partition holds *durable* files (raw bytes, header included: 8 bytes
 *   for a V0 blob, 4096 for a V1 blob; the `layout` option picks the header of
 *   new blobs, and an existing blob keeps its own);
 * - each `open` starts a handle from the durable image; that handle's writes and
 *   resizes are *live* until `sync()` makes them durable, or a `{ sync: true }`
 *   write makes just its own range (and any size it extends) durable;
 * - `close()` without `sync()` drops the handle's unsynced changes, and so does
 *   {@linkcode MemoryStorage.crash}, which also closes every open handle;
 * - `open`, `remove` and partition creation are durable when they resolve.
 *
 * @example Crash recovery
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const { blob } = await storage.open("journal", "0");
 * await blob.writeAt(0, new Uint8Array([1, 2, 3]));
 * await blob.sync();
 * await blob.writeAt(3, new Uint8Array([4, 5]));    // never synced
 * storage.crash();
 * await assert.rejects(blob.readAt(0, 1), { code: "Closed" });
 * const reopened = await storage.open("journal", "0");
 * assert.equal(reopened.size, 3);
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
  insufficientLength,
} from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import { spendTurn } from "../core/_turn.ts";
import {
  type BlobLayout,
  checkLayout,
  createHeader,
  HEADER_SIZE_V1,
  resolveHeader,
} from "../core/header.ts";
import { IoBufMut } from "../core/io_buf_mut.ts";
import { IoBufsMut } from "../core/io_bufs_mut.ts";
import { blobNameBytes, fromHex, toHex, validatePartitionName } from "../core/names.ts";
import type { Blob, BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import type { ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { openedBlob } from "../core/opened.ts";

/**
 * Growable bytes. Invariant: every byte of `data` at or past `length` is zero.
 * `data` starts `pad` bytes into its memory (see {@linkcode alloc}).
 */
interface Bytes {
  data: Uint8Array<ArrayBuffer>;
  length: number;
  pad: number;
}

/** The `pad` that puts file byte `dataOffset` (logical offset 0) on a 16-byte boundary. */
const padFor = (dataOffset: number): number => (16 - (dataOffset % 16)) % 16;

/**
 * Zeroed room for a raw image of `n` bytes, starting `pad` bytes into its
 * memory so that logical offset 0 is 16-byte aligned (8 for a V0 image, 0 for
 * V1): Bun's `set` is about 15× slower into a misaligned destination.
 */
function alloc(n: number, pad: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(n + pad).subarray(pad);
}

/** A copy of the first `length` bytes of `data`, starting `pad` bytes into its memory. */
function copyOf(data: Uint8Array, length: number, pad: number): Bytes {
  const out = alloc(length, pad);
  out.set(data.subarray(0, length));
  return { data: out, length, pad };
}

/** Moves `b` (in place: handles share it) to memory starting `pad` bytes in. */
function realign(b: Bytes, pad: number): void {
  if (b.pad === pad) return;
  const data = alloc(b.data.length, pad);
  data.set(b.data);
  b.data = data;
  b.pad = pad;
}

/** Makes room for `n` bytes, keeping the contents; new room is zero. */
function reserve(b: Bytes, n: number): void {
  if (n <= b.data.length) return;
  const grown = alloc(Math.max(n, Math.min(b.data.length * 2, n + (1 << 30))), b.pad);
  grown.set(b.data.subarray(0, b.length));
  b.data = grown;
}

/** Sets the length, zero-filling what a shrink drops (keeps the invariant). */
function setLength(b: Bytes, n: number): void {
  if (n < b.length) b.data.fill(0, n, b.length);
  else reserve(b, n);
  b.length = n;
}

/** Copies `src[from, to)` into `dst` at the same offsets, extending `dst` if needed. */
function copyRange(dst: Bytes, src: Bytes, from: number, to: number): void {
  if (to > dst.length) setLength(dst, to);
  dst.data.set(src.data.subarray(from, to), from);
}

/**
 * Options of {@linkcode MemoryStorage}.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type MemoryStorageOptions } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const options: MemoryStorageOptions = { layout: "v1" };
 * assert.equal(new MemoryStorage(options).layout, "v1");
 * ```
 */
export interface MemoryStorageOptions {
  /**
   * The header of the blobs `open` creates or resets: `"v0"` (the default,
   * 8 bytes, read by every commonware release) or `"v1"` (4096 bytes with a
   * CRC32C, what commonware's main branch creates). Existing blobs keep their
   * own layout.
   */
  layout?: BlobLayout;
}

/**
 * An in-memory {@linkcode Storage} that models durability (see the module
 * docs). It stores raw file images, header included, like a disk would, and
 * reads and heals them as the filesystem drivers do.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * await using opened = await storage.open("p", "greeting");
 * await opened.blob.writeAt(0, new TextEncoder().encode("hi"));
 * const read = await opened.blob.readAt(0, 2);
 * assert.equal(new TextDecoder().decode(read.bytes()), "hi");
 * assert.deepEqual(await storage.scan("p"), [new TextEncoder().encode("greeting")]);
 * ```
 */
export class MemoryStorage implements Storage {
  #partitions = new Map<string, Map<string, Bytes>>();
  #handles = new Set<MemoryBlob>();
  readonly #layout: BlobLayout;
  /** Set by `close()`: later operations reject with `Closed`. */
  #closed = false;

  /**
   * Creates an empty storage.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage({ layout: "v1" });
   * await using opened = await storage.open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array([1]), { sync: true });
   * assert.equal(storage.readRaw("p", "b")!.length, 4097); // data at byte 4096
   * ```
   *
   * @param options `layout`: the header of the blobs `open` creates or resets
   * (default `"v0"`).
   * @throws {TypeError} When `layout` is not a string.
   * @throws {RangeError} When `layout` is neither `"v0"` nor `"v1"`.
   */
  constructor(options: MemoryStorageOptions = {}) {
    this.#layout = checkLayout(options?.layout);
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
  async open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob> {
    const { name: bytes, versions } = checkOpenArgs(partition, name, options);
    const hex = toHex(bytes);
    this.#checkOpen(partition, hex);
    let files = this.#partitions.get(partition);
    if (files === undefined) this.#partitions.set(partition, files = new Map());
    let file = files.get(hex);
    if (file === undefined) files.set(hex, file = copyOf(new Uint8Array(0), 0, 0));
    const raw = file.data.subarray(0, Math.min(file.length, HEADER_SIZE_V1));
    const found = resolveHeader(raw, file.length, versions, partition, hex);
    if (found === undefined) {
      // New, short or torn: the fresh header goes straight into the durable image.
      const region = createHeader(this.#layout, versions.max);
      Object.assign(file, copyOf(region, region.length, padFor(region.length)));
    }
    const offset = found?.dataOffset ?? file.length;
    realign(file, padFor(offset));
    const blob = new MemoryBlob(file, offset, partition, hex, () => this.#handles.delete(blob));
    this.#handles.add(blob);
    return openedBlob(blob, found?.size ?? 0, found?.version ?? versions.max);
  }

  /**
   * Removes a blob, or the whole partition when `name` is omitted. Open handles
   * keep reading what they had.
   *
   * @param partition Partition name.
   * @param name Blob name; omit to remove the partition.
   */
  async remove(partition: string, name?: BlobName): Promise<void> {
    const bytes = checkRemoveArgs(partition, name);
    const hex = bytes === undefined ? undefined : toHex(bytes);
    this.#checkOpen(partition, hex);
    const files = this.#partitions.get(partition);
    if (files === undefined) throw new StorageError("PartitionMissing", { partition, blob: hex });
    if (hex === undefined) {
      this.#partitions.delete(partition);
      return;
    }
    if (!files.delete(hex)) throw new StorageError("BlobMissing", { partition, blob: hex });
  }

  /**
   * The blob names of a partition, sorted bytewise.
   *
   * @param partition Partition name.
   * @returns The names, each a new `Uint8Array<ArrayBuffer>`.
   */
  async scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]> {
    validatePartitionName(partition);
    this.#checkOpen(partition, undefined);
    const files = this.#partitions.get(partition);
    if (files === undefined) throw new StorageError("PartitionMissing", { partition });
    // Lowercase hex sorts in the same order as the bytes it encodes.
    return [...files.keys()].sort().map((hex) => fromHex(hex)!);
  }

  /**
   * Closes every open handle (dropping what they did not sync, as their own
   * `close` does); later `open`, `remove` and `scan` reject with `Closed`.
   * The blobs stay in memory: {@linkcode MemoryStorage.readRaw} still reads
   * them.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob } = await storage.open("p", "b");
   * await blob.writeAt(0, new Uint8Array([7]), { sync: true });
   * await storage.close();
   * await assert.rejects(blob.readAt(0, 1), { code: "Closed" });
   * assert.deepEqual(storage.readRaw("p", "b")?.subarray(8), new Uint8Array([7]));
   * ```
   *
   * @returns A promise that resolves once every handle is closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#handles].map((blob) => blob.close()));
  }

  /**
   * Same as {@linkcode MemoryStorage.close}, for `await using`.
   *
   * @returns The promise of `close()`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkOpen(partition: string, blob: string | undefined): void {
    if (this.#closed) throw new StorageError("Closed", { partition, blob });
  }

  /**
   * Simulates a process crash: every open handle is closed (its calls reject
   * with `Closed`) and every change not yet synced is lost.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob } = await storage.open("p", "b");
   * await blob.writeAt(0, new Uint8Array([7]), { sync: true });
   * await blob.writeAt(1, new Uint8Array([8]));
   * storage.crash();
   * const again = await storage.open("p", "b");
   * assert.equal(again.size, 1);
   * ```
   */
  crash(): void {
    for (const blob of this.#handles) blob.kill();
    this.#handles.clear();
  }

  /**
   * A copy of a blob's durable file image (header included), or `undefined` when
   * there is no such blob: what a disk would hold after a crash.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * await storage.open("p", "b", { versions: { min: 1, max: 1 } });
   * assert.deepEqual(storage.readRaw("p", "b"), new Uint8Array([67, 87, 73, 67, 0, 0, 0, 1]));
   * ```
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @returns The raw bytes.
   */
  readRaw(partition: string, name: BlobName): Uint8Array<ArrayBuffer> | undefined {
    const file = this.#partitions.get(partition)?.get(toHex(blobNameBytes(name)));
    return file?.data.slice(0, file.length);
  }

  /**
   * Replaces a blob's durable file image with `raw` (header included), creating
   * the partition and blob if needed: for testing what `open` does with short,
   * corrupt or foreign files. Handles already open are not affected.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * storage.writeRaw("p", "b", new TextEncoder().encode("NOT A BLOB"));
   * await assert.rejects(storage.open("p", "b"), { code: "BlobCorrupt" });
   * ```
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @param raw The file's bytes (copied).
   */
  writeRaw(partition: string, name: BlobName, raw: Uint8Array): void {
    const hex = toHex(blobNameBytes(name));
    validatePartitionName(partition);
    let files = this.#partitions.get(partition);
    if (files === undefined) this.#partitions.set(partition, files = new Map());
    files.set(hex, copyOf(raw, raw.length, 0)); // aligned for its layout when opened
  }
}

const noop = (): void => {};

/** A handle: live bytes started from the durable file, made durable by sync. */
class MemoryBlob implements Blob {
  #file: Bytes;
  #live: Bytes;
  /** File byte of logical offset 0: 8 (V0) or 4096 (V1), by the blob's own header. */
  readonly #offset: number;
  #closed = false;
  /** Closed by a crash: calls still waiting reject with `Closed`. */
  #killed = false;
  /** Calls waiting for the loop to turn: `close` waits for them. */
  #pending = 0;
  /** Resolves the waiting `close` once nothing waits. */
  #idle: (() => void) | undefined;
  /** The first `close`. */
  #closing: Promise<void> | undefined;
  #dirtyFrom = Infinity;
  #dirtyTo = 0;
  #onClose: () => void;
  /** What every error of this handle carries, built once. */
  readonly #where: { readonly partition: string; readonly blob: string };

  constructor(file: Bytes, offset: number, partition: string, hex: string, onClose: () => void) {
    this.#file = file;
    this.#offset = offset;
    this.#live = copyOf(file.data, file.length, file.pad);
    this.#onClose = onClose;
    this.#where = { partition, blob: hex };
  }

  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    checkRead(offset, length, this.#closed, this.#where, this.#offset);
    const turn = spendTurn(length);
    if (turn !== undefined) return await this.#later(turn, () => this.#readAt(offset, length));
    return this.#readAt(offset, length);
  }

  #readAt(offset: number, length: number): IoBufsMut {
    const start = this.#span(offset, length);
    let copy: Uint8Array<ArrayBuffer>;
    try {
      copy = this.#live.data.slice(start, start + length);
    } catch (cause) {
      throw this.#error("ReadFailed", cause); // more than this runtime can allocate
    }
    return new IoBufsMut(new IoBufMut(copy));
  }

  async readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    const bufs = checkReadBuf(offset, length, target, this.#closed, this.#where, this.#offset);
    const turn = spendTurn(length);
    if (turn !== undefined) {
      return await this.#later(turn, () => this.#readAtBuf(offset, length, bufs));
    }
    return this.#readAtBuf(offset, length, bufs);
  }

  #readAtBuf(offset: number, length: number, bufs: IoBufsMut): IoBufsMut {
    let at = this.#span(offset, length);
    for (const chunk of bufs.buffers()) {
      const view = chunk.bytes();
      view.set(this.#live.data.subarray(at, at + view.length));
      at += view.length;
    }
    return bufs;
  }

  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const { chunks, length, sync } = checkWrite(
      offset,
      data,
      options,
      this.#closed,
      this.#where,
      this.#offset,
    );
    if (length === 0) return;
    const turn = spendTurn(length);
    const start = offset + this.#offset;
    if (turn !== undefined) await this.#later(turn, () => this.#write(chunks, start, length, sync));
    else this.#write(chunks, start, length, sync);
  }

  #write(chunks: Uint8Array[], start: number, length: number, sync: boolean): void {
    const end = start + length;
    if (end > this.#live.length) this.#grow("WriteFailed", this.#live, end);
    let at = start;
    for (const chunk of chunks) {
      this.#live.data.set(chunk, at);
      at += chunk.length;
    }
    this.#dirty(start, end);
    if (sync) {
      if (end > this.#file.length) this.#grow("BlobSyncFailed", this.#file, end);
      copyRange(this.#file, this.#live, start, end);
    }
  }

  async resize(length: number): Promise<void> {
    checkResize(length, this.#closed, this.#where, this.#offset);
    const turn = spendTurn(0); // behind writes waiting for the loop to turn
    if (turn !== undefined) await this.#later(turn, () => this.#resize(length));
    else this.#resize(length);
  }

  #resize(length: number): void {
    const end = length + this.#offset;
    if (end > this.#live.length) this.#grow("BlobResizeFailed", this.#live, end);
    this.#dirty(Math.min(end, this.#live.length), Math.max(end, this.#live.length));
    setLength(this.#live, end);
  }

  async sync(): Promise<void> {
    checkSync(this.#closed, this.#where);
    const turn = spendTurn(0); // behind writes waiting for the loop to turn
    if (turn !== undefined) await this.#later(turn, () => this.#sync());
    else this.#sync();
  }

  #sync(): void {
    const live = this.#live;
    if (this.#file.length < live.length) this.#grow("BlobSyncFailed", this.#file, live.length);
    if (this.#file.length > live.length) setLength(this.#file, live.length);
    if (this.#dirtyFrom < this.#dirtyTo) {
      copyRange(this.#file, live, this.#dirtyFrom, Math.min(this.#dirtyTo, live.length));
    }
    if (this.#file.length < live.length) setLength(this.#file, live.length);
    this.#dirtyFrom = Infinity;
    this.#dirtyTo = 0;
  }

  /**
   * Waits for the calls issued before it (none is cut short), then drops the
   * live changes; later calls reject with `Closed`, and a second close only
   * waits for the first.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.then(noop, noop);
    this.#closed = true;
    return this.#closing = this.#close();
  }

  async #close(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((resolve) => this.#idle = resolve);
    this.kill();
    this.#onClose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Closes at once, without telling the storage (used by `crash`): waiting calls reject. */
  kill(): void {
    this.#closed = true;
    this.#killed = true;
    this.#live = { data: new Uint8Array(0), length: 0, pad: 0 };
  }

  /**
   * Runs `op` once the event loop has turned (see `core/_turn.ts`), counted
   * as in flight meanwhile; a crash meanwhile closes the handle (`Closed`).
   */
  async #later<T>(turn: Promise<void>, op: () => T): Promise<T> {
    this.#pending++;
    try {
      await turn;
      if (this.#killed) throw new StorageError("Closed", this.#where);
      return op();
    } finally {
      this.#done();
    }
  }

  /** Ends a call that waited: the last one lets a waiting `close` go on. */
  #done(): void {
    if (--this.#pending === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  /** Physical start of logical `[offset, offset + length)`, or `BlobInsufficientLength`. */
  #span(offset: number, length: number): number {
    const start = offset + this.#offset;
    if (length > 0 && start + length > this.#live.length) {
      throw insufficientLength(this.#where, offset, length, this.#live.length - this.#offset);
    }
    return start;
  }

  /**
   * Sets `b`'s length to `n` (> its length), or rejects with `code`: a legal
   * size this runtime cannot allocate is a storage failure, not a `RangeError`.
   */
  #grow(code: "WriteFailed" | "BlobResizeFailed" | "BlobSyncFailed", b: Bytes, n: number): void {
    try {
      setLength(b, n);
    } catch (cause) {
      throw this.#error(code, cause);
    }
  }

  #error(
    code: "ReadFailed" | "WriteFailed" | "BlobResizeFailed" | "BlobSyncFailed",
    cause: unknown,
  ): StorageError {
    return new StorageError(code, { ...this.#where, cause });
  }

  #dirty(from: number, to: number): void {
    if (from < this.#dirtyFrom) this.#dirtyFrom = from;
    if (to > this.#dirtyTo) this.#dirtyTo = to;
  }
}
