/**
 * {@linkcode BufferedReader}: a sequential reader over a {@linkcode Blob} that
 * fetches `bufferSize` bytes at a time, ported from commonware-runtime's
 * `buffer::Read`. It is what a journal replay uses: many small reads, one blob
 * read per buffer.
 *
 * @example Replaying length-prefixed records
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { BufferedReader } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const { blob } = await new MemoryStorage().open("log", "0");
 * await blob.writeAt(0, new Uint8Array([2, 104, 105, 1, 33]));
 * const reader = new BufferedReader(blob, 5, { bufferSize: 4096 });
 * const records: string[] = [];
 * while (reader.blobRemaining > 0) {
 *   const [n] = await reader.read(1);
 *   records.push(new TextDecoder().decode(await reader.read(n!)));
 * }
 * assert.deepEqual(records, ["hi", "!"]);
 * await blob.close();
 * ```
 *
 * @module
 */

import { spendTurn } from "../core/_turn.ts";
import { checkIndex, insufficientLength } from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import type { Blob } from "../core/types.ts";
import {
  checkBlobLike,
  checkOptions,
  checkPositive,
  OpQueue,
  type Where,
  whereOf,
} from "./_buffered_queue.ts";

/**
 * Options of {@linkcode BufferedReader}.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { BufferedReader, type BufferedReaderOptions } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const options: BufferedReaderOptions = { bufferSize: 64 * 1024 };
 * await using opened = await new MemoryStorage().open("p", "b");
 * assert.equal(new BufferedReader(opened.blob, 0, options).bufferSize, 65536);
 * ```
 */
export interface BufferedReaderOptions {
  /**
   * How many bytes one blob read fetches at most: a positive safe integer
   * (`TypeError`/`RangeError` otherwise). The buffer is allocated on the
   * first read that needs it, at most the blob's size.
   */
  bufferSize: number;
  /** The blob's partition, for the errors this reader raises itself. */
  partition?: string;
  /** The lowercase hex of the blob's name, for the errors this reader raises itself. */
  blob?: string;
}

const EMPTY = new Uint8Array(0);
const BLOB_METHODS = ["readAtBuf"] as const;

/**
 * Reads a blob front to back (or from wherever {@linkcode BufferedReader.seekTo}
 * puts it) through a buffer of `bufferSize` bytes, so many small reads cost
 * one blob read per buffer. The port of commonware-runtime's `buffer::Read`.
 *
 * - `size` is the blob's size as the caller knows it (usually the `size` that
 *   `open` returned); the reader never reads past it.
 * - {@linkcode BufferedReader.read} returns exactly the bytes asked for, or
 *   rejects with `BlobInsufficientLength` and consumes nothing.
 * - Reads that the buffer holds do no I/O and return a view of the buffer
 *   (zero-copy, as commonware's slices are); a read that spans refills gets
 *   one fresh copy. The reader never overwrites memory it has handed out: once
 *   a view of the buffer has been returned, the next refill uses a new buffer
 *   (commonware does the same when a slice is still alive). Treat returned
 *   bytes as read-only: writing into a view changes what a later read of the
 *   same range (after a seek back) returns.
 * - One caller at a time, as in commonware (`&mut self`): calls are meant to
 *   be awaited in turn. Calls made without awaiting the previous one are
 *   still safe: they run one after another, in call order. The getters
 *   ({@linkcode BufferedReader.position} and friends) show the state once the
 *   calls made so far have settled.
 * - Errors the reader raises itself (`BlobInsufficientLength`) carry the
 *   `partition` and `blob` given in the options (a `Blob` does not say which
 *   it is) and say the position, length and size. Errors of the blob's own
 *   reads pass through unchanged.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { BufferedReader } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * await using opened = await new MemoryStorage().open("p", "b");
 * await opened.blob.writeAt(0, new TextEncoder().encode("Hello, world!"));
 * const reader = new BufferedReader(opened.blob, 13, { bufferSize: 8 });
 * assert.equal(new TextDecoder().decode(await reader.read(5)), "Hello");
 * assert.equal(reader.position, 5);
 * assert.equal(new TextDecoder().decode(await reader.read(8)), ", world!");
 * await assert.rejects(reader.read(1), { code: "BlobInsufficientLength" });
 * ```
 */
export class BufferedReader {
  readonly #blob: Blob;
  #size: number;
  readonly #bufferSize: number;
  /** The refill buffer; allocated on the first refill. */
  #buf: Uint8Array<ArrayBuffer> | undefined;
  /** Whether a view of `#buf` has been handed out (the next refill then allocates anew). */
  #shared = false;
  /** Blob offset of `#buf[0]`. */
  #start = 0;
  /** Read cursor inside `#buf`. */
  #pos = 0;
  /** How many bytes of `#buf` are valid. */
  #valid = 0;
  readonly #queue = new OpQueue();
  readonly #where: Where;

