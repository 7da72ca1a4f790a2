/**
 * {@linkcode IoBufsMut}: an ordered list of writable chunks, as read targets
 * and read results.
 *
 * @module
 */

import { IoBufMut } from "./io_buf_mut.ts";
import { checkRange, concat } from "./_view.ts";
import { giveBack } from "./_memory_pool.ts";

/**
 * Ordered chunks of {@linkcode IoBufMut}. Chunks of length 0 that still have
 * capacity are kept, so a read into the caller's buffers keeps their layout;
 * chunks without capacity are dropped. Iterating yields each non-empty readable
 * chunk as a `Uint8Array`.
 *
 * `B` is the type of the chunks' memory: `ArrayBuffer` (the default) for what
 * `readAt` returns and for buffers over `ArrayBuffer`-backed arrays, so
 * {@linkcode IoBufsMut.bytes} goes straight to WebCrypto or `new File([...])`.
 * A copy this class makes (several chunks coalesced) is always an `ArrayBuffer`.
 *
 * @example
 * ```ts
 * import { IoBufMut, IoBufsMut } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const a = IoBufMut.withCapacity(2);
 * const b = IoBufMut.withCapacity(2);
 * const bufs = new IoBufsMut([a, b]);
 * assert.equal(bufs.capacity, 4);
 * assert.equal(bufs.length, 0);
 * assert.ok(!bufs.isSingle());
 * a.put(new Uint8Array([1, 2]));
 * assert.deepEqual(bufs.bytes(), new Uint8Array([1, 2]));
 * assert.equal(bufs.buffers()[0], a);
 * ```
 */
