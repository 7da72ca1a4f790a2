/**
 * Memory that `readAt` results give back when they are disposed (`using`),
 * for the next `readAt` of the same length: commonware's buffer pool, opt-in.
 * Without it, each large read gets fresh pages that the kernel must map and
 * zero: a 1 MiB `readAt` ran at 0.31× a `readAtBuf` into a reused buffer
 * (bench/io_model.ts). Small reads are not pooled (their allocation is cheap
 * and from the heap), and the pool keeps at most {@linkcode MAX_TOTAL} bytes.
 *
 * @module
 */

/** Reads shorter than this are never pooled. */
const MIN = 64 * 1024;
/** The most bytes the pool keeps, all sizes together. */
const MAX_TOTAL = 64 * 1024 * 1024;
/** The most buffers kept of one size. */
const PER_SIZE = 8;

const free = new Map<number, ArrayBuffer[]>();
let total = 0;
/** Results whose whole memory the pool may take back when they are disposed. */
const owned = new WeakMap<object, ArrayBuffer>();

/** A buffer of exactly `length` bytes given back by an earlier result, or undefined. */
export function takeMemory(length: number): Uint8Array<ArrayBuffer> | undefined {
  if (length < MIN) return undefined;
  const stack = free.get(length);
  const buffer = stack?.pop();
  if (buffer === undefined) return undefined;
  total -= length;
  return new Uint8Array(buffer);
}

/**
 * Marks `result` as the only holder of `bytes`' memory, so that disposing it
 * gives the memory back; only when `bytes` spans its whole `ArrayBuffer` and
 * is large enough to pool.
 */
export function adopt<T extends object>(result: T, bytes: Uint8Array<ArrayBuffer>): T {
  if (
    bytes.length >= MIN && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  ) {
    owned.set(result, bytes.buffer);
  }
  return result;
}

/** Takes back the memory of a disposed `result`, if it has some to give. */
export function giveBack(result: object): void {
  const buffer = owned.get(result);
  if (buffer === undefined) return;
  owned.delete(result);
  const length = buffer.byteLength;
  if (length === 0 || total + length > MAX_TOTAL) return; // detached, or the pool is full
  let stack = free.get(length);
  if (stack === undefined) free.set(length, stack = []);
  if (stack.length >= PER_SIZE) return;
  stack.push(buffer);
  total += length;
}
