/**
 * The {@linkcode Storage} and {@linkcode Blob} interfaces every driver and
 * wrapper implements, and the small types around them.
 *
 * @example Using any storage through the interface
 * ```ts
 * import type { Storage } from "@blobrt/storage/types";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * async function roundTrip(storage: Storage): Promise<Uint8Array> {
 *   await using opened = await storage.open("logs", "day-1");
 *   await opened.blob.writeAt(0, new TextEncoder().encode("hello"));
 *   return (await opened.blob.readAt(0, 5)).bytes();
 * }
 * assert.deepEqual(await roundTrip(new MemoryStorage()), new TextEncoder().encode("hello"));
 * ```
 *
 * @module
 */

import type { IoBuf } from "./io_buf.ts";
import type { IoBufMut } from "./io_buf_mut.ts";
import type { IoBufs } from "./io_bufs.ts";
import type { IoBufsMut } from "./io_bufs_mut.ts";

/** A blob name: raw bytes, or a string standing for its UTF-8 bytes. Never empty. */
export type BlobName = Uint8Array | string;

/** An inclusive range of blob versions; each end is a u16. */
export interface VersionRange {
  /** The oldest accepted version. */
  min: number;
  /** The newest accepted version; new blobs are stamped with it. */
  max: number;
}

/**
 * The blob version `open` uses when no `versions` are given: `{ min: 0, max: 0 }`.
 *
 * @example
 * ```ts
 * import { DEFAULT_BLOB_VERSION } from "@blobrt/storage/types";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * await using opened = await new MemoryStorage().open("p", "b");
 * assert.equal(opened.version, DEFAULT_BLOB_VERSION);
 * ```
 */
export const DEFAULT_BLOB_VERSION = 0;

/** Options of {@linkcode Storage.open}. */
export interface OpenOptions {
  /** Accepted blob versions; default `{ min: 0, max: 0 }`. */
  versions?: VersionRange;
}

/** Options of {@linkcode Blob.writeAt}. */
export interface WriteOptions {
  /** Make the written bytes durable before resolving. Not a barrier for earlier writes. */
  sync?: boolean;
}

/** What `writeAt` accepts: one buffer, or chunks written in order. */
export type WriteData =
  | Uint8Array
  | IoBuf
  | IoBufMut
  | IoBufs
  | ReadonlyArray<Uint8Array | IoBuf>;

/** What `readAtBuf` reads into: the caller's buffers, filled in order. */
export type ReadTarget =
  | Uint8Array
  | IoBufMut
  | IoBufsMut
  | ReadonlyArray<Uint8Array | IoBufMut>;

/** An open blob with its logical size and version, as returned by {@linkcode Storage.open}. */
export interface OpenedBlob extends AsyncDisposable {
  /** The handle. */
  blob: Blob;
  /** Logical size in bytes (the file size less the 8-byte header). */
  size: number;
  /** The blob version from the header. */
  version: number;
}

/**
 * A handle on one blob: positional reads and writes on logical offsets.
 * One handle may be used by many concurrent callers.
 */
export interface Blob extends AsyncDisposable {
  /**
   * Reads exactly `length` bytes at `offset` into a fresh single-chunk buffer.
   * Rejects with `BlobInsufficientLength` if any byte is past the end.
   */
  readAt(offset: number, length: number): Promise<IoBufsMut>;
  /**
   * Reads exactly `length` bytes at `offset` into `target`, filling its chunks in
   * order, and returns the same buffer objects. Rejects with `RangeError` when
   * `length` exceeds the target's capacity.
   */
  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut>;
  /** Writes every byte of `data` at `offset`, extending the blob if needed. */
  writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void>;
  /** Sets the logical length: growing zero-fills, shrinking truncates. */
  resize(length: number): Promise<void>;
  /** Makes every earlier write and resize of this blob durable. */
  sync(): Promise<void>;
  /** Releases the handle; later calls reject with `Closed`. A second close is a no-op. */
  close(): Promise<void>;
}

/** A set of named partitions, each holding named blobs. */
export interface Storage {
  /** Opens or creates a blob; resolves once creation is durable. */
  open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob>;
  /** Removes one blob, or the whole partition when `name` is omitted. Durable on resolve. */
  remove(partition: string, name?: BlobName): Promise<void>;
  /** The blob names of a partition, sorted bytewise. */
  scan(partition: string): Promise<Uint8Array[]>;
}
