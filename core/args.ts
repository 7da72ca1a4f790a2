/**
 * Argument checks shared by every driver, so each one rejects bad input the
 * same way and in the same order: argument types and ranges (`TypeError`,
 * `RangeError`), then `Closed`, then `OffsetOverflow`, then read-target
 * capacity (`RangeError`). Each check throws; drivers call them first thing in
 * their `async` methods, so the throw becomes a rejection before any I/O.
 *
 * The blob checks take an optional `where` (`{ partition, blob }`, the blob as
 * lowercase hex) that their `Closed` and `OffsetOverflow` errors carry, as
 * every error of a blob operation must. Build it once per handle and pass the
 * same object on every call: the checks run on every read and write, and
 * allocate nothing when they pass.
 *
 * @example Writing a driver's `readAt`
 * ```ts
 * import { checkRead } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const where = { partition: "p", blob: "62" }; // built once per handle
 * assert.throws(() => checkRead(-1, 4, false, where), RangeError);
 * assert.throws(() => checkRead(0, 4, true, where), { code: "Closed", partition: "p", blob: "62" });
 * assert.throws(() => checkRead(Number.MAX_SAFE_INTEGER - 8, 1, false, where), {
 *   code: "OffsetOverflow",
 *   blob: "62",
 * });
 * checkRead(0, 4, false, where);
 * ```
 *
 * @module
 */

import { StorageError } from "./errors.ts";
import { checkVersionRange, HEADER_SIZE } from "./header.ts";
import { IoBuf } from "./io_buf.ts";
import { IoBufMut } from "./io_buf_mut.ts";
import { IoBufs } from "./io_bufs.ts";
import { IoBufsMut } from "./io_bufs_mut.ts";
import { blobNameBytes, validatePartitionName } from "./names.ts";
import type { BlobName, OpenOptions, ReadTarget, Storage, VersionRange } from "./types.ts";
import type { WriteData, WriteOptions } from "./types.ts";
import { DEFAULT_BLOB_VERSION } from "./types.ts";

/**
 * Checks that `inner` looks like a {@linkcode Storage} (an object with `open`,
 * `remove` and `scan` methods): what a wrapper's constructor checks first.
 *
 * @example
 * ```ts
 * import { checkStorage } from "@blobrt/storage/driver";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * assert.equal(checkStorage(storage, "MyWrapper"), storage);
 * assert.throws(() => checkStorage({} as never, "MyWrapper"), TypeError);
 * ```
 *
 * @param inner The value to check.
 * @param wrapper The wrapper's name, for the message.
 * @returns `inner`.
 * @throws {TypeError} When it is not a storage.
 */
export function checkStorage<S extends Storage>(inner: S, wrapper: string): S {
  const s = inner as Partial<Storage> | null;
  if (
    typeof s !== "object" || s === null || typeof s.open !== "function" ||
    typeof s.remove !== "function" || typeof s.scan !== "function"
  ) {
    throw new TypeError(`${wrapper} wraps a Storage (an object with open, remove and scan)`);
  }
  return inner;
}

/**
 * Checks that `n` is a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { checkIndex } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkIndex(4096, "offset"), 4096);
 * assert.throws(() => checkIndex(1.5, "offset"), RangeError);
 * assert.throws(() => checkIndex("1" as unknown as number, "offset"), TypeError);
 * ```
 *
 * @param n The value.
 * @param what Its name, for the message.
 * @returns `n`.
 * @throws {TypeError} When `n` is not a number.
 * @throws {RangeError} When it is negative, fractional, `NaN`, infinite or unsafe.
 */
export function checkIndex(n: number, what: string): number {
  if (typeof n !== "number") throw new TypeError(`${what} must be a number, got ${typeof n}`);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
  }
  return n;
}

