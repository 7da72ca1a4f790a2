/**
 * {@linkcode Tip}: the bytes `BufferedWriter` holds at the logical end of its
 * blob, `[offset, offset + length)`, in one buffer of `capacity` bytes that is
 * allocated on the first merge and reused for the writer's life (commonware's
 * `tip::Buffer`, without the copy-on-write: the writer copies what it hands
 * out instead, and never changes the buffer while a flush of it is in flight).
 *
 * @module
 */

import { StorageError } from "../core/errors.ts";

/** Buffered bytes at the tip of a blob. */
export class Tip {
  /** Blob offset of the first buffered byte. */
  offset: number;
  /** How many bytes are buffered. */
  length = 0;
  /** The most bytes the tip holds. */
  readonly capacity: number;
  #data: Uint8Array<ArrayBuffer> | undefined;

  constructor(offset: number, capacity: number) {
    this.offset = offset;
    this.capacity = capacity;
  }

  /** The logical size of the blob: buffered bytes included. */
  get size(): number {
    return this.offset + this.length;
  }

  /** A view of the buffered bytes (valid until the next change of the tip). */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#data === undefined ? new Uint8Array(0) : this.#data.subarray(0, this.length);
  }

  /** Copies buffered bytes `[from, from + n)` (tip-relative) into `out` at `at`. */
  copyTo(out: Uint8Array, at: number, from: number, n: number): void {
    out.set(this.#data!.subarray(from, from + n), at); // n > 0 only when bytes are buffered
  }

  /**
   * Merges `chunk` at blob offset `at` when it lies entirely in
   * `[offset, offset + capacity)`, zero-filling any gap after the buffered
   * bytes. Returns whether it did; otherwise the caller handles the chunk.
   */
  merge(chunk: Uint8Array, at: number): boolean {
    if (at < this.offset || at + chunk.length > this.offset + this.capacity) return false;
    let data = this.#data;
    if (data === undefined) {
      try {
        data = this.#data = new Uint8Array(this.capacity);
      } catch (cause) {
        throw new StorageError("WriteFailed", { cause }); // more than this runtime can allocate
      }
    }
    const start = at - this.offset;
    if (start > this.length) data.fill(0, this.length, start);
    data.set(chunk, start);
    const end = start + chunk.length;
    if (end > this.length) this.length = end;
    return true;
  }

  /** Records that the buffered bytes reached the blob: the tip is empty at the old size. */
  drained(): void {
    this.offset += this.length;
    this.length = 0;
  }
}
