/**
 * {@linkcode FileBlob}: the handle the filesystem engine returns, over one
 * {@linkcode FilePort}, and the loops that read and write whole buffers.
 *
 * @module
 */

import { checkRead, checkReadBuf, checkResize, checkSync, checkWrite } from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import { IoBufMut } from "../core/io_buf_mut.ts";
import { IoBufsMut } from "../core/io_bufs_mut.ts";
import { concat } from "../core/_view.ts";
import type { Blob, ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import type { FilePort } from "./port.ts";

/** Chunks of a vectored write smaller than this (on average) are copied into one buffer. */
const COALESCE_BELOW = 16 * 1024;
/** Most buffers handed to one `pwritev` (IOV_MAX is 1024 on Linux). */
const WRITEV_BATCH = 1024;

/** Reads until `buf` is full or the file ends; returns the count read. */
export function readInto(file: FilePort, buf: Uint8Array, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = file.read(done === 0 ? buf : buf.subarray(done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buf`, retrying short writes. */
export function writeFully(file: FilePort, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = file.write(done === 0 ? buf : buf.subarray(done), position + done);
    if (n <= 0) throw new Error(`write made no progress at position ${position + done}`);
    done += n;
  }
}

/** Writes all of `chunks` in order with `pwritev`, in batches, retrying short writes. */
function writevFully(
  file: FilePort & Required<Pick<FilePort, "writev">>,
  chunks: Uint8Array[],
  position: number,
): void {
  let i = 0;
  while (i < chunks.length) {
    const batch = chunks.slice(i, i + WRITEV_BATCH);
    let n = file.writev(batch, position);
    if (n <= 0) throw new Error(`pwritev made no progress at position ${position}`);
    position += n;
    // Skip what was written; a chunk written in part goes on from where it stopped.
    // `chunks[i]!`: n > 0 bytes were written from chunks i.., so chunk i exists.
    while (n > 0 && n >= chunks[i]!.length) n -= chunks[i++]!.length;
    if (n > 0) {
      chunks[i] = chunks[i]!.subarray(n);
    }
  }
}

/**
 * Scratch memory for coalescing vectored writes, reused across calls: the
 * copy and the write that follows are synchronous, so one buffer serves every
 * handle. Writes larger than `SCRATCH_MAX` get their own buffer.
 */
let scratch = new Uint8Array(0);
const SCRATCH_MAX = 1 << 20;

function coalesce(chunks: Uint8Array[], length: number): Uint8Array {
  if (length > SCRATCH_MAX) return concat(chunks, new Uint8Array(length));
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 64 * 1024));
  return concat(chunks, scratch.subarray(0, length));
}

/** A handle on one blob file. */
export class FileBlob implements Blob {
  readonly #file: FilePort;
  readonly #alloc: (length: number) => Uint8Array<ArrayBuffer>;
  /** What every error of this handle carries, built once. */
  readonly #where: { readonly partition: string; readonly blob: string };
  /** File byte of logical offset 0: 8 (V0) or 4096 (V1), by the blob's own header. */
  readonly #offset: number;
  /** Physical size (header included), as this handle has made it. */
  #size: number;
  #closed = false;
  #syncing = 0;
  #drained: (() => void) | undefined;

  constructor(
    file: FilePort,
    size: number,
    dataOffset: number,
    partition: string,
    hex: string,
    alloc: (length: number) => Uint8Array<ArrayBuffer> = (length) => new Uint8Array(length),
  ) {
    this.#alloc = alloc;
    this.#file = file;
    this.#offset = dataOffset;
    this.#size = size;
    this.#where = { partition, blob: hex };
  }

  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    checkRead(offset, length, this.#closed, this.#where, this.#offset);
    if (length > 0) this.#inBounds(offset, length); // before allocating `length` bytes
    const buf = this.#alloc(length);
    if (length > 0) this.#read(buf, offset);
    return new IoBufsMut(new IoBufMut(buf));
  }

  async readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    const bufs = checkReadBuf(offset, length, target, this.#closed, this.#where, this.#offset);
    if (length === 0) return bufs;
    this.#inBounds(offset, length);
    const chunks = bufs.buffers();
    for (let i = 0; i < chunks.length; i++) {
      const view = chunks[i]!.bytes(); // i < length
      if (view.length === 0) break; // chunks after the first short one receive nothing
      this.#read(view, offset);
      offset += view.length;
    }
    return bufs;
  }

  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const { chunks, length, sync } = checkWrite(
      offset,
      data,
      options,
      this.#closed,
      this.#where,
      this.#offset,
    );
    if (length === 0) return;
    const position = offset + this.#offset;
    const file = this.#file;
    try {
      if (chunks.length === 1) writeFully(file, chunks[0]!, position); // length checked
      else if (file.writev !== undefined && length / chunks.length >= COALESCE_BELOW) {
        writevFully(file as Required<FilePort>, chunks, position);
      } else writeFully(file, coalesce(chunks, length), position);
    } catch (cause) {
      throw this.#error("WriteFailed", cause);
    }
    if (position + length > this.#size) this.#size = position + length;
    if (sync) await this.#datasync();
  }

  async resize(length: number): Promise<void> {
    checkResize(length, this.#closed, this.#where, this.#offset);
    try {
      this.#file.truncate(length + this.#offset);
    } catch (cause) {
      throw this.#error("BlobResizeFailed", cause);
    }
    this.#size = length + this.#offset;
  }

  async sync(): Promise<void> {
    checkSync(this.#closed, this.#where);
    await this.#datasync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#syncing > 0) await new Promise<void>((resolve) => this.#drained = resolve);
    this.#file.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #inBounds(offset: number, length: number): void {
    if (offset + this.#offset + length > this.#size) {
      throw new StorageError("BlobInsufficientLength", this.#where);
    }
  }

  /** Fills `buf` from logical `offset` (already checked in bounds), or throws the reason. */
  #read(buf: Uint8Array, offset: number): void {
    const position = offset + this.#offset;
    let n: number;
    try {
      n = readInto(this.#file, buf, position);
    } catch (cause) {
      throw this.#error("ReadFailed", cause);
    }
    if (n < buf.length) throw new StorageError("BlobInsufficientLength", this.#where);
  }

  async #datasync(): Promise<void> {
    this.#syncing++;
    try {
      await this.#file.datasync();
    } catch (cause) {
      throw this.#error("BlobSyncFailed", cause);
    } finally {
      if (--this.#syncing === 0) this.#drained?.();
    }
  }

  #error(
    code: "ReadFailed" | "WriteFailed" | "BlobResizeFailed" | "BlobSyncFailed",
    cause: unknown,
  ) {
    return new StorageError(code, { ...this.#where, cause });
  }
}