export class IoBufsMut<B extends ArrayBufferLike = ArrayBuffer>
  implements Iterable<Uint8Array<B>>, Disposable {
  readonly #chunks: IoBufMut<B>[];
  #head = 0;

  /**
   * Builds from one chunk or from chunks in order, without copying. A
   * `Uint8Array` becomes an {@linkcode IoBufMut} with length = capacity = its
   * length.
   *
   * @param chunks One `IoBufMut` or `Uint8Array`, or an iterable of them.
   */
  constructor(
    chunks: IoBufMut<B> | Uint8Array<B> | Iterable<Uint8Array<B> | IoBufMut<B>> = [],
  ) {
    if (chunks instanceof Uint8Array || chunks instanceof IoBufMut) {
      const buf = chunks instanceof IoBufMut ? chunks : new IoBufMut(chunks);
      this.#chunks = buf.capacity > 0 ? [buf] : [];
    } else {
      this.#chunks = [];
      for (const c of chunks) this.push(c);
    }
  }

  /**
   * Appends a chunk (not copied); one without capacity is ignored.
   *
   * @param chunk A `Uint8Array` or `IoBufMut`.
   */
  push(chunk: Uint8Array<B> | IoBufMut<B>): void {
    const buf = chunk instanceof IoBufMut ? chunk : new IoBufMut(chunk);
    if (buf.capacity > 0) this.#chunks.push(buf);
  }

  /** Total readable bytes. */
  get length(): number {
    let n = 0;
    for (let i = this.#head; i < this.#chunks.length; i++) n += this.#chunks[i]!.length; // i < length
    return n;
  }

  /** Bytes left to read; the same as {@linkcode IoBufsMut.length}. */
  get remaining(): number {
    return this.length;
  }

  /** Total capacity of the chunks left. */
  get capacity(): number {
    let n = 0;
    for (let i = this.#head; i < this.#chunks.length; i++) n += this.#chunks[i]!.capacity; // i < length
    return n;
  }

  /** Number of chunks left, empty ones included. */
  get chunkCount(): number {
    return this.#chunks.length - this.#head;
  }

  /**
   * The chunk objects left, in order (the caller's own buffers after a read).
   *
   * @returns The chunks.
   */
  buffers(): readonly IoBufMut<B>[] {
    return this.#head === 0 ? this.#chunks : this.#chunks.slice(this.#head);
  }

  /**
   * Whether at most one chunk is left (empty chunks count).
   *
   * @returns `true` for zero or one chunk.
   */
  isSingle(): boolean {
    return this.chunkCount <= 1;
  }

  /**
   * The first non-empty readable chunk (zero-copy), or an empty array.
   *
   * @returns A view of that chunk.
   */
  chunk(): Uint8Array<B> {
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const c = this.#chunks[i]!; // i < length
      if (c.length > 0) return c.bytes();
    }
    // Nothing readable: an empty array, which shares no memory.
    return new Uint8Array(0) as Uint8Array<B>;
  }

  /**
   * Consumes `n` bytes across chunks, moving the cursors of the chunk objects
   * themselves; a chunk left without capacity is dropped, one with spare
   * capacity stays (with length 0).
   *
   * @param n At most {@linkcode IoBufsMut.remaining}, else `RangeError`.
   */
  advance(n: number): void {
    checkRange(n, n, this.length);
    while (n > 0) {
      // n <= the bytes left, all in chunks from #head on: the chunk is there.
      const c = this.#chunks[this.#head]!;
      const take = Math.min(n, c.length);
      c.advance(take);
      n -= take;
      if (c.length === 0 && n > 0) this.#head++;
    }
    while (this.#head < this.#chunks.length && this.#chunks[this.#head]!.capacity === 0) {
      this.#head++;
    }
  }

  /**
   * The bytes as one {@linkcode IoBufMut}: the chunk itself when there is one
   * (zero-copy), one contiguous copy otherwise.
   *
   * @returns One buffer holding every readable byte.
   */
  coalesce(): IoBufMut<B | ArrayBuffer> {
    if (this.chunkCount === 1) return this.#chunks[this.#head]!; // one chunk left: at #head
    return new IoBufMut(concat(this));
  }

  /**
   * The readable bytes as one plain `Uint8Array`: zero-copy when they lie in one
   * chunk, one copy (an `ArrayBuffer`) otherwise.
   *
   * @returns Every readable byte.
   */
  bytes(): Uint8Array<B | ArrayBuffer> {
    let only: Uint8Array<B> | undefined;
    for (const b of this) {
      if (only !== undefined) return concat(this);
      only = b;
    }
    return only ?? new Uint8Array(0);
  }

  /**
   * Lets go of the bytes: this object is empty afterwards. When it came from a
   * filesystem storage's `readAt` of 64 KiB or more, its memory goes back to
   * a small pool (at most 64 MiB) for the next `readAt` of the same length,
   * so a loop of large reads stops paying for fresh pages: commonware's
   * buffer pool, opt-in with `using`. Bytes taken from it before (by
   * {@linkcode IoBufsMut.bytes}, iteration or its chunks) must not be used
   * after: a later read may overwrite them. Without `using` or a call to this,
   * nothing is ever reused.
   *
   * @example
   * ```ts
   * import { NodeStorage } from "@blobrt/storage/node";
   * import assert from "node:assert/strict";
   *
   * const directory = await Deno.makeTempDir();
   * const storage = new NodeStorage({ directory });
   * await using opened = await storage.open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array(1 << 20).fill(7));
   * let sum = 0;
   * for (let i = 0; i < 4; i++) {
   *   using read = await opened.blob.readAt(0, 1 << 20); // the same memory after the first
   *   sum += read.bytes()[i]!;
   * }
   * assert.equal(sum, 28);
   * await Deno.remove(directory, { recursive: true });
   * ```
   */
  [Symbol.dispose](): void {
    giveBack(this);
    this.#chunks.length = 0;
    this.#head = 0;
  }

  /** Yields each non-empty readable chunk, in order. */
  *[Symbol.iterator](): Iterator<Uint8Array<B>> {
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const c = this.#chunks[i]!; // i < length
      if (c.length > 0) yield c.bytes();
    }
  }
}
