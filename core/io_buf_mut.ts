/**
 * {@linkcode IoBufMut}: a writable buffer of fixed capacity.
 *
 * @module
 */

import { IoBuf } from "./io_buf.ts";
import { checkRange, plain } from "./_view.ts";

/**
 * A writable buffer with a fixed capacity and a length (the readable bytes at
 * its front). The capacity never grows: writing past it throws `RangeError`.
 *
 * `B` is the type of the memory it uses: `ArrayBuffer` (the default) for
 * buffers this library allocates ({@linkcode IoBufMut.withCapacity},
 * {@linkcode IoBufMut.zeroed}, `readAt` results), so their
 * {@linkcode IoBufMut.bytes} go straight to WebCrypto or `new File([...])`;
 * a buffer over the caller's `Uint8Array<SharedArrayBuffer>` says so.
 *
 * @example
 * ```ts
 * import { IoBufMut } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const buf = IoBufMut.withCapacity(8);
 * buf.put(new Uint8Array([1, 2, 3]));
 * assert.equal(buf.length, 3);
 * assert.equal(buf.capacity, 8);
 * assert.throws(() => buf.put(new Uint8Array(6)), RangeError);
 * assert.deepEqual(buf.bytes(), new Uint8Array([1, 2, 3]));
 * ```
 */
export class IoBufMut<B extends ArrayBufferLike = ArrayBuffer> {
  #store: Uint8Array<B>;
  #length: number;

  /**
   * Wraps `bytes` without copying; length and capacity are both `bytes.length`.
   *
   * @param bytes The memory to use; default empty.
   */
  constructor(bytes?: Uint8Array<B>) {
    // No bytes: an empty buffer, which shares no memory whatever `B` says.
    this.#store = bytes === undefined ? new Uint8Array(0) as Uint8Array<B> : plain(bytes);
    this.#length = this.#store.length;
  }

  /**
   * An empty buffer (length 0) with room for `capacity` bytes.
   *
   * @example
   * ```ts
   * import { IoBufMut } from "@blobrt/storage/buffers";
   * import assert from "node:assert/strict";
   *
   * const buf = IoBufMut.withCapacity(16);
   * assert.equal(buf.length, 0);
   * assert.equal(buf.capacity, 16);
   * ```
   *
   * @param capacity A non-negative safe integer.
   * @returns The new buffer.
   */
  static withCapacity(capacity: number): IoBufMut<ArrayBuffer> {
    const buf = new IoBufMut(new Uint8Array(checkSize(capacity)));
    buf.#length = 0;
    return buf;
  }

  /**
   * A buffer of `length` zero bytes (length = capacity = `length`).
   *
   * @example
   * ```ts
   * import { IoBufMut } from "@blobrt/storage/buffers";
   * import assert from "node:assert/strict";
   *
   * const buf = IoBufMut.zeroed(4);
   * assert.deepEqual(buf.bytes(), new Uint8Array(4));
   * ```
   *
   * @param length A non-negative safe integer.
   * @returns The new buffer.
   */
  static zeroed(length: number): IoBufMut<ArrayBuffer> {
    return new IoBufMut(new Uint8Array(checkSize(length)));
  }

  /** Number of readable bytes. */
  get length(): number {
    return this.#length;
  }

  /** Bytes left to read; the same as {@linkcode IoBufMut.length}. */
  get remaining(): number {
    return this.#length;
  }

  /** Total room, readable bytes included. Never grows. */
  get capacity(): number {
    return this.#store.length;
  }

  /**
   * The readable bytes (zero-copy, writable in place).
   *
   * @returns A view of the readable bytes.
   */
  chunk(): Uint8Array<B> {
    return this.bytes();
  }

  /**
   * The readable bytes as one plain `Uint8Array` (zero-copy): a view of this
   * buffer's memory, so `Uint8Array<ArrayBuffer>` unless it wraps other memory.
   *
   * @returns A view of the readable bytes.
   */
  bytes(): Uint8Array<B> {
    return this.#length === this.#store.length
      ? this.#store
      : this.#store.subarray(0, this.#length);
  }

  /**
   * Consumes `n` bytes from the front; the capacity shrinks with them.
   *
   * @param n How many bytes; at most {@linkcode IoBufMut.remaining}, else `RangeError`.
   */
  advance(n: number): void {
    checkRange(n, n, this.#length);
    this.#store = this.#store.subarray(n);
    this.#length -= n;
  }

  /**
   * Appends a copy of `src` after the readable bytes.
   *
   * @param src The bytes to append; `RangeError` if they do not fit.
   */
  put(src: Uint8Array): void {
    const end = this.#length + src.length;
    if (end > this.#store.length) {
      throw new RangeError(
        `cannot put ${src.length} bytes: length ${this.#length}, capacity ${this.#store.length}`,
      );
    }
    this.#store.set(src, this.#length);
    this.#length = end;
  }

  /**
   * Sets the readable length. Growing exposes the bytes already in the buffer's
   * memory (zeros for a new buffer).
   *
   * @param length At most {@linkcode IoBufMut.capacity}, else `RangeError`.
   */
  setLength(length: number): void {
    checkRange(length, length, this.#store.length);
    this.#length = length;
  }

  /** Sets the length to 0, keeping the capacity. */
  clear(): void {
    this.#length = 0;
  }

  /**
   * A zero-copy, read-only view of readable bytes `[start, end)`.
   *
   * @param start First byte, default 0.
   * @param end One past the last byte, default the length.
   * @returns An `IoBuf` over the same memory. Bad ranges throw `RangeError`.
   */
  slice(start = 0, end: number = this.#length): IoBuf<B> {
    checkRange(start, end, this.#length);
    return new IoBuf(this.#store.subarray(start, end));
  }

  /**
   * The readable bytes as an {@linkcode IoBuf} (zero-copy).
   *
   * @returns An `IoBuf` over the same memory.
   */
  freeze(): IoBuf<B> {
    return new IoBuf(this.bytes());
  }
}

function checkSize(n: number): number {
  if (typeof n !== "number") throw new TypeError(`expected a number, got ${typeof n}`);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`expected a non-negative safe integer, got ${n}`);
  }
  return n;
}