/**
 * Throws `OffsetOverflow` when the physical end `offset + length + headerSize`
 * is past `Number.MAX_SAFE_INTEGER` (`headerSize` is the blob's data offset: 8
 * for a V0 blob, the default, and 4096 for a V1 blob).
 *
 * @example
 * ```ts
 * import { checkEnd } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * checkEnd(Number.MAX_SAFE_INTEGER - 9, 1);
 * assert.throws(() => checkEnd(Number.MAX_SAFE_INTEGER - 8, 1), { code: "OffsetOverflow" });
 * assert.throws(() => checkEnd(Number.MAX_SAFE_INTEGER - 4096, 1, {}, 4096), {
 *   code: "OffsetOverflow",
 * });
 * ```
 *
 * @param offset Logical offset.
 * @param length Byte count.
 * @param where The partition and blob (hex) the error carries.
 * @param headerSize File byte of logical offset 0 (default 8).
 */
export function checkEnd(
  offset: number,
  length: number,
  where?: { readonly partition?: string; readonly blob?: string },
  headerSize: number = HEADER_SIZE,
): void {
  if (offset > Number.MAX_SAFE_INTEGER - headerSize - length) {
    throw new StorageError("OffsetOverflow", where);
  }
}

/** Where a blob error happened: the partition and the lowercase hex of the blob name. */
type Where = { readonly partition?: string; readonly blob?: string };

function checkOpen(closed: boolean, where: Where | undefined): void {
  if (closed) throw new StorageError("Closed", where);
}

/**
 * All checks of `open`, in order: the name (`TypeError`/`RangeError`), the
 * version range (`TypeError`/`RangeError`), then the partition
 * (`PartitionNameInvalid`).
 *
 * @example
 * ```ts
 * import { checkOpenArgs } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(checkOpenArgs("p", "ab"), { name: new Uint8Array([97, 98]), versions: { min: 0, max: 0 } });
 * assert.throws(() => checkOpenArgs("p", ""), RangeError);
 * assert.throws(() => checkOpenArgs("a/b", "x"), { code: "PartitionNameInvalid" });
 * ```
 *
 * @param partition Partition name.
 * @param name Blob name.
 * @param options Open options.
 * @returns The name's bytes and the accepted versions (default `{ min: 0, max: 0 }`).
 */
export function checkOpenArgs(
  partition: string,
  name: BlobName,
  options?: OpenOptions,
): { name: Uint8Array; versions: VersionRange } {
  const bytes = blobNameBytes(name);
  const versions = checkVersionRange(
    options?.versions ?? { min: DEFAULT_BLOB_VERSION, max: DEFAULT_BLOB_VERSION },
  );
  validatePartitionName(partition);
  return { name: bytes, versions };
}

/**
 * All checks of `remove`, in order: the name, if any, then the partition.
 *
 * @example
 * ```ts
 * import { checkRemoveArgs } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkRemoveArgs("p"), undefined);
 * assert.deepEqual(checkRemoveArgs("p", "a"), new Uint8Array([97]));
 * assert.throws(() => checkRemoveArgs("p", ""), RangeError);
 * ```
 *
 * @param partition Partition name.
 * @param name Blob name, or `undefined` for the whole partition.
 * @returns The name's bytes, or `undefined`.
 */
export function checkRemoveArgs(partition: string, name?: BlobName): Uint8Array | undefined {
  const bytes = name === undefined ? undefined : blobNameBytes(name);
  validatePartitionName(partition);
  return bytes;
}

/**
 * All checks of `readAt`, in order.
 *
 * @example
 * ```ts
 * import { checkRead } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkRead(0, NaN, false), RangeError);
 * ```
 *
 * @param offset Logical offset.
 * @param length Byte count.
 * @param closed Whether the handle is closed.
 * @param where The partition and blob (hex) that `Closed` and `OffsetOverflow` carry.
 * @param headerSize File byte of logical offset 0 (default 8), for `OffsetOverflow`.
 */
export function checkRead(
  offset: number,
  length: number,
  closed: boolean,
  where?: { readonly partition?: string; readonly blob?: string },
  headerSize: number = HEADER_SIZE,
): void {
  checkIndex(offset, "offset");
  checkIndex(length, "length");
  checkOpen(closed, where);
  checkEnd(offset, length, where, headerSize);
}

