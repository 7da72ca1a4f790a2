/**
 * {@linkcode IoBuf}: an immutable, zero-copy view of bytes with a read cursor.
 *
 * @module
 */

import { checkRange, plain } from "./_view.ts";

/**
 * An immutable view of bytes. Slicing never copies; {@linkcode IoBuf.advance}
 * moves the start of the view (the bytes themselves never change through it).
 *
 * `B` is the type of the memory under the view, taken from what it wraps: an
 * `IoBuf` over `new Uint8Array(n)` or over a copy is `IoBuf<ArrayBuffer>` (the
 * default), and its {@linkcode IoBuf.bytes} go straight to WebCrypto or
 * `new File([...])`; an `IoBuf` over a `Uint8Array<SharedArrayBuffer>` says so
 * (`IoBuf<SharedArrayBuffer>`), since its zero-copy views are of that memory.
 * `writeAt` accepts either.
 *
 * @example
 * ```ts
 * import { IoBuf } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const buf = new IoBuf(new TextEncoder().encode("hello world"));
 * const world = buf.slice(6, 11);
 * assert.equal(new TextDecoder().decode(world.bytes()), "world");
 * assert.equal(world.bytes().buffer, buf.bytes().buffer); // same memory
 * buf.advance(6);
 * assert.equal(buf.remaining, 5);
 * ```
 */
export class IoBuf<B extends ArrayBufferLike = ArrayBuffer> {
  #view: Uint8Array<B>;

  /**
   * Wraps `bytes` without copying. A `Uint8Array` subclass (such as `Buffer`) is
   * re-viewed as a plain `Uint8Array` over the same memory.
   *
   * @param bytes The bytes to view; default empty.
   */
  constructor(bytes?: Uint8Array<B>) {
    // No bytes: an empty view, which shares no memory whatever `B` says.
    this.#view = bytes === undefined ? new Uint8Array(0) as Uint8Array<B> : plain(bytes);
  }

  /**
   * A new `IoBuf` over a copy of `bytes`, for when the source will be reused.
   *
   * @example
   * ```ts
   * import { IoBuf } from "@blobrt/storage/buffers";
   * import assert from "node:assert/strict";
   *
   * const src = new Uint8Array([1, 2, 3]);
   * const copy = IoBuf.copyFrom(src);
   * src[0] = 9;
   * assert.deepEqual(copy.bytes(), new Uint8Array([1, 2, 3]));
   * ```
   *
   * @param bytes The bytes to copy.
   * @returns The new buffer.
   */
  static copyFrom(bytes: ArrayLike<number>): IoBuf<ArrayBuffer> {
    return new IoBuf(Uint8Array.from(bytes));
  }

  /** Number of readable bytes. */
  get length(): number {
    return this.#view.length;
  }

  /** Bytes left to read; the same as {@linkcode IoBuf.length}. */
  get remaining(): number {
    return this.#view.length;
  }

  /**
   * The readable bytes (zero-copy).
   *
   * @returns A view of the readable bytes.
   */
  chunk(): Uint8Array<B> {
    return this.#view;
  }

  /**
   * Consumes `n` bytes from the front.
   *
   * @param n How many bytes; at most {@linkcode IoBuf.remaining}, else `RangeError`.
   */
  advance(n: number): void {
    checkRange(n, n, this.#view.length);
    this.#view = this.#view.subarray(n);
  }

  /**
   * A zero-copy view of bytes `[start, end)`.
   *
   * @param start First byte, default 0.
   * @param end One past the last byte, default the length.
   * @returns A new `IoBuf` over the same memory. Bad ranges throw `RangeError`.
   */
  slice(start = 0, end: number = this.#view.length): IoBuf<B> {
    checkRange(start, end, this.#view.length);
    return new IoBuf(this.#view.subarray(start, end));
  }

  /**
   * The readable bytes as one plain `Uint8Array` (zero-copy): a view of the
   * memory this buffer wraps, so `Uint8Array<ArrayBuffer>` unless it wraps
   * other memory.
   *
   * @returns A view of the readable bytes.
   */
  bytes(): Uint8Array<B> {
    return this.#view;
  }
}
