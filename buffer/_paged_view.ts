/**
 * How a paged writer and its sealed views read (private): logical bytes at or
 * past `tailOffset` come from an in-memory tail (the writer's buffer, or a
 * sealed view's partial last page); bytes below it from the page cache, else
 * from full pages of the blob (verified, then cached). The exported reads are
 * the public read methods of both, arguments checked; each class only adds
 * its docs.
 *
 * @module
 */

import { StorageError } from "../core/errors.ts";
import type { Blob } from "../core/types.ts";
import { spendTurn } from "../core/_turn.ts";
import type { CacheCore, Where } from "./_cache_core.ts";

/** Everything a read needs to know about one writer or view. */
export interface ViewSource {
  readonly blob: Blob;
  readonly core: CacheCore;
  readonly id: number;
  readonly where: Where;
  /** Logical size. */
  readonly size: number;
  /** Logical offset of `tail[0]`. */
  readonly tailOffset: number;
  /** The tail bytes (`size - tailOffset` of them are valid). */
  readonly tail: Uint8Array;
}

/** Checks an offset or length argument. */
export function checkIndex(n: number, what: string): void {
  if (typeof n !== "number") throw new TypeError(`${what} must be a number, got ${typeof n}`);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
  }
}

/** Checks a byte-array argument. */
export function checkBytes(b: Uint8Array, what: string): void {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
}

/**
 * Copies what the tail and the cache hold of `[offset, offset + length)` into
 * `dst[at, ...)`, tail first.
 *
 * @returns How many leading bytes were served from the cache before a miss
 *   (`length` minus the tail part when everything was served), and how many
 *   are still missing after them, as `missing` (0 when complete).
 */
function copyKnown(v: ViewSource, dst: Uint8Array, at: number, offset: number, length: number) {
  const end = offset + length;
  let below = length;
  if (end > v.tailOffset) {
    const start = offset > v.tailOffset ? offset : v.tailOffset;
    below = start - offset;
    const from = start - v.tailOffset;
    const n = end - start;
    if (n < 16) {
      const tail = v.tail;
      for (let i = 0; i < n; i++) dst[at + below + i] = tail[from + i]!;
    } else {
      dst.set(v.tail.subarray(from, from + n), at + below);
    }
  }
  if (below === 0) return 0;
  const cached = v.core.readCached(v.id, dst, at, offset, below);
  return below - cached;
}

/** Rejects reads past the end. */
function checkRange(v: ViewSource, offset: number, length: number): void {
  if (offset + length > v.size) throw new StorageError("BlobInsufficientLength", v.where);
}

/**
 * Reads exactly `length` bytes at `offset` into `dst[at, at + length)`:
 * synchronously when the tail and the cache hold them all.
 */
async function fill(
  v: ViewSource,
  dst: Uint8Array,
  at: number,
  offset: number,
  length: number,
): Promise<void> {
  if (length > 0) {
    const turn = spendTurn(length);
    if (turn !== undefined) await turn;
  }
  checkRange(v, offset, length); // after the turn: the size may have changed meanwhile
  if (length === 0) return;
  const missing = copyKnown(v, dst, at, offset, length);
  if (missing === 0) return;
  const below = v.tailOffset - offset < length ? v.tailOffset - offset : length;
  const done = below - missing;
  await v.core.read(v.blob, v.id, dst, at + done, offset + done, missing, v.where);
}

/** `readAt`: `length` new bytes at `offset`. */
export async function readAt(v: ViewSource, offset: number, length: number): Promise<Uint8Array> {
  checkIndex(offset, "offset");
  checkIndex(length, "length");
  const out = new Uint8Array(length);
  await fill(v, out, 0, offset, length);
  return out;
}

/** `readInto`: fills `target` with the bytes at `offset`. */
export async function readInto(v: ViewSource, target: Uint8Array, offset: number): Promise<void> {
  checkBytes(target, "target");
  checkIndex(offset, "offset");
  await fill(v, target, 0, offset, target.length);
}

/**
 * Reads into `dst` without I/O: `true` only if the tail and the cache held
 * every byte (and the range is inside the size); otherwise `dst` holds
 * unspecified bytes.
 */
export function tryReadSyncInto(v: ViewSource, dst: Uint8Array, offset: number): boolean {
  checkBytes(dst, "target");
  checkIndex(offset, "offset");
  if (offset + dst.length > v.size) return false;
  if (dst.length === 0) return true;
  return copyKnown(v, dst, 0, offset, dst.length) === 0;
}

/** `readUpTo`: as many of `length` bytes at `offset` as exist, at least one. */
export async function readUpTo(
  v: ViewSource,
  offset: number,
  length: number,
  target: Uint8Array | undefined,
): Promise<Uint8Array> {
  checkIndex(offset, "offset");
  checkIndex(length, "length");
  if (target !== undefined) checkBytes(target, "target");
  if (target !== undefined && target.length < length) {
    throw new RangeError(`target holds ${target.length} bytes, fewer than the ${length} asked`);
  }
  if (length === 0) return (target ?? new Uint8Array(0)).subarray(0, 0);
  const available = Math.min(Math.max(v.size - offset, 0), length);
  if (available === 0) throw new StorageError("BlobInsufficientLength", v.where);
  const dst = (target ?? new Uint8Array(available)).subarray(0, available);
  await fill(v, dst, 0, offset, available);
  return dst;
}

/**
 * `readManyInto`: items of `itemSize` bytes at sorted, non-overlapping
 * `offsets`, back to back into `dst`; misses are read concurrently.
 *
 * @returns How many items were served without reading the blob.
 */
export async function readManyInto(
  v: ViewSource,
  dst: Uint8Array,
  offsets: readonly number[],
  itemSize: number,
): Promise<number> {
  checkBytes(dst, "target");
  if (!Array.isArray(offsets)) throw new TypeError("offsets must be an array");
  checkIndex(itemSize, "itemSize");
  if (dst.length !== offsets.length * itemSize) {
    throw new RangeError(
      `target holds ${dst.length} bytes, not ${offsets.length} items of ${itemSize}`,
    );
  }
  let previousEnd = 0;
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    checkIndex(o, "offset");
    if (i > 0 && o < previousEnd) {
      throw new RangeError("offsets must be sorted and items must not overlap");
    }
    previousEnd = o + itemSize;
  }
  const turn = spendTurn(dst.length);
  if (turn !== undefined) await turn;
  if (previousEnd > v.size) throw new StorageError("BlobInsufficientLength", v.where);
  if (offsets.length === 0 || itemSize === 0) return offsets.length;
  const reads: Promise<void>[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    const at = i * itemSize;
    const missing = copyKnown(v, dst, at, offset, itemSize);
    if (missing === 0) continue;
    const below = Math.min(v.tailOffset - offset, itemSize);
    const done = below - missing;
    reads.push(v.core.read(v.blob, v.id, dst, at + done, offset + done, missing, v.where));
  }
  if (reads.length > 0) await Promise.all(reads);
  return offsets.length - reads.length;
}