/**
 * All checks of `readAtBuf`, in order. On success, sets each chunk of the
 * target to the length it will receive (`min(remaining, capacity)`, in order)
 * and returns the target as an {@linkcode IoBufsMut}: the driver then fills
 * `chunk.bytes()` of each chunk of `buffers()`, in order (their lengths sum to
 * `length`). A failed check leaves the target untouched; if the read itself then
 * fails, the lengths stay set and the bytes are unspecified.
 *
 * @example
 * ```ts
 * import { checkReadBuf } from "@blobrt/storage/driver";
 * import { IoBufMut } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const a = IoBufMut.withCapacity(2);
 * const b = IoBufMut.withCapacity(2);
 * const target = checkReadBuf(0, 3, [a, b], false);
 * assert.deepEqual(target.buffers().map((c) => c.length), [2, 1]);
 * assert.equal(target.buffers()[1], b);
 * assert.throws(() => checkReadBuf(0, 5, [a, b], false), RangeError);
 * ```
 *
 * @param offset Logical offset.
 * @param length Byte count.
 * @param target The caller's buffers.
 * @param closed Whether the handle is closed.
 * @param where The partition and blob (hex) that `Closed` and `OffsetOverflow` carry.
 * @param headerSize File byte of logical offset 0 (default 8), for `OffsetOverflow`.
 * @returns The target, its chunk lengths set.
 */
export function checkReadBuf<B extends ArrayBufferLike = ArrayBuffer>(
  offset: number,
  length: number,
  target: ReadTarget<B>,
  closed: boolean,
  where?: { readonly partition?: string; readonly blob?: string },
  headerSize: number = HEADER_SIZE,
): IoBufsMut<B> {
  if (target instanceof Uint8Array && target.length === length) {
    // The hot path, a plain buffer filled whole: the same checks, fewer steps.
    checkRead(offset, length, closed, where, headerSize);
    return new IoBufsMut(target);
  }
  checkIndex(offset, "offset");
  checkIndex(length, "length");
  const bufs = toReadTarget(target);
  checkOpen(closed, where);
  checkEnd(offset, length, where, headerSize);
  const chunks = bufs.buffers();
  // One chunk: read its capacity directly rather than summing (the common case).
  const capacity = chunks.length === 1 ? chunks[0]!.capacity : bufs.capacity;
  if (capacity < length) {
    throw new RangeError(`read of ${length} bytes into buffers of capacity ${capacity}`);
  }
  let left = length;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!; // i < length
    const n = Math.min(left, chunk.capacity);
    chunk.setLength(n);
    left -= n;
  }
  return bufs;
}

/**
 * All checks of `writeAt`, in order. Returns the chunks to write (empty ones
 * dropped) and their total length.
 *
 * @example
 * ```ts
 * import { checkWrite } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const { chunks, length } = checkWrite(0, [new Uint8Array(2), new Uint8Array(0)], undefined, false);
 * assert.equal(chunks.length, 1);
 * assert.equal(length, 2);
 * assert.throws(() => checkWrite(0, "text" as never, undefined, false), TypeError);
 * ```
 *
 * @param offset Logical offset.
 * @param data What to write.
 * @param options Write options.
 * @param closed Whether the handle is closed.
 * @param where The partition and blob (hex) that `Closed` and `OffsetOverflow` carry.
 * @param headerSize File byte of logical offset 0 (default 8), for `OffsetOverflow`.
 * @returns The non-empty chunks, total length, and whether to sync.
 */
export function checkWrite(
  offset: number,
  data: WriteData,
  options: WriteOptions | undefined,
  closed: boolean,
  where?: { readonly partition?: string; readonly blob?: string },
  headerSize: number = HEADER_SIZE,
): { chunks: Uint8Array[]; length: number; sync: boolean } {
  checkIndex(offset, "offset");
  const chunks = toChunks(data);
  let length = summed; // read at once: an options getter could call in again
  let sync = false;
  if (options !== undefined) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("write options must be an object");
    }
    if (options.sync !== undefined && typeof options.sync !== "boolean") {
      throw new TypeError("write option sync must be a boolean");
    }
    sync = options.sync === true;
  }
  if (length < 0) {
    length = 0;
    for (const c of chunks) length += c.byteLength;
  }
  checkOpen(closed, where);
  checkEnd(offset, length, where, headerSize);
  return { chunks, length, sync };
}