  /**
   * Creates a reader positioned at 0. Does no I/O and allocates no buffer.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * const reader = new BufferedReader(opened.blob, opened.size, { bufferSize: 1024 });
   * assert.equal(reader.position, 0);
   * assert.throws(() => new BufferedReader(opened.blob, 0, { bufferSize: 0 }), RangeError);
   * ```
   *
   * @param blob The blob to read.
   * @param size How many bytes of it to read: a non-negative safe integer.
   * @param options `bufferSize`: bytes per blob read.
   * @throws {TypeError} `blob` is not a blob, or an argument has the wrong type.
   * @throws {RangeError} `size` or `bufferSize` is out of range.
   */
  constructor(blob: Blob, size: number, options: BufferedReaderOptions) {
    checkBlobLike(blob, BLOB_METHODS, "BufferedReader");
    checkIndex(size, "size");
    checkOptions(options, "BufferedReader");
    this.#bufferSize = checkPositive(options.bufferSize, "bufferSize");
    this.#where = whereOf(options);
    this.#blob = blob;
    this.#size = size;
  }

  /**
   * The blob offset of the next byte {@linkcode BufferedReader.read} returns.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array(16));
   * const reader = new BufferedReader(opened.blob, 16, { bufferSize: 4 });
   * await reader.read(6);
   * assert.equal(reader.position, 6);
   * ```
   *
   * @returns The position.
   */
  get position(): number {
    return this.#start + this.#pos;
  }

  /**
   * The blob size the reader was given (or its last {@linkcode BufferedReader.resize}).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * assert.equal(new BufferedReader(opened.blob, 0, { bufferSize: 8 }).blobSize, 0);
   * ```
   *
   * @returns The size in bytes.
   */
  get blobSize(): number {
    return this.#size;
  }

