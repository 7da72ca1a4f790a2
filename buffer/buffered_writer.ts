/**
 * {@linkcode BufferedWriter}: a write buffer (the *tip*) in front of a
 * {@linkcode Blob}, ported from commonware-runtime's `buffer::Write`. Small
 * appends collect in memory and reach the blob as one write; reads through
 * the writer see the buffered bytes; `sync` makes everything durable, with a
 * single `{ sync: true }` write when only the tip needs it.
 *
 * @example Appending records, then syncing once
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { BufferedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const { blob, size } = await storage.open("log", "0");
 * const writer = new BufferedWriter(blob, size, { capacity: 4096 });
 * for (const word of ["alpha ", "beta ", "gamma"]) {
 *   await writer.writeAt(writer.size, new TextEncoder().encode(word)); // no blob write yet
 * }
 * await writer.sync(); // one durable write
 * storage.crash();
 * const reopened = await storage.open("log", "0");
 * assert.equal(new TextDecoder().decode((await reopened.blob.readAt(0, 16)).bytes()), "alpha beta gamma");
 * ```
 *
 * @module
 */

import { spendTurn } from "../core/_turn.ts";
import { checkEnd, checkIndex, checkWrite, insufficientLength } from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import type { Blob, WriteData } from "../core/types.ts";
import {
  checkBlobLike,
  checkOptions,
  checkPositive,
  OpQueue,
  type Where,
  whereOf,
} from "./_buffered_queue.ts";
import { Tip } from "./_buffered_tip.ts";

// The types `writeAt` takes, re-exported so the API documented here is complete.
export type { IoBuf, IoBufMut, IoBufs } from "../core/buffers.ts";
export type { WriteData };

/**
 * Options of {@linkcode BufferedWriter}.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { BufferedWriter, type BufferedWriterOptions } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const options: BufferedWriterOptions = { capacity: 64 * 1024 };
 * await using opened = await new MemoryStorage().open("p", "b");
 * assert.equal(new BufferedWriter(opened.blob, 0, options).capacity, 65536);
 * ```
 */
export interface BufferedWriterOptions {
  /**
   * The most bytes the tip buffers: a positive safe integer
   * (`TypeError`/`RangeError` otherwise). Allocated on the first buffered
   * write and reused.
   */
  capacity: number;
  /** The blob's partition, for the errors this writer raises itself. */
  partition?: string;
  /** The lowercase hex of the blob's name, for the errors this writer raises itself. */
  blob?: string;
}

const BLOB_METHODS = ["readAtBuf", "writeAt", "resize", "sync"] as const;

/**
 * A tip buffer in front of a blob; the port of commonware-runtime's
 * `buffer::Write`.
 *
 * **The tip.** The writer buffers the bytes of `[tip, tip + n)` for some
 * `tip` that starts at `size`, with `n <= capacity`;
 * {@linkcode BufferedWriter.size} is `tip + n`. For each chunk of a write, as
 * commonware does:
 * 1. if it lies entirely in `[tip, tip + capacity)`, it is merged into the tip
 *    (a gap after the buffered bytes becomes zeros): no I/O;
 * 2. otherwise, if it ends after `tip` and bytes are buffered, the tip is
 *    written to the blob and the merge is tried again (the tip now starts
 *    where the flushed bytes ended);
 * 3. otherwise the chunk goes straight to the blob, and `tip` moves up to the
 *    chunk's end if that is further.
 *
 * **Durability.** Like commonware's `SyncState`, the writer tracks whether
 * the blob has changes that need a full `sync`; it starts with "yes", as the
 * blob's existing contents may not be durable. {@linkcode BufferedWriter.sync}
 * writes the tip with `{ sync: true }` when nothing else needs syncing (one
 * range-durable write), and otherwise writes it plainly and then syncs the
 * blob.
 *
 * **One owner.** As in commonware, the writer owns the blob's mutations while
 * it exists: do not write or resize the blob through another handle (other
 * handles see only flushed bytes). Calls are meant to be awaited one at a
 * time; calls made without awaiting run one after another in call order, so
 * they cannot corrupt the tip, and {@linkcode BufferedWriter.size} shows the
 * state once the calls made so far have settled.
 *
 * **Failures.** A write, resize or sync that rejects keeps the buffered bytes
 * (commonware drops a tip whose flush failed; here a retry or a later `sync`
 * writes it again), so `size` and `readAt` never report bytes that were lost.
 * A failed write of several chunks may have applied the chunks before the
 * failing one, and as with {@linkcode Blob.writeAt}, a failed blob write may
 * have left part of its bytes in the blob. Errors the writer raises itself
 * (`BlobInsufficientLength`, `OffsetOverflow`) carry the `partition` and
 * `blob` given in the options (a `Blob` does not say which it is); the
 * blob's errors pass through unchanged.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { BufferedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * await using opened = await new MemoryStorage().open("p", "b");
 * const writer = new BufferedWriter(opened.blob, 0, { capacity: 16 });
 * await writer.writeAt(0, new TextEncoder().encode("hello"));
 * await writer.writeAt(5, new TextEncoder().encode(" world"));
 * assert.equal(writer.size, 11);
 * assert.equal(new TextDecoder().decode(await writer.readAt(0, 11)), "hello world");
 * await assert.rejects(opened.blob.readAt(0, 1), { code: "BlobInsufficientLength" }); // still buffered
 * await writer.sync();
 * assert.equal(new TextDecoder().decode((await opened.blob.readAt(0, 11)).bytes()), "hello world");
 * ```
 */
