/**
 * {@linkcode IoBufs}: an ordered list of immutable chunks, read as one stream.
 *
 * @module
 */

import { IoBuf } from "./io_buf.ts";
import { checkRange, concat, plain } from "./_view.ts";

/**
 * Ordered chunks of {@linkcode IoBuf}, for vectored writes. Empty chunks are
 * never stored. Iterating yields each readable chunk as a `Uint8Array`.
 *
 * `B` is the type of the memory the chunks view (`ArrayBuffer` by default, as
 * for {@linkcode IoBuf}). A copy this class makes ({@linkcode IoBufs.bytes} and
 * {@linkcode IoBufs.coalesce} of several chunks) is always an `ArrayBuffer`, so
 * for the default `B` their results are `Uint8Array<ArrayBuffer>`.
 *
 * @example
 * ```ts
 * import { IoBufs } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * const bufs = new IoBufs([enc.encode("hello"), new Uint8Array(0), enc.encode(" world")]);
 * assert.equal(bufs.chunkCount, 2);
 * assert.equal(bufs.length, 11);
 * assert.equal(new TextDecoder().decode(bufs.coalesce().bytes()), "hello world");
 * bufs.advance(6);
 * assert.ok(bufs.isSingle());
 * assert.equal(new TextDecoder().decode(bufs.chunk()), "world");
 * ```
 */
export class IoBufs<B extends ArrayBufferLike = ArrayBuffer> implements Iterable<Uint8Array<B>> {
  // Views, not the caller's IoBuf objects: moving an IoBuf's cursor later must
  // not change what was pushed.
  #chunks: Uint8Array<B>[] = [];
  #head = 0;
  #length = 0;

  /**
   * Builds from chunks, in order, without copying; empty chunks are dropped.
   *
   * @param chunks `Uint8Array`s or `IoBuf`s.
   */
  constructor(chunks: Iterable<Uint8Array<B> | IoBuf<B>> = []) {
    if (Array.isArray(chunks)) {
      // `i < length`: the element is there (a hole is `undefined`, which `push` rejects).
      for (let i = 0; i < chunks.length; i++) this.push(chunks[i]!);
    } else {
      for (const c of chunks) this.push(c);
    }
  }

  /**
   * Appends a chunk (not copied); an empty one is ignored.
   *
   * @param chunk A `Uint8Array` or `IoBuf`.
   */
  push(chunk: Uint8Array<B> | IoBuf<B>): void {
    const view = chunk instanceof IoBuf ? chunk.bytes() : plain(chunk);
    if (view.length === 0) return;
    this.#chunks.push(view);
    this.#length += view.length;
  }

  /** Total readable bytes. */
  get length(): number {
    return this.#length;
  }

  /** Bytes left to read; the same as {@linkcode IoBufs.length}. */
  get remaining(): number {
    return this.#length;
  }

  /** Number of chunks left. */
  get chunkCount(): number {
    return this.#chunks.length - this.#head;
  }

  /**
   * Whether at most one chunk is left.
   *
   * @returns `true` for zero or one chunk.
   */
  isSingle(): boolean {
    return this.chunkCount <= 1;
  }

  /**
   * The first readable chunk (zero-copy), or an empty array when none is left.
   *
   * @returns A view of the first chunk.
   */
  chunk(): Uint8Array<B> {
    // `#head < length`: in range. No chunk: an empty array, which shares no memory.
    return this.#head < this.#chunks.length
      ? this.#chunks[this.#head]!
      : new Uint8Array(0) as Uint8Array<B>;
  }

  /**
   * Consumes `n` bytes across chunks.
   *
   * @param n At most {@linkcode IoBufs.remaining}, else `RangeError`.
   */
  advance(n: number): void {
    checkRange(n, n, this.#length);
    this.#length -= n;
    while (n > 0) {
      // n <= the bytes left, all in chunks from #head on: the chunk is there.
      const c = this.#chunks[this.#head]!;
      if (n >= c.length) {
        n -= c.length;
        this.#head++;
      } else {
        this.#chunks[this.#head] = c.subarray(n);
        n = 0;
      }
    }
  }

  /**
   * The bytes as one {@linkcode IoBuf}: a view of the chunk's own memory when
   * there is one chunk (zero-copy), one contiguous copy otherwise.
   *
   * @returns One buffer holding every readable byte.
   */
  coalesce(): IoBuf<B | ArrayBuffer> {
    return new IoBuf(this.bytes());
  }

  /**
   * The readable bytes as one plain `Uint8Array`: zero-copy for one chunk, one
   * copy (an `ArrayBuffer`) otherwise.
   *
   * @returns Every readable byte.
   */
  bytes(): Uint8Array<B | ArrayBuffer> {
    // One chunk left: it is at #head.
    return this.chunkCount === 1
      ? this.#chunks[this.#head]!
      : concat(this, new Uint8Array(this.#length));
  }

  /** Yields each readable chunk, in order. */
  *[Symbol.iterator](): Iterator<Uint8Array<B>> {
    for (let i = this.#head; i < this.#chunks.length; i++) yield this.#chunks[i]!; // i < length
  }
}
