/**
 * The blob handle of a `FaultyStorage`: checks, draws, then forwards to the
 * inner blob, recording writes and resizes for crash replay.
 *
 * @module
 */

import { checkRead, checkReadBuf, checkResize, checkSync, checkWrite } from "../core/args.ts";
import type { StorageError } from "../core/errors.ts";
import type { IoBufsMut } from "../core/io_bufs_mut.ts";
import { concat } from "../core/_view.ts";
import type { Blob, ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { type Core, type Generation, type Handle, injected, type Op } from "./_faulty_state.ts";

const SYNC: WriteOptions = Object.freeze({ sync: true });
const noop = (): void => {};

/** A handle: checks, draws, then forwards to the inner blob, recording for replay. */
export class FaultyBlob implements Blob, Handle {
  /** The blob file this handle is open on. */
  readonly gen: Generation;
  #core: Core;
  #inner: Blob;
  /** The logical size as issued so far (for partial resizes). */
  #size: number;
  #closed = false;
  /** What its `Closed` and `OffsetOverflow` errors carry, built once. */
  readonly #where: { readonly partition: string; readonly blob: string };
  /** Writes and resizes issued since the last successful sync, in issue order. */
  #log: Op[] = [];

  /**
   * Wraps an inner handle.
   *
   * @param core The storage's shared state.
   * @param inner The inner handle.
   * @param gen The blob file it is open on.
   * @param size Its logical size at open.
   */
  constructor(core: Core, inner: Blob, gen: Generation, size: number) {
    this.#core = core;
    this.#inner = inner;
    this.gen = gen;
    this.#size = size;
    this.#where = { partition: gen.partition, blob: gen.hex };
  }

  /**
   * See {@linkcode Blob.readAt}; draws against `rates.read`.
   *
   * @param offset Logical offset.
   * @param length Bytes to read.
   * @returns The bytes.
   */
  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    checkRead(offset, length, this.#closed, this.#where);
    this.#maybeFail(this.#core.rates.read);
    return await this.#inner.readAt(offset, length);
  }

  /**
   * See {@linkcode Blob.readAtBuf}; draws against `rates.read`.
   *
   * @param offset Logical offset.
   * @param length Bytes to read.
   * @param target Where to read them.
   * @returns The bytes, in `target`.
   */
  async readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    checkReadBuf(offset, length, target, this.#closed, this.#where);
    this.#maybeFail(this.#core.rates.read);
    return await this.#inner.readAtBuf(offset, length, target);
  }

  /**
   * See {@linkcode Blob.writeAt}; draws against `rates.write`, then, for a
   * `{ sync: true }` write, `rates.sync`.
   *
   * @param offset Logical offset.
   * @param data The bytes.
   * @param options Whether to sync.
   */
  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const { chunks, length, sync } = checkWrite(offset, data, options, this.#closed, this.#where);
    const core = this.#core;
    if (core.rng.chance(core.rates.write)) {
      await this.#partialWrite(offset, chunks, length);
      throw this.#fault();
    }
    if (sync && core.rng.chance(core.rates.sync)) {
      await this.#write(offset, chunks, length, false);
      throw this.#fault();
    }
    await this.#write(offset, chunks, length, sync);
  }

  /**
   * See {@linkcode Blob.resize}; draws against `rates.resize`.
   *
   * @param length The new logical length.
   */
  async resize(length: number): Promise<void> {
    checkResize(length, this.#closed, this.#where);
    const core = this.#core;
    if (core.rng.chance(core.rates.resize)) {
      const old = this.#size;
      const gap = Math.abs(length - old);
      if (core.partialResizes && gap >= 2) {
        await this.#resize(Math.min(old, length) + 1 + core.rng.below(gap - 1));
      }
      throw this.#fault();
    }
    await this.#resize(length);
  }

  /** See {@linkcode Blob.sync}; draws against `rates.sync`. */
  async sync(): Promise<void> {
    checkSync(this.#closed, this.#where);
    this.#maybeFail(this.#core.rates.sync);
    // The inner blob syncs what it was issued so far: that is now durable.
    this.#log = [];
    await this.#inner.sync();
  }

  /** See {@linkcode Blob.close}: forgets what was not synced, as the inner blob does. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.kill();
    this.#core.handles.delete(this);
    await this.#inner.close();
  }

  /**
   * Closes the handle.
   *
   * @returns A promise that resolves once it is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Closes this handle (the inner one is the caller's business).
   *
   * @returns Its log.
   */
  kill(): Op[] {
    const log = this.#log;
    this.#closed = true;
    this.#log = [];
    return log;
  }

  /** Drops the log: the blob was removed. */
  forget(): void {
    this.#log = [];
  }

  #fault(): StorageError {
    return injected(this.gen.partition, this.gen.hex);
  }

  #maybeFail(rate: number): void {
    if (this.#core.rng.chance(rate)) throw this.#fault();
  }

  /** Issues one write to the inner blob and records it; resolves when the inner write does. */
  #write(offset: number, chunks: Uint8Array[], length: number, sync: boolean): Promise<void> {
    const options = sync ? SYNC : undefined;
    // `!`: chunks has exactly one element here.
    const data = chunks.length === 1 ? chunks[0]! : chunks;
    if (length === 0) return this.#inner.writeAt(offset, data, options);
    if (offset + length > this.#size) this.#size = offset + length;
    const op = this.#record(() => ({
      seq: 0,
      kind: "write",
      offset,
      data: concat(chunks, new Uint8Array(length)),
      durable: sync,
    }));
    return this.#settle(this.#inner.writeAt(offset, data, options), op);
  }

  #resize(length: number): Promise<void> {
    this.#size = length;
    const op = this.#record(() => ({ seq: 0, kind: "resize", length }));
    return this.#settle(this.#inner.resize(length), op);
  }

  /** What a failed write keeps, issued without sync (see `PartialWriteMode`). */
  #partialWrite(offset: number, chunks: Uint8Array[], length: number): Promise<void> {
    const core = this.#core;
    if (length === 0 || core.partialWrites === "none") return Promise.resolve();
    if (core.partialWrites === "prefix") {
      let k = core.rng.below(length);
      if (k === 0) return Promise.resolve();
      const kept: Uint8Array[] = [];
      for (const c of chunks) {
        if (k === 0) break;
        const part = c.length <= k ? c : c.subarray(0, k);
        kept.push(part);
        k -= part.length;
      }
      let n = 0;
      for (const c of kept) n += c.length;
      return this.#write(offset, kept, n, false);
    }
    // `!`: chunks has exactly one element here.
    const bytes = chunks.length === 1 ? chunks[0]! : concat(chunks, new Uint8Array(length));
    const keep = new Uint8Array(length);
    let bits = 0;
    for (let i = 0; i < length; i++) {
      if ((i & 31) === 0) bits = core.rng.nextUint32();
      keep[i] = (bits >>> (i & 31)) & 1;
    }
    const writes: Promise<void>[] = [];
    for (let i = 0; i < length;) {
      if (keep[i] === 0) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < length && keep[j] === 1) j++;
      writes.push(this.#write(offset + i, [bytes.subarray(i, j)], j - i, false));
      i = j;
    }
    return Promise.all(writes).then(noop);
  }

  #record(make: () => Op): Op | undefined {
    if (!this.#core.logging || this.gen.removed) return undefined;
    const op = make();
    op.seq = this.#core.seq++;
    this.#log.push(op);
    return op;
  }

  /** Forgets `op` if the inner call fails: then it did not happen. */
  #settle(p: Promise<void>, op: Op | undefined): Promise<void> {
    if (op === undefined) return p;
    return p.catch((err) => {
      const i = this.#log.indexOf(op);
      if (i >= 0) this.#log.splice(i, 1);
      throw err;
    });
  }
}