  /**
   * How many bytes are left from {@linkcode BufferedReader.position} to the end.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array(10));
   * const reader = new BufferedReader(opened.blob, 10, { bufferSize: 4 });
   * await reader.read(3);
   * assert.equal(reader.blobRemaining, 7);
   * ```
   *
   * @returns The byte count.
   */
  get blobRemaining(): number {
    return Math.max(0, this.#size - this.position);
  }

  /**
   * How many of the remaining bytes the buffer already holds (readable without I/O).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new Uint8Array(26));
   * const reader = new BufferedReader(opened.blob, 26, { bufferSize: 10 });
   * assert.equal(reader.bufferRemaining, 0);
   * await reader.read(6); // one refill of 10 bytes
   * assert.equal(reader.bufferRemaining, 4);
   * ```
   *
   * @returns The byte count.
   */
  get bufferRemaining(): number {
    return this.#valid - this.#pos;
  }

  /**
   * The most bytes one blob read fetches (the `bufferSize` option).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * assert.equal(new BufferedReader(opened.blob, 0, { bufferSize: 512 }).bufferSize, 512);
   * ```
   *
   * @returns The byte count.
   */
  get bufferSize(): number {
    return this.#bufferSize;
  }

  /**
   * Reads exactly `length` bytes at {@linkcode BufferedReader.position} and
   * moves past them. Fewer than `length` bytes left (by the size given):
   * rejects with `BlobInsufficientLength` and moves nothing. A failed blob
   * read rejects with the blob's error and moves nothing either. `length` 0
   * resolves with an empty array, even at or past the end.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new TextEncoder().encode("abcdefghij"));
   * const reader = new BufferedReader(opened.blob, 10, { bufferSize: 8 });
   * assert.equal(new TextDecoder().decode(await reader.read(6)), "abcdef");
   * await assert.rejects(reader.read(5), { code: "BlobInsufficientLength" });
   * assert.equal(reader.position, 6);
   * assert.equal(new TextDecoder().decode(await reader.read(4)), "ghij");
   * ```
   *
   * @param length How many bytes: a non-negative safe integer.
   * @returns The bytes (see the class docs on views).
   * @throws {TypeError} `length` is not a number.
   * @throws {RangeError} `length` is not a non-negative safe integer.
   * @throws {StorageError} `BlobInsufficientLength`, or what the blob's read rejects with.
   */
  read(length: number): Promise<Uint8Array<ArrayBuffer>> {
    try {
      checkIndex(length, "length");
    } catch (err) {
      return Promise.reject(err);
    }
    if (length === 0) return Promise.resolve(EMPTY);
    if (this.#queue.idle) {
      // The fast path: no call in flight, and the buffer holds the bytes.
      if (length > this.blobRemaining) {
        return Promise.reject(this.#short(length));
      }
      if (length <= this.#valid - this.#pos) {
        const turn = spendTurn(length);
        if (turn === undefined) return Promise.resolve(this.#take(length));
        return this.#queue.run(async () => {
          await turn;
          return this.#read(length);
        });
      }
    }
    return this.#queue.run(() => this.#read(length));
  }

  /**
   * Moves to blob offset `position`. Inside the buffered range this only moves
   * the cursor (no I/O); elsewhere the next read refills there. Runs after
   * any call still in flight.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * await opened.blob.writeAt(0, new TextEncoder().encode("ABCDEFGHIJ"));
   * const reader = new BufferedReader(opened.blob, 10, { bufferSize: 4 });
   * reader.seekTo(7);
   * assert.equal(new TextDecoder().decode(await reader.read(3)), "HIJ");
   * reader.seekTo(10); // the end is a valid position
   * assert.throws(() => reader.seekTo(11), { code: "BlobInsufficientLength" });
   * ```
   *
   * @param position The new position: at most the blob size.
   * @throws {TypeError} `position` is not a number.
   * @throws {RangeError} `position` is not a non-negative safe integer.
   * @throws {StorageError} `BlobInsufficientLength` when `position` is past the blob size.
   */
  seekTo(position: number): void {
    checkIndex(position, "position");
    if (position > this.#size) {
      throw new StorageError("BlobInsufficientLength", {
        ...this.#where,
        reason: `seek to ${position}, blob size ${this.#size}`,
      });
    }
    if (this.#queue.idle) this.#seek(position);
    else void this.#queue.run(async () => this.#seek(position));
  }

  /**
   * Resizes the blob to `length` and syncs it: for trimming a torn tail found
   * while replaying after an unclean shutdown. The reader then reads the
   * resized blob: its size becomes `length`, its buffer is dropped, and a
   * position past `length` moves to `length`. (commonware's `Read::resize`
   * consumes the reader instead.)
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedReader } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob } = await storage.open("p", "b");
   * await blob.writeAt(0, new TextEncoder().encode("good|torn"));
   * const reader = new BufferedReader(blob, 9, { bufferSize: 16 });
   * await reader.resize(4);
   * storage.crash();
   * assert.equal((await storage.open("p", "b")).size, 4);
   * ```
   *
   * @param length The new size: a non-negative safe integer.
   * @throws {TypeError} `length` is not a number, or the blob has no `resize`/`sync`.
   * @throws {RangeError} `length` is not a non-negative safe integer.
   * @throws {StorageError} What the blob's `resize` or `sync` rejects with.
   */
  resize(length: number): Promise<void> {
    try {
      checkIndex(length, "length");
      checkBlobLike(this.#blob, ["resize", "sync"], "BufferedReader.resize");
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#queue.run(async () => {
      await this.#blob.resize(length);
      this.#start = Math.min(this.position, length);
      this.#pos = 0;
      this.#valid = 0;
      this.#size = length;
      await this.#blob.sync();
    });
  }

  /** Hands out the next `length` buffered bytes (the caller checked they are there). */
  #take(length: number): Uint8Array<ArrayBuffer> {
    const at = this.#pos;
    this.#pos = at + length;
    this.#shared = true;
    return this.#buf!.subarray(at, at + length); // valid > 0: the buffer exists
  }

  /** `BlobInsufficientLength` for a read of `length` bytes at the current position. */
  #short(length: number): StorageError {
    return insufficientLength(this.#where, this.position, length, this.#size);
  }

  async #read(length: number): Promise<Uint8Array<ArrayBuffer>> {
    if (length > this.blobRemaining) throw this.#short(length);
    const have = this.#valid - this.#pos;
    if (length <= have) return this.#take(length);
    const from = this.position;
    if (have === 0 && length <= this.#bufferSize) {
      // One refill holds it all: hand out a view, as the fast path does.
      try {
        await this.#refill();
      } catch (err) {
        this.#seek(from);
        throw err;
      }
      return this.#take(length);
    }
    let out: Uint8Array<ArrayBuffer>;
    try {
      out = new Uint8Array(length);
    } catch (cause) {
      throw new StorageError("ReadFailed", { ...this.#where, cause });
    }
    if (have > 0) out.set(this.#buf!.subarray(this.#pos, this.#valid)); // have > 0: it exists
    this.#pos = this.#valid;
    let filled = have;
    try {
      while (filled < length) {
        await this.#refill();
        const n = Math.min(length - filled, this.#valid);
        out.set(this.#buf!.subarray(0, n), filled); // refilled: it exists
        this.#pos = n;
        filled += n;
      }
    } catch (err) {
      // Nothing consumed: back to where this read started, the buffer dropped.
      this.#start = from;
      this.#pos = 0;
      this.#valid = 0;
      throw err;
    }
    return out;
  }

  /** Fetches the next `min(bufferSize, left)` bytes after the consumed ones (at least one is left). */
  async #refill(): Promise<void> {
    this.#start += this.#pos;
    this.#pos = 0;
    this.#valid = 0;
    const n = Math.min(this.#bufferSize, this.#size - this.#start);
    let buf = this.#buf;
    if (buf === undefined || this.#shared || buf.length < n) {
      try {
        buf = new Uint8Array(Math.min(this.#bufferSize, this.#size));
      } catch (cause) {
        throw new StorageError("ReadFailed", { ...this.#where, cause });
      }
      this.#buf = buf;
      this.#shared = false;
    }
    await this.#blob.readAtBuf(this.#start, n, buf.subarray(0, n));
    this.#valid = n;
  }

  #seek(position: number): void {
    if (position >= this.#start && position < this.#start + this.#valid) {
      this.#pos = position - this.#start;
    } else {
      this.#start = position;
      this.#pos = 0;
      this.#valid = 0;
    }
  }
}
