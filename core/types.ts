/**
 * The {@linkcode Storage} and {@linkcode Blob} interfaces every driver and
 * wrapper implements, and the small types around them. What is written here is
 * the contract: every storage keeps it (the shared conformance suite checks
 * it), so a program written against these interfaces runs the same on
 * `MemoryStorage`, on disk, or through a wrapper.
 *
 * In short:
 * - A storage holds *partitions* (names of 1 to 255 ASCII letters, digits, `-`
 *   and `_`); a partition holds *blobs* (names of 1 to 127 bytes).
 * - A blob is a byte array at *logical* offsets. On disk it is a file that
 *   starts with a header (magic and version), byte-compatible with
 *   commonware-runtime: 8 bytes (`CWIC`, V0) or 4096 (`CWIK`, V1, with a
 *   CRC32C); logical offset 0 is the first byte after it.
 * - `open`, `remove` and a `{ sync: true }` write or `sync` are durable when
 *   they resolve; plain writes and resizes are not.
 * - Every storage failure is a `StorageError` with a `code`; a programming
 *   error (bad argument, read target too small) is a `TypeError` or
 *   `RangeError`.
 * - Memory a storage hands over (`readAt` results, `scan` names) is a plain
 *   `Uint8Array<ArrayBuffer>` of its own: WebCrypto, `Blob` and `File` take it
 *   as is.
 *
 * @example Using any storage through the interface
 * ```ts
 * import { MemoryStorage, type Storage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * async function roundTrip(storage: Storage): Promise<Uint8Array<ArrayBuffer>> {
 *   await using opened = await storage.open("logs", "day-1");
 *   await opened.blob.writeAt(0, new TextEncoder().encode("hello"));
 *   return (await opened.blob.readAt(0, 5)).bytes();
 * }
 * const bytes = await roundTrip(new MemoryStorage());
 * assert.deepEqual(bytes, new TextEncoder().encode("hello"));
 * await crypto.subtle.digest("SHA-256", bytes); // no cast needed
 * ```
 *
 * @module
 */

import type { IoBuf } from "./io_buf.ts";
import type { IoBufMut } from "./io_buf_mut.ts";
import type { IoBufs } from "./io_bufs.ts";
import type { IoBufsMut } from "./io_bufs_mut.ts";

/**
 * A blob name: 1 to 127 bytes, any values. A string stands for its UTF-8
 * bytes, so `"é"` and `new Uint8Array([0xc3, 0xa9])` name the same blob.
 *
 * - On disk a blob is the file `<partition>/<lowercase hex of the name>`, which
 *   is why a name is at most 127 bytes (the hex must fit a 255-byte file name).
 * - An empty or longer name rejects with `RangeError`; a value that is not a
 *   string or `Uint8Array`, or a string with a lone surrogate (which UTF-8
 *   cannot encode), rejects with `TypeError`. Both before any I/O, on every
 *   storage.
 * - Errors carry the name as lowercase hex in their `blob` field.
 *
 * @example
 * ```ts
 * import { type BlobName, MemoryStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const name: BlobName = "é";
 * await (await storage.open("p", name)).blob.close();
 * assert.deepEqual(await storage.scan("p"), [new Uint8Array([0xc3, 0xa9])]);
 * await assert.rejects(storage.open("p", ""), RangeError);
 * await assert.rejects(storage.open("p", "x".repeat(128)), RangeError);
 * await assert.rejects(storage.open("p", "\ud800"), TypeError);
 * ```
 */
export type BlobName = Uint8Array | string;