/**
 * All checks of `resize`, in order.
 *
 * @example
 * ```ts
 * import { checkResize } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkResize(-1, false), RangeError);
 * ```
 *
 * @param length New logical length.
 * @param closed Whether the handle is closed.
 * @param where The partition and blob (hex) that `Closed` and `OffsetOverflow` carry.
 * @param headerSize File byte of logical offset 0 (default 8), for `OffsetOverflow`.
 */
export function checkResize(
  length: number,
  closed: boolean,
  where?: { readonly partition?: string; readonly blob?: string },
  headerSize: number = HEADER_SIZE,
): void {
  checkIndex(length, "length");
  checkOpen(closed, where);
  checkEnd(0, length, where, headerSize);
}

/**
 * The check of `sync`: only `Closed`.
 *
 * @example
 * ```ts
 * import { checkSync } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkSync(true), { code: "Closed" });
 * ```
 *
 * @param closed Whether the handle is closed.
 * @param where The partition and blob (hex) that `Closed` carries.
 */
export function checkSync(
  closed: boolean,
  where?: { readonly partition?: string; readonly blob?: string },
): void {
  checkOpen(closed, where);
}

/** The byte count of the chunks {@linkcode toChunks} last returned, when it summed them; else -1. */
let summed = -1;

function toChunks(data: WriteData): Uint8Array[] {
  summed = -1;
  if (data instanceof Uint8Array) return data.length === 0 ? [] : [data];
  if (data instanceof IoBuf || data instanceof IoBufMut) {
    const b = data.bytes();
    return b.length === 0 ? [] : [b];
  }
  if (data instanceof IoBufs) return [...data];
  if (Array.isArray(data)) {
    const list = data as ReadonlyArray<unknown>;
    // The common case, non-empty Uint8Arrays only, is checked and copied in
    // two tight passes: a third of the cost of for-of with push on 1024 small
    // chunks.
    let plain = true;
    let length = 0;
    for (let i = 0; i < list.length && plain; i++) {
      const c = list[i];
      plain = c instanceof Uint8Array && c.length > 0;
      if (plain) length += (c as Uint8Array).byteLength;
    }
    if (plain) {
      summed = length;
      return list.slice() as Uint8Array[];
    }
    const out: Uint8Array[] = [];
    for (const c of list) {
      let b: Uint8Array;
      if (c instanceof Uint8Array) b = c;
      else if (c instanceof IoBuf || c instanceof IoBufMut) b = c.bytes();
      else throw new TypeError("write chunks must be Uint8Array or IoBuf");
      if (b.length > 0) out.push(b);
    }
    return out;
  }
  throw new TypeError(
    "write data must be a Uint8Array, IoBuf, IoBufMut, IoBufs or an array of them",
  );
}

function toReadTarget<B extends ArrayBufferLike>(target: ReadTarget<B>): IoBufsMut<B> {
  if (target instanceof Uint8Array || target instanceof IoBufMut) return new IoBufsMut(target);
  if (target instanceof IoBufsMut) return target;
  if (Array.isArray(target)) {
    for (const c of target as ReadonlyArray<unknown>) {
      if (!(c instanceof Uint8Array || c instanceof IoBufMut)) {
        throw new TypeError("read target chunks must be Uint8Array or IoBufMut");
      }
    }
    return new IoBufsMut(target);
  }
  throw new TypeError("read target must be a Uint8Array, IoBufMut, IoBufsMut or an array of them");
}

/**
 * The `BlobInsufficientLength` error of a read of `length` bytes at `offset`
 * past a blob's logical `size`, saying all three.
 *
 * @example
 * ```ts
 * import { insufficientLength } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const err = insufficientLength({ partition: "p", blob: "62" }, 6, 10, 5);
 * assert.equal(err.code, "BlobInsufficientLength");
 * assert.match(err.message, /read of 10 bytes at offset 6, blob size 5/);
 * ```
 *
 * @param where The blob's partition and hex name.
 * @param offset The read's logical offset.
 * @param length The read's length.
 * @param size The blob's logical size.
 * @returns The error.
 */
export function insufficientLength(
  where: { partition?: string; blob?: string },
  offset: number,
  length: number,
  size: number,
): StorageError {
  return new StorageError("BlobInsufficientLength", {
    ...where,
    reason: `read of ${length} bytes at offset ${offset}, blob size ${size}`,
  });
}