export class BufferedWriter {
  readonly #where: Where;
  readonly #blob: Blob;
  readonly #tip: Tip;
  /** Whether the blob has changes a full `sync` must cover. */
  #dirty = true;
  readonly #queue = new OpQueue();

  /**
   * Creates a writer whose tip starts empty at `size`. Does no I/O and
   * allocates no buffer.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * const writer = new BufferedWriter(opened.blob, opened.size, { capacity: 4096 });
   * assert.equal(writer.size, 0);
   * assert.throws(() => new BufferedWriter(opened.blob, 0, { capacity: 0 }), RangeError);
   * ```
   *
   * @param blob The blob to write.
   * @param size Its current logical size: a non-negative safe integer.
   * @param options `capacity`: the most bytes to buffer.
   * @throws {TypeError} `blob` is not a blob, or an argument has the wrong type.
   * @throws {RangeError} `size` or `capacity` is out of range.
   */
  constructor(blob: Blob, size: number, options: BufferedWriterOptions) {
    checkBlobLike(blob, BLOB_METHODS, "BufferedWriter");
    checkIndex(size, "size");
    checkOptions(options, "BufferedWriter");
    const capacity = checkPositive(options.capacity, "capacity");
    this.#where = whereOf(options);
    this.#blob = blob;
    this.#tip = new Tip(size, capacity);
  }

  /**
   * The logical size of the blob, buffered bytes included: what it will be
   * once they are flushed.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * const writer = new BufferedWriter(opened.blob, 0, { capacity: 8 });
   * await writer.writeAt(4, new Uint8Array([1]));
   * assert.equal(writer.size, 5);
   * ```
   *
   * @returns The size in bytes.
   */
  get size(): number {
    return this.#tip.size;
  }

  /**
   * The most bytes the tip buffers (the `capacity` option).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * assert.equal(new BufferedWriter(opened.blob, 0, { capacity: 8 }).capacity, 8);
   * ```
   *
   * @returns The byte count.
   */
  get capacity(): number {
    return this.#tip.capacity;
  }

  /**
   * Reads exactly `length` bytes at `offset`: from the tip, from the blob, or
   * from both spliced together. Always a fresh copy (later writes do not
   * change it). Any byte past {@linkcode BufferedWriter.size} rejects with
   * `BlobInsufficientLength`, even for `length` 0 (as in commonware).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * const writer = new BufferedWriter(opened.blob, 0, { capacity: 4 });
   * await writer.writeAt(0, new TextEncoder().encode("flushed")); // too big: straight to the blob
   * await writer.writeAt(7, new TextEncoder().encode("tip")); // buffered
   * assert.equal(new TextDecoder().decode(await writer.readAt(5, 5)), "edtip");
   * assert.equal((await writer.readAt(10, 0)).length, 0);
   * await assert.rejects(writer.readAt(11, 0), { code: "BlobInsufficientLength" });
   * ```
   *
   * @param offset Logical offset of the first byte.
   * @param length How many bytes.
   * @returns The bytes.
   * @throws {TypeError} `offset` or `length` is not a number.
   * @throws {RangeError} `offset` or `length` is not a non-negative safe integer.
   * @throws {StorageError} `OffsetOverflow`, `BlobInsufficientLength`, or the blob's read error.
   */
  readAt(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    try {
      checkIndex(offset, "offset");
      checkIndex(length, "length");
      checkEnd(offset, length, this.#where);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#queue.idle && offset >= this.#tip.offset && offset + length <= this.#tip.size) {
      // The fast path: no call in flight, and the tip holds every byte.
      const turn = spendTurn(length);
      if (turn === undefined) {
        try {
          return Promise.resolve(this.#fromTip(offset, length));
        } catch (err) {
          return Promise.reject(err); // more than this runtime can allocate
        }
      }
      return this.#queue.run(async () => {
        await turn;
        return this.#read(offset, length);
      });
    }
    return this.#queue.run(() => this.#read(offset, length));
  }