/**
 * An inclusive range of blob versions, `min <= max`, each a u16 (0 to 65535).
 * The blob version is the application's: it is stored in the header, and
 * {@linkcode Storage.open} stamps new blobs with `max` and refuses an existing
 * blob whose version is outside the range (`BlobVersionMismatch`, carrying
 * `expected` (this range) and `found`). A range that is not an object of two
 * u16s with `min <= max` rejects with `TypeError`/`RangeError`.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type VersionRange } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const v2: VersionRange = { min: 1, max: 2 };
 * await (await storage.open("p", "b", { versions: v2 })).blob.close(); // stamped 2
 * await assert.rejects(storage.open("p", "b", { versions: { min: 3, max: 4 } }), {
 *   code: "BlobVersionMismatch",
 *   expected: { min: 3, max: 4 },
 *   found: 2,
 * });
 * await assert.rejects(storage.open("p", "b", { versions: { min: 2, max: 1 } }), RangeError);
 * ```
 */
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
 * import { DEFAULT_BLOB_VERSION, MemoryStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * await using opened = await new MemoryStorage().open("p", "b");
 * assert.equal(opened.version, DEFAULT_BLOB_VERSION);
 * ```
 */
export const DEFAULT_BLOB_VERSION = 0;

/**
 * Options of {@linkcode Storage.open}.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type OpenOptions } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const options: OpenOptions = { versions: { min: 0, max: 1 } };
 * await using opened = await new MemoryStorage().open("p", "b", options);
 * assert.equal(opened.version, 1);
 * ```
 */
export interface OpenOptions {
  /**
   * Accepted blob versions; default `{ min: 0, max: 0 }` (see
   * {@linkcode DEFAULT_BLOB_VERSION}). New blobs get `max`.
   */
  versions?: VersionRange;
}

/**
 * Options of {@linkcode Blob.writeAt}.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type WriteOptions } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const { blob } = await storage.open("p", "b");
 * const durable: WriteOptions = { sync: true };
 * await blob.writeAt(0, new Uint8Array([1]));            // not durable
 * await blob.writeAt(4, new Uint8Array([2]), durable);   // durable: bytes 4..5, size 5
 * storage.crash();
 * const again = await storage.open("p", "b");
 * assert.equal(again.size, 5);
 * assert.deepEqual((await again.blob.readAt(0, 5)).bytes(), new Uint8Array([0, 0, 0, 0, 2]));
 * ```
 */
export interface WriteOptions {
  /**
   * Make the written bytes (and any size the write extends the blob to)
   * durable before the write resolves. Not a barrier: earlier writes and
   * resizes that were not synced stay unsynced; use {@linkcode Blob.sync} for
   * those. Must be a boolean if given (`TypeError` otherwise).
   */
  sync?: boolean;
}

/**
 * What {@linkcode Blob.writeAt} accepts: one buffer, or chunks written back to
 * back in order. Chunks may be empty and there may be any number of them
 * (none is an empty write). Any memory works, `SharedArrayBuffer` included,
 * and nothing is copied before the call: the caller must not change the bytes
 * until the write's promise settles. Anything else rejects with `TypeError`.
 *
 * @example
 * ```ts
 * import { IoBuf, IoBufs, MemoryStorage, type WriteData } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * await using opened = await new MemoryStorage().open("p", "b");
 * const shapes: WriteData[] = [
 *   enc.encode("abc"),
 *   new IoBuf(enc.encode("abc")),
 *   new IoBufs([enc.encode("a"), enc.encode("bc")]),
 *   [enc.encode("ab"), new Uint8Array(0), new IoBuf(enc.encode("c"))],
 * ];
 * for (const data of shapes) {
 *   await opened.blob.writeAt(0, data);
 *   assert.deepEqual((await opened.blob.readAt(0, 3)).bytes(), enc.encode("abc"));
 * }
 * ```
 */
export type WriteData =
  | Uint8Array
  | IoBuf<ArrayBufferLike>
  | IoBufMut<ArrayBufferLike>
  | IoBufs<ArrayBufferLike>
  | ReadonlyArray<Uint8Array | IoBuf<ArrayBufferLike>>;

/**
 * What {@linkcode Blob.readAtBuf} reads into: the caller's buffers, filled in
 * order. A `Uint8Array` has capacity = its length; an {@linkcode IoBufMut} its
 * capacity; several chunks the sum of theirs. Anything else rejects with
 * `TypeError`.
 *
 * `B` is the type of the buffers' memory: `ArrayBuffer` by default, in which
 * case the result of `readAtBuf` is an `IoBufsMut<ArrayBuffer>` too; a target
 * over other memory (a `SharedArrayBuffer`, or an array typed loosely as
 * `Uint8Array`) is a `ReadTarget<ArrayBufferLike>`.
 *
 * @example
 * ```ts
 * import { IoBufMut, IoBufsMut, MemoryStorage, type ReadTarget } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * await using opened = await new MemoryStorage().open("p", "b");
 * await opened.blob.writeAt(0, new Uint8Array([1, 2, 3]));
 * const targets: ReadTarget[] = [
 *   new Uint8Array(3),
 *   IoBufMut.withCapacity(8),
 *   new IoBufsMut([new Uint8Array(2), IoBufMut.withCapacity(2)]),
 *   [new Uint8Array(1), IoBufMut.withCapacity(2)],
 * ];
 * for (const target of targets) {
 *   const read = await opened.blob.readAtBuf(0, 3, target);
 *   assert.deepEqual(read.bytes(), new Uint8Array([1, 2, 3]));
 * }
 * ```
 */
export type ReadTarget<B extends ArrayBufferLike = ArrayBuffer> =
  | Uint8Array<B>
  | IoBufMut<B>
  | IoBufsMut<B>
  | ReadonlyArray<Uint8Array<B> | IoBufMut<B>>;

/**
 * What {@linkcode Storage.open} resolves to: the handle, with the blob's
 * logical size and version as found (or created) by this open. Disposing it
 * (`await using`) closes the blob.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type OpenedBlob } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * let kept: OpenedBlob;
 * {
 *   await using opened = await storage.open("p", "b", { versions: { min: 0, max: 3 } });
 *   assert.equal(opened.size, 0);
 *   assert.equal(opened.version, 3);
 *   await opened.blob.writeAt(0, new Uint8Array(10), { sync: true });
 *   kept = opened;
 * }
 * await assert.rejects(kept.blob.sync(), { code: "Closed" }); // closed on scope exit
 * assert.equal((await storage.open("p", "b", { versions: { min: 3, max: 3 } })).size, 10);
 * ```
 */
export interface OpenedBlob extends AsyncDisposable {
  /** The handle. */
  blob: Blob;
  /** Logical size in bytes when opened (the file size less the header). */
  size: number;
  /** The blob version from the header (for a new blob, `versions.max`). */
  version: number;
}

/**
 * A handle on one blob: positional reads and writes at logical offsets.
 *
 * **Arguments.** Offsets and lengths are non-negative safe integers; anything
 * else (negative, fractional, `NaN`, `Infinity`, not a number) rejects with
 * `RangeError` or `TypeError` before any I/O. An end past what a file can
 * address (`offset + length + 8 > Number.MAX_SAFE_INTEGER`, or a resize length
 * `+ 8`; 4096 instead of 8 for a V1 blob, whose data starts at file byte 4096)
 * rejects with `OffsetOverflow`.
 *
 * **Check order.** Every method checks, and rejects with the first failure,
 * in this order: argument types and ranges (`TypeError`/`RangeError`), then
 * `Closed`, then `OffsetOverflow`, then read-target capacity (`RangeError`),
 * then the storage itself (`BlobInsufficientLength`, I/O errors).
 *
 * **Errors.** Every `StorageError` of a blob operation carries `partition` and
 * `blob` (the lowercase hex of the name), `Closed`, `OffsetOverflow` and
 * `BlobInsufficientLength` included; an I/O failure carries the operating
 * system's error as `cause`. A legal call the storage cannot serve (a size
 * memory cannot hold) is a `StorageError`, never a `RangeError`. Besides the
 * codes each method lists, any call may reject with `Io` (an I/O failure that
 * fits no other code, or a fault `FaultyStorage` injects).
 *
 * **Durability.** Writes and resizes are durable only after {@linkcode Blob.sync}
 * (or, for one write's own bytes, `{ sync: true }`). Closing does not sync.
 *
 * **Concurrency.** One handle serves any number of concurrent callers. A read
 * concurrent with a write of the same range sees, byte for byte, either the
 * old or the new bytes of that range, never bytes from another offset. Writing
 * one blob through two independently opened handles is undefined.
 *
 * **Event loop.** No call, and no sequence of awaited calls, keeps the event
 * loop from running timers and I/O callbacks for more than a few
 * milliseconds; `sync` waits off the event loop. Page-cached reads and
 * writes run synchronously inside the returned promise (the fastest path);
 * after 3 ms of such work without a turn of the loop, the next operation
 * waits for one macrotask first. Reads of data not in the page cache run on
 * worker threads in the filesystem drivers (see `readDepth`), so concurrent
 * callers get the disk's parallelism.
 *
 * **Lifetime.** {@linkcode Blob.close} releases the handle; later calls reject
 * with `Closed`; a second close does nothing. `await using` closes it on scope
 * exit. A handle keeps working after its blob or partition is removed (it
 * reads what it had) until it is closed.
 *
 * @example
 * ```ts
 * import { type Blob, MemoryStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * async function append(blob: Blob, size: number, record: Uint8Array): Promise<number> {
 *   await blob.writeAt(size, record);
 *   return size + record.length;
 * }
 * const storage = new MemoryStorage();
 * await using opened = await storage.open("journal", "0");
 * let size = opened.size;
 * size = await append(opened.blob, size, new Uint8Array([1, 2]));
 * size = await append(opened.blob, size, new Uint8Array([3]));
 * await opened.blob.sync();
 * assert.deepEqual((await opened.blob.readAt(0, size)).bytes(), new Uint8Array([1, 2, 3]));
 * await assert.rejects(opened.blob.readAt(0, size + 1), {
 *   code: "BlobInsufficientLength",
 *   partition: "journal",
 *   blob: "30",
 * });
 * ```
 */
export interface Blob extends AsyncDisposable {
  /**
   * Reads exactly `length` bytes at `offset` into a fresh single-chunk
   * {@linkcode IoBufsMut} of the storage's own `ArrayBuffer` memory (not a
   * shared pool: its `.buffer` holds these bytes only; disposing the result,
   * as `using` does, may give that memory to a later read of the same length,
   * see {@linkcode IoBufsMut}). If any byte of the
   * range is past the blob's logical end, it rejects with
   * `BlobInsufficientLength` and returns nothing: there are no short reads. A
   * zero-length read resolves with an empty buffer and does no I/O (it still
   * rejects on a closed handle).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new TextEncoder().encode("hello"));
   * const bytes = (await opened.blob.readAt(1, 3)).bytes();
   * assert.equal(new TextDecoder().decode(bytes), "ell");
   * await crypto.subtle.digest("SHA-256", bytes); // Uint8Array<ArrayBuffer>
   * await assert.rejects(opened.blob.readAt(3, 3), { code: "BlobInsufficientLength" });
   * assert.equal((await opened.blob.readAt(99, 0)).length, 0);
   * ```
   *
   * @param offset Logical offset of the first byte.
   * @param length How many bytes.
   * @returns The bytes, in one chunk.
   * @throws {TypeError} `offset` or `length` is not a number.
   * @throws {RangeError} `offset` or `length` is not a non-negative safe integer.
   * @throws {StorageError} `Closed`, `OffsetOverflow`, `BlobInsufficientLength`,
   * `ReadFailed`.
   */
  readAt(offset: number, length: number): Promise<IoBufsMut>;
  /**
   * Reads exactly `length` bytes at `offset` into the caller's `target` and
   * resolves with *the same buffer objects* (as an {@linkcode IoBufsMut};
   * `buffers()` are the caller's `IoBufMut`s), chunk layout preserved: the
   * chunks are filled in order, each chunk's length becomes
   * `min(bytes left, its capacity)`, and trailing chunks stay (with length 0).
   * A `length` above the target's total capacity is a programming error: it
   * rejects with `RangeError` (after the `Closed` and `OffsetOverflow`
   * checks) and leaves the target untouched. Past the end:
   * `BlobInsufficientLength`, and the target's contents are unspecified.
   *
   * @example
   * ```ts
   * import { IoBufMut, MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array([1, 2, 3]));
   * const a = IoBufMut.withCapacity(2);
   * const b = IoBufMut.withCapacity(2);
   * const read = await opened.blob.readAtBuf(0, 3, [a, b]);
   * assert.equal(read.buffers()[0], a);
   * assert.deepEqual([a.length, b.length], [2, 1]);
   * assert.deepEqual(read.bytes(), new Uint8Array([1, 2, 3]));
   * await assert.rejects(opened.blob.readAtBuf(0, 3, new Uint8Array(2)), RangeError);
   * ```
   *
   * @param offset Logical offset of the first byte.
   * @param length How many bytes; at most the target's capacity.
   * @param target The caller's buffers.
   * @returns The target's buffers, filled.
   * @throws {TypeError} An argument has the wrong type.
   * @throws {RangeError} A bad `offset` or `length`, or `length` above the
   * target's capacity.
   * @throws {StorageError} `Closed`, `OffsetOverflow`, `BlobInsufficientLength`,
   * `ReadFailed`.
   */
  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut>;
  /**
   * {@linkcode Blob.readAtBuf} into memory of any kind (a `SharedArrayBuffer`,
   * or arrays typed loosely as `Uint8Array`); the same call, typed for that
   * memory.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array([1, 2]));
   * const shared = new Uint8Array(new SharedArrayBuffer(2));
   * await opened.blob.readAtBuf(0, 2, shared);
   * assert.deepEqual([...shared], [1, 2]);
   * ```
   *
   * @param offset Logical offset of the first byte.
   * @param length How many bytes; at most the target's capacity.
   * @param target The caller's buffers.
   * @returns The target's buffers, filled.
   * @throws {TypeError} An argument has the wrong type.
   * @throws {RangeError} A bad `offset` or `length`, or `length` above the
   * target's capacity.
   * @throws {StorageError} `Closed`, `OffsetOverflow`, `BlobInsufficientLength`,
   * `ReadFailed`.
   */
  readAtBuf(
    offset: number,
    length: number,
    target: ReadTarget<ArrayBufferLike>,
  ): Promise<IoBufsMut<ArrayBufferLike>>;
  /**
   * Writes every byte of `data` at `offset` (chunks back to back, in order).
   * Writing past the end extends the blob, and a gap between the old end and
   * `offset` reads as zeros. An empty write changes nothing (it still rejects
   * on a closed handle). The bytes are visible to reads through this handle
   * when the promise resolves, and durable only after {@linkcode Blob.sync},
   * or at once with `{ sync: true }` (that write's bytes only: not a barrier
   * for earlier writes). The caller must not change `data` until the promise
   * settles. A failed write may have written part of `data`, and may have
   * grown the blob (a full disk can leave an allocated tail): the handle then
   * takes the size the storage has, so its reads and a reopen agree on it.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(2, [new Uint8Array([1]), new Uint8Array([2, 3])]);
   * assert.deepEqual((await opened.blob.readAt(0, 5)).bytes(), new Uint8Array([0, 0, 1, 2, 3]));
   * await opened.blob.writeAt(5, new Uint8Array([4]), { sync: true });
   * ```
   *
   * @param offset Logical offset of the first byte.
   * @param data The bytes: a buffer or chunks, see {@linkcode WriteData}.
   * @param options `{ sync: true }` to make these bytes durable before resolving.
   * @throws {TypeError} `data`, `offset` or `options` has the wrong type.
   * @throws {RangeError} `offset` is not a non-negative safe integer.
   * @throws {StorageError} `Closed`, `OffsetOverflow`, `WriteFailed`,
   * `BlobSyncFailed` (with `sync: true`).
   */
  writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void>;
  /**
   * Sets the logical length to `length`: growing appends zeros, shrinking
   * drops the bytes past it. Durable only after {@linkcode Blob.sync}.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array([1, 2, 3]));
   * await opened.blob.resize(1);
   * await opened.blob.resize(3);
   * assert.deepEqual((await opened.blob.readAt(0, 3)).bytes(), new Uint8Array([1, 0, 0]));
   * ```
   *
   * @param length The new logical length.
   * @throws {TypeError} `length` is not a number.
   * @throws {RangeError} `length` is not a non-negative safe integer.
   * @throws {StorageError} `Closed`, `OffsetOverflow`, `BlobResizeFailed`.
   */
  resize(length: number): Promise<void>;
  /**
   * Makes every earlier write and resize of this blob through this handle
   * durable (an `fdatasync` on disk), so a crash or power loss after it
   * resolves keeps them. It waits off the event loop; `close` waits for syncs
   * in flight.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob } = await storage.open("p", "b");
   * await blob.writeAt(0, new Uint8Array([1, 2]));
   * await blob.sync();
   * await blob.writeAt(2, new Uint8Array([3])); // lost in the crash
   * storage.crash();
   * assert.equal((await storage.open("p", "b")).size, 2);
   * ```
   *
   * @throws {StorageError} `Closed`, `BlobSyncFailed`.
   */
  sync(): Promise<void>;
  /**
   * Releases the handle. Later calls on it reject with `Closed` (carrying
   * `partition` and `blob`); a second close does nothing. It does not sync:
   * unsynced changes are not made durable by closing. `await using` (through
   * `Symbol.asyncDispose`) calls it on scope exit.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * const { blob } = await new MemoryStorage().open("p", "b");
   * await blob.close();
   * await blob.close(); // no-op
   * await assert.rejects(blob.readAt(0, 0), { code: "Closed", partition: "p", blob: "62" });
   * ```
   */
  close(): Promise<void>;
}

/**
 * A set of named partitions, each holding named blobs.
 *
 * - **Names.** A partition name is 1 to 255 ASCII letters, digits, `-` and
 *   `_`; anything else rejects with `PartitionNameInvalid` before any I/O, in
 *   `open`, `remove` and `scan`. Blob names: see {@linkcode BlobName}.
 * - **Durability.** A resolved `open` means the blob exists durably (the file,
 *   its partition directory and the root's entries are synced); a resolved
 *   `remove` means the removal is durable.
 * - **Order.** `open`, `remove` and `scan` of one storage run one at a time, in
 *   call order; an operation that has started runs to completion even if its
 *   caller stops waiting.
 * - **On disk** (filesystem drivers): `<directory>/<partition>/<lowercase hex
 *   of the name>`, nothing else, each file a header (8 bytes for V0, 4096 for
 *   V1) then the data; byte-compatible with commonware-runtime.
 * - **Errors.** Each method lists the `StorageError` codes it rejects with;
 *   any of them may also reject with `Io`, for an I/O failure that fits no
 *   other code (and `FaultyStorage` injects its faults as `Io`).
 *
 * A filesystem storage locks its directory against other processes at its
 * first operation and holds the lock until {@linkcode Storage.close} or the
 * process exits: while another live process holds it, every method rejects
 * with `StorageLocked`. Storages in one process share the lock.
 *
 * `close()` and `Symbol.asyncDispose` are required members: code that is
 * handed a `Storage` (a supervisor, `await using`, a test) must be able to
 * close every handle and release the directory, whatever the driver. A
 * `Storage` of your own that has nothing to release needs only
 * `async close() {}` and `[Symbol.asyncDispose]() { return this.close(); }`;
 * the wrappers still accept, at run time, an inner storage written before
 * `close` existed (they close their own handles and skip the inner call).
 *
 * @example
 * ```ts
 * import { isStorageError, MemoryStorage, type Storage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * async function blobCount(storage: Storage, partition: string): Promise<number> {
 *   try {
 *     return (await storage.scan(partition)).length;
 *   } catch (err) {
 *     if (isStorageError(err, "PartitionMissing")) return 0;
 *     throw err;
 *   }
 * }
 * const storage = new MemoryStorage();
 * assert.equal(await blobCount(storage, "p"), 0);
 * await (await storage.open("p", "a")).blob.close();
 * assert.equal(await blobCount(storage, "p"), 1);
 * ```
 */
export interface Storage extends AsyncDisposable {
  /**
   * Opens a blob, creating it (and its partition) if missing. A new blob, a
   * file shorter than 8 bytes, or one that is recognisably a torn V1 creation
   * (as commonware main heals them) gets a fresh header of the storage's
   * `layout`, stamped with `versions.max`, and size 0. An existing blob opens
   * in the layout its own header names; one whose version is outside
   * `versions` rejects with `BlobVersionMismatch`; any other bad header with
   * `BlobCorrupt` (commonware main's reason), and the file is left as it was. When the promise resolves
   * the blob is durably created. Each open returns a new handle; handles on
   * the same blob share nothing but the storage (see {@linkcode Blob} on
   * writing through two handles).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * {
   *   await using opened = await storage.open("p", "b", { versions: { min: 1, max: 2 } });
   *   assert.deepEqual([opened.size, opened.version], [0, 2]);
   *   await opened.blob.writeAt(0, new Uint8Array(4), { sync: true });
   * }
   * await using again = await storage.open("p", "b", { versions: { min: 2, max: 2 } });
   * assert.equal(again.size, 4);
   * await assert.rejects(storage.open("p", "b"), {
   *   code: "BlobVersionMismatch",
   *   partition: "p",
   *   blob: "62",
   * });
   * await assert.rejects(storage.open("a/b", "x"), { code: "PartitionNameInvalid" });
   * ```
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @param options Accepted versions; default `{ min: 0, max: 0 }`.
   * @returns The handle, the logical size and the blob version.
   * @throws {TypeError} A name or `versions` of the wrong type, or a blob name
   * with a lone surrogate.
   * @throws {RangeError} An empty or too long blob name, or a bad version range.
   * @throws {StorageError} `PartitionNameInvalid`, `BlobVersionMismatch`,
   * `BlobCorrupt`, `PartitionCreationFailed`, `BlobOpenFailed`.
   */
  open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob>;
  /**
   * Removes one blob, or the whole partition with everything in it when
   * `name` is omitted; durable when it resolves. Handles opened before keep
   * reading the removed bytes (synced or not) until they are closed;
   * opening the name again creates a new, empty blob, independent of them.
   * Removing the last blob leaves an empty partition (`scan` gives `[]`).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const old = await storage.open("p", "b");
   * await old.blob.writeAt(0, new Uint8Array([7]));
   * await storage.remove("p", "b");
   * assert.deepEqual((await old.blob.readAt(0, 1)).bytes(), new Uint8Array([7]));
   * assert.deepEqual(await storage.scan("p"), []);
   * assert.equal((await storage.open("p", "b")).size, 0);
   * await assert.rejects(storage.remove("p", "c"), { code: "BlobMissing", blob: "63" });
   * await storage.remove("p");
   * await assert.rejects(storage.remove("p"), { code: "PartitionMissing" });
   * ```
   *
   * @param partition Partition name.
   * @param name Blob name; omit to remove the partition.
   * @throws {TypeError} A name of the wrong type, or a blob name with a lone
   * surrogate.
   * @throws {RangeError} An empty or too long blob name.
   * @throws {StorageError} `PartitionNameInvalid`, `PartitionMissing` (no such
   * partition), `BlobMissing` (no such blob in an existing partition),
   * `PartitionCorrupt`, `Io`.
   */
  remove(partition: string, name?: BlobName): Promise<void>;
  /**
   * The names of a partition's blobs, sorted bytewise (as unsigned bytes,
   * shorter first on a common prefix). Each name is a new
   * `Uint8Array<ArrayBuffer>`, the caller's to keep. An empty partition gives
   * `[]`. A filesystem partition holding anything but blob files (a
   * directory, a file whose name is not canonical lowercase hex) rejects with
   * `PartitionCorrupt`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * for (const name of [new Uint8Array([2]), new Uint8Array([1, 0]), new Uint8Array([1])]) {
   *   await (await storage.open("p", name)).blob.close();
   * }
   * assert.deepEqual(await storage.scan("p"), [
   *   new Uint8Array([1]),
   *   new Uint8Array([1, 0]),
   *   new Uint8Array([2]),
   * ]);
   * await assert.rejects(storage.scan("missing"), { code: "PartitionMissing" });
   * ```
   *
   * @param partition Partition name.
   * @returns The blob names.
   * @throws {TypeError} A partition that is not a string.
   * @throws {StorageError} `PartitionNameInvalid`, `PartitionMissing`,
   * `PartitionCorrupt`, `Io`.
   */
  scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]>;
  /**
   * Closes the storage: operations issued before it complete, then every
   * handle it opened is closed (their later calls reject with `Closed`) and
   * a filesystem storage gives back its share of the directory lock, so
   * another process can take the directory once no storage of this process
   * holds it. Later `open`, `remove` and `scan` reject with `Closed`; a
   * second `close` resolves like the first. `await using` calls it through
   * `Symbol.asyncDispose`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob } = await storage.open("p", "b");
   * await storage.close();
   * await assert.rejects(blob.readAt(0, 0), { code: "Closed", partition: "p", blob: "62" });
   * await assert.rejects(storage.open("p", "b"), { code: "Closed" });
   * ```
   *
   * @returns A promise that resolves once every handle is closed and the lock released.
   */
  close(): Promise<void>;
}