  /**
   * Writes `data` at `offset`, chunk by chunk, by the rules in the class docs:
   * into the tip when it fits, else after flushing the tip, else straight to
   * the blob. Writing past the end extends the blob; a gap reads as zeros.
   * Durable only after {@linkcode BufferedWriter.sync}. A chunk that goes
   * straight to the blob is handed to it as is: do not change `data` until the
   * promise settles.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * const writer = new BufferedWriter(opened.blob, 0, { capacity: 20 });
   * await writer.writeAt(0, new TextEncoder().encode("abcdefghij"));
   * await writer.writeAt(2, new TextEncoder().encode("01234")); // overwrites inside the tip
   * assert.equal(new TextDecoder().decode(await writer.readAt(0, 10)), "ab01234hij");
   * ```
   *
   * @param offset Logical offset of the first byte.
   * @param data The bytes: a buffer or chunks, see {@linkcode WriteData}.
   * @throws {TypeError} `data` or `offset` has the wrong type.
   * @throws {RangeError} `offset` is not a non-negative safe integer.
   * @throws {StorageError} `OffsetOverflow`, or what the blob's write rejects with.
   */
  writeAt(offset: number, data: WriteData): Promise<void> {
    if (data instanceof Uint8Array && this.#queue.idle) {
      // The common case (one array, nothing in flight), without building a chunk list.
      try {
        checkIndex(offset, "offset");
        checkEnd(offset, data.length, this.#where);
      } catch (err) {
        return Promise.reject(err);
      }
      if (data.length === 0) return Promise.resolve();
      const turn = spendTurn(data.length);
      try {
        if (turn === undefined && this.#tip.merge(data, offset)) return Promise.resolve();
      } catch (err) {
        return Promise.reject(err); // the tip could not be allocated
      }
      return this.#queue.run(async () => {
        await turn;
        return this.#write([data], 0, offset);
      });
    }
    let chunks: Uint8Array[];
    let length: number;
    try {
      ({ chunks, length } = checkWrite(offset, data, undefined, false, this.#where));
    } catch (err) {
      return Promise.reject(err);
    }
    if (length === 0) return Promise.resolve();
    if (this.#queue.idle) {
      // The fast path: no call in flight; merge what fits, synchronously.
      const turn = spendTurn(length);
      if (turn !== undefined) {
        return this.#queue.run(async () => {
          await turn;
          return this.#write(chunks, 0, offset);
        });
      }
      const tip = this.#tip;
      let at = offset;
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!; // i < length
        let merged: boolean;
        try {
          merged = tip.merge(chunk, at);
        } catch (err) {
          return Promise.reject(err); // the tip could not be allocated
        }
        if (!merged) return this.#queue.run(() => this.#write(chunks, i, at));
        at += chunk.length;
      }
      return Promise.resolve();
    }
    return this.#queue.run(() => this.#write(chunks, 0, offset));
  }

  /**
   * Sets the logical size to `length`: growing past the buffered bytes first
   * writes them to the blob; shrinking into them truncates the tip; shrinking
   * below them drops them. Then the blob is resized. Durable only after
   * {@linkcode BufferedWriter.sync}.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * await using opened = await new MemoryStorage().open("p", "b");
   * const writer = new BufferedWriter(opened.blob, 0, { capacity: 16 });
   * await writer.writeAt(0, new TextEncoder().encode("hello world"));
   * await writer.resize(5);
   * assert.equal(writer.size, 5);
   * await writer.resize(7);
   * assert.deepEqual(await writer.readAt(0, 7), new Uint8Array([104, 101, 108, 108, 111, 0, 0]));
   * ```
   *
   * @param length The new logical size: a non-negative safe integer.
   * @throws {TypeError} `length` is not a number.
   * @throws {RangeError} `length` is not a non-negative safe integer.
   * @throws {StorageError} `OffsetOverflow`, or what the blob's write or resize rejects with.
   */
  resize(length: number): Promise<void> {
    try {
      checkIndex(length, "length");
      checkEnd(0, length, this.#where);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#queue.run(() => this.#resize(length));
  }

  /**
   * Writes the buffered bytes and makes every change made through the writer
   * durable (and, the first time, the blob's earlier contents too). When only
   * the tip needs it, that is one `{ sync: true }` write; when the blob also
   * has unsynced changes, a plain write and then the blob's `sync`. Does
   * nothing when there is nothing to make durable.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@blobrt/storage";
   * import { BufferedWriter } from "@blobrt/storage/buffer";
   * import assert from "node:assert/strict";
   *
   * const storage = new MemoryStorage();
   * const { blob } = await storage.open("p", "b");
   * const writer = new BufferedWriter(blob, 0, { capacity: 8 });
   * await writer.writeAt(0, new TextEncoder().encode("kept"));
   * await writer.sync();
   * await writer.writeAt(4, new TextEncoder().encode("lost"));
   * storage.crash();
   * assert.equal((await storage.open("p", "b")).size, 4);
   * ```
   *
   * @throws {StorageError} What the blob's write or sync rejects with.
   */
  sync(): Promise<void> {
    return this.#queue.run(() => this.#sync());
  }

  /** Copies `[offset, offset + length)`, all in the tip. */
  #fromTip(offset: number, length: number): Uint8Array<ArrayBuffer> {
    const out = alloc(length);
    if (length > 0) this.#tip.copyTo(out, 0, offset - this.#tip.offset, length);
    return out;
  }

  async #read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    const tip = this.#tip;
    const end = offset + length;
    if (end > tip.size) throw insufficientLength(this.#where, offset, length, tip.size);
    if (offset >= tip.offset) return this.#fromTip(offset, length);
    const out = alloc(length);
    const fromBlob = Math.min(end, tip.offset) - offset;
    await this.#blob.readAtBuf(offset, fromBlob, out.subarray(0, fromBlob));
    if (fromBlob < length) tip.copyTo(out, fromBlob, 0, length - fromBlob);
    return out;
  }

  /** Writes `chunks[i..]`, the first at `at`, by the tip rules. */
  async #write(chunks: readonly Uint8Array[], i: number, at: number): Promise<void> {
    const tip = this.#tip;
    for (; i < chunks.length; i++) {
      const chunk = chunks[i]!; // i < length
      const end = at + chunk.length;
      if (tip.merge(chunk, at)) {
        at = end;
        continue;
      }
      if (tip.offset < end && tip.length > 0) {
        await this.#flush();
        if (tip.merge(chunk, at)) {
          at = end;
          continue;
        }
      }
      // Too big for the tip, or wholly before it: straight to the blob. (A range
      // the flush above just wrote may be written twice, as in commonware.)
      await this.#plainWrite(at, chunk);
      if (end > tip.offset) tip.offset = end; // the tip is empty here, or after `end`
      at = end;
    }
  }

  async #resize(length: number): Promise<void> {
    const tip = this.#tip;
    if (tip.length > 0 && length >= tip.size) await this.#flush();
    this.#dirty = true;
    await this.#blob.resize(length);
    if (tip.length === 0 || length < tip.offset) {
      tip.offset = length;
      tip.length = 0;
    } else {
      tip.length = length - tip.offset; // inside the tip: truncate it
    }
  }

  async #sync(): Promise<void> {
    const tip = this.#tip;
    if (tip.length > 0) {
      if (this.#dirty) {
        // Earlier changes need a full barrier anyway: a plain write, then sync.
        await this.#blob.writeAt(tip.offset, tip.bytes());
        tip.drained();
        await this.#blob.sync();
      } else {
        // Only the tip needs durability: one range-durable write. Until it
        // succeeds, a later sync must still treat the blob as dirty.
        this.#dirty = true;
        await this.#blob.writeAt(tip.offset, tip.bytes(), { sync: true });
        tip.drained();
      }
      this.#dirty = false;
      return;
    }
    if (!this.#dirty) return;
    await this.#blob.sync();
    this.#dirty = false;
  }

  /** Writes the buffered bytes to the blob (plainly); the tip is emptied once they are there. */
  async #flush(): Promise<void> {
    await this.#plainWrite(this.#tip.offset, this.#tip.bytes());
    this.#tip.drained();
  }

  async #plainWrite(offset: number, data: Uint8Array): Promise<void> {
    this.#dirty = true; // before the write: a failed write may have left some bytes
    await this.#blob.writeAt(offset, data);
  }
}

function alloc(length: number): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(length);
  } catch (cause) {
    throw new StorageError("ReadFailed", { cause }); // more than this runtime can allocate
  }
}
