/**
 * {@linkcode FileBlob}: the handle the filesystem engine returns, over one
 * {@linkcode FilePort}: the I/O model of every filesystem driver.
 *
 * - **Hot path.** Page-cached reads and writes are synchronous positional
 *   calls inside the returned promise: the fastest path each runtime has.
 * - **The event loop.** Each operation spends from a budget shared by every
 *   handle (`core/_turn.ts`); when it runs out (3 ms of synchronous work
 *   without a turn of the loop), the next operation first waits for one
 *   macrotask, so an awaited loop of operations never starves timers and I/O
 *   callbacks. Writes larger than {@linkcode WRITE_PIECE} go in pieces, each
 *   piece spending from the budget.
 * - **Cold reads.** With a {@linkcode ReadIo} that has a pool, a read of data
 *   not in the page cache goes off the loop (the runtime's asynchronous file
 *   calls, `fs/_async_reads.ts`), so it neither blocks the loop nor waits for
 *   other callers' reads: concurrent callers get the
 *   disk's queue depth. How a miss is known: by timing reads (one in
 *   {@linkcode SAMPLE_EVERY}, and every large one): two reads in a row far
 *   slower than a page-cache copy send the handle's next reads to the pool, with a
 *   synchronous probe every {@linkcode PROBE_MS} to find out when the data is
 *   hot again. (`preadv2(RWF_NOWAIT)` through FFI would know a miss exactly,
 *   but measured here it made page-cached reads slower on both Deno and Bun:
 *   bench/RESULTS.md.)
 * - **Consistency.** Operations that span an `await` hold their byte range
 *   (`fs/_range_gate.ts`), a read its whole range from the call until its
 *   last chunk is in: a read sees the blob as it was when it was called, never
 *   part of a later write, also when it runs off the loop in several chunks;
 *   `sync` covers every earlier write; `close` waits for every operation
 *   called before it, and none of them is cut short.
 *
 * @module
 */

import {
  checkRead,
  checkReadBuf,
  checkResize,
  checkSync,
  checkWrite,
  insufficientLength,
} from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import { IoBufMut } from "../core/io_buf_mut.ts";
import { IoBufsMut } from "../core/io_bufs_mut.ts";
import { spendTurn } from "../core/_turn.ts";
import { adopt, takeMemory } from "../core/_memory_pool.ts";
import type { Blob, ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { type Hold, RangeGate } from "./_range_gate.ts";
import { bounceOffset, readBounced, writeBounced, writeCoalesced } from "./_copy_align.ts";
import type { FilePort, ReadOffload } from "./port.ts";

/** Chunks of a vectored write smaller than this (on average) are copied into one buffer. */
const COALESCE_BELOW = 4 * 1024;
/** Most buffers handed to one `pwritev` (IOV_MAX is 1024 on Linux). */
const WRITEV_BATCH = 1024;
/**
 * Writes larger than this go in pieces: each piece is one short blocking call
 * (a few milliseconds into new pages) and spends from the event-loop budget.
 * Also keeps every port call far below the 2 GiB that `node:fs` refuses.
 */
const WRITE_PIECE = 1 << 20;
/** While a handle's reads go to the pool, one read in this many milliseconds probes synchronously. */
const PROBE_MS = 5;
/**
 * Timing mode times one hot read in this many (and every read of
 * {@linkcode SAMPLE_FROM} bytes or more): a clock read costs up to 150 ns on
 * Deno, a tenth of a page-cached 4 KiB read.
 */
const SAMPLE_EVERY = 32;
const SAMPLE_FROM = 64 * 1024;

/** How a storage's handles read data that is not in the page cache. */
export interface ReadIo {
  /** Reads off the loop for cold data; without it, every read is synchronous. */
  pool?: ReadOffload;
}

/**
 * The most bytes one port `read` or `write` call moves. Deno's `node:fs` sees
 * a length over 2 GiB as a negative int32 and Bun refuses single writes over
 * 2 GiB, so every call stays at or below 1 GiB whatever the caller asks for.
 */
export const MAX_IO = 1 << 30;

/**
 * Reads until `buf` is full or the file ends; returns the count read. Each
 * port call asks for at most `maxIo` bytes ({@linkcode MAX_IO}; a parameter
 * only so that tests can check the splitting without gigabyte buffers).
 */
export function readInto(
  file: FilePort,
  buf: Uint8Array,
  position: number,
  maxIo: number = MAX_IO,
): number {
  let done = 0;
  while (done < buf.length) {
    const end = Math.min(buf.length, done + maxIo);
    const n = file.read(
      done === 0 && end === buf.length ? buf : buf.subarray(done, end),
      position + done,
    );
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Writes all of `buf`, retrying short writes; `progress` learns each count
 * written. Each port call gets at most `maxIo` bytes ({@linkcode MAX_IO}).
 */
export function writeFully(
  file: FilePort,
  buf: Uint8Array,
  position: number,
  progress?: (n: number) => void,
  maxIo: number = MAX_IO,
): void {
  let done = 0;
  while (done < buf.length) {
    const end = Math.min(buf.length, done + maxIo);
    const n = file.write(
      done === 0 && end === buf.length ? buf : buf.subarray(done, end),
      position + done,
    );
    if (n <= 0) throw new Error(`write made no progress at position ${position + done}`);
    done += n;
    progress?.(n);
  }
}

/**
 * Writes all of `chunks` in order with `pwritev`, in batches, retrying short
 * writes. A batch stops at {@linkcode MAX_IO} bytes (callers pass runs of at
 * most {@linkcode WRITE_PIECE}, so this only guards), and a single chunk
 * larger than that goes through {@linkcode writeFully}.
 */
export function writevFully(
  file: FilePort & Required<Pick<FilePort, "writev">>,
  chunks: Uint8Array[],
  position: number,
  progress: (n: number) => void,
  maxIo: number = MAX_IO,
): void {
  let i = 0;
  while (i < chunks.length) {
    if (chunks[i]!.length > maxIo) {
      // One chunk over the limit: written alone, in pieces.
      writeFully(file, chunks[i]!, position, progress, maxIo);
      position += chunks[i++]!.length;
      continue;
    }
    const batch: Uint8Array[] = [];
    let bytes = 0;
    for (let j = i; j < chunks.length && batch.length < WRITEV_BATCH; j++) {
      if (bytes + chunks[j]!.length > maxIo) break;
      batch.push(chunks[j]!);
      bytes += chunks[j]!.length;
    }
    let n = file.writev(batch, position);
    if (n <= 0) throw new Error(`pwritev made no progress at position ${position}`);
    position += n;
    progress(n);
    // Skip what was written (and empty chunks); a chunk written in part goes on
    // from where it stopped. `chunks[i]!`: n bytes were written from chunk i on.
    while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length;
    if (n > 0) chunks[i] = chunks[i]!.subarray(n);
  }
}

/**
 * Bun's `Buffer.concat` is native: it joins 1024 chunks of 64 B in about half
 * the time of as many `set` calls (12 against 22 µs), new memory included.
 */
const nativeConcat = (globalThis as { Bun?: unknown }).Bun === undefined
  ? undefined
  : (globalThis as { Buffer?: { concat(list: Uint8Array[], length: number): Uint8Array } })
    .Buffer?.concat;

/** Writes one buffer, through the scratch memory when its address is at a slow distance. */
function writeChunk(
  file: FilePort,
  chunk: Uint8Array,
  position: number,
  grow: (n: number) => void,
): void {
  const at = bounceOffset(chunk, position, true);
  if (at < 0) writeFully(file, chunk, position, grow);
  else writeBounced(chunk, position, at, (b, p) => writeFully(file, b, p, grow));
}

/** Splits `chunks` (of `length` bytes in all) into runs of at most `WRITE_PIECE` bytes. */
function* pieces(chunks: Uint8Array[], length: number): Generator<[Uint8Array[], number]> {
  if (length <= WRITE_PIECE) {
    yield [chunks, length];
    return;
  }
  let run: Uint8Array[] = [];
  let size = 0;
  for (let chunk of chunks) {
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, WRITE_PIECE - size);
      run.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      size += take;
      chunk = chunk.subarray(take);
      if (size === WRITE_PIECE) {
        yield [run, size];
        run = [];
        size = 0;
      }
    }
  }
  if (size > 0) yield [run, size];
}

const noop = (): void => {};

/** A handle on one blob file; see the module docs. */
export class FileBlob implements Blob {
  readonly #file: FilePort;
  readonly #alloc: (length: number) => Uint8Array<ArrayBuffer>;
  readonly #pool: ReadOffload | undefined;
  /** What every error of this handle carries, built once. */
  readonly #where: { readonly partition: string; readonly blob: string };
  /** File byte of logical offset 0: 8 (V0) or 4096 (V1), by the blob's own header. */
  readonly #offset: number;
  readonly #gate = new RangeGate();
  /** Physical size (header included), as this handle has made it. */
  #size: number;
  #closed = false;
  /** Operations that span an `await` and have not ended yet: `close` waits for them. */
  #pending = 0;
  /** Resolves the waiting `close` once nothing is in flight. */
  #idle: (() => void) | undefined;
  /** The first `close`. */
  #closing: Promise<void> | undefined;
  /** Timing mode: reads go to the pool until this time (ms); 0 while reads are hot. */
  #coldUntil = 0;
  /** Timing mode: hot reads left before the next timed one. */
  #untilSample = 0;
  /** Timing mode: the last timed read was slow. */
  #suspect = false;

  constructor(
    file: FilePort,
    size: number,
    dataOffset: number,
    partition: string,
    hex: string,
    alloc: (length: number) => Uint8Array<ArrayBuffer> = (length) => new Uint8Array(length),
    io: ReadIo = {},
  ) {
    this.#alloc = alloc;
    this.#file = file;
    this.#offset = dataOffset;
    this.#size = size;
    this.#where = { partition, blob: hex };
    this.#pool = file.fd === undefined ? undefined : io.pool;
  }

  // The public methods are not `async`: the common case (budget left, nothing
  // held, data cached, one piece) runs straight through and returns a settled
  // promise, and everything else goes to an `async` slow path. Await points in
  // the hot function cost Bun a fifth of a page-cached 4 KiB read.

  async readAt(offset: number, length: number): Promise<IoBufsMut> {
    checkRead(offset, length, this.#closed, this.#where, this.#offset);
    if (length === 0) return new IoBufsMut(new IoBufMut(this.#alloc(0)));
    this.#inBounds(offset, length); // before allocating `length` bytes
    const position = offset + this.#offset;
    const turn = spendTurn(length);
    if (turn !== undefined || !this.#gate.idle) {
      return this.#readAtSlow(offset, length, position, turn);
    }
    const buf = takeMemory(length) ?? this.#alloc(length);
    const done = this.#readHot(buf, position);
    if (done < length) return this.#readAtCold(buf, position, done);
    return adopt(new IoBufsMut(new IoBufMut(buf)), buf);
  }

  /**
   * A read that must wait (for the loop to turn, or for writes issued before
   * it): holds its whole range from the call on, so that writes issued after
   * it wait for it, then waits its turn and for the earlier writes.
   */
  async #readAtSlow(
    offset: number,
    length: number,
    position: number,
    turn: Promise<void> | undefined,
  ): Promise<IoBufsMut> {
    const hold = this.#holdRead(position, position + length);
    try {
      await this.#readyToRead(offset, length, position, hold, turn);
      const buf = takeMemory(length) ?? this.#alloc(length);
      const done = this.#readHot(buf, position);
      const bytes = done < length ? await this.#readCold(buf, position, done) : buf;
      return adopt(new IoBufsMut(new IoBufMut(bytes)), bytes);
    } finally {
      this.#release(hold);
    }
  }

  /** Waits for `turn`, then for the conflicting writes held before `hold`. */
  async #readyToRead(
    offset: number,
    length: number,
    position: number,
    hold: Hold,
    turn: Promise<void> | undefined,
  ): Promise<void> {
    if (turn !== undefined) await turn;
    if (this.#gate.conflicts(position, position + length, false)) {
      await this.#gate.settle(position, position + length, false, hold);
      this.#inBounds(offset, length); // a resize issued before may have shrunk the blob
    }
  }

  /** The rest of a read the page cache did not have, holding its range to the end. */
  async #readAtCold(
    buf: Uint8Array<ArrayBuffer>,
    position: number,
    done: number,
  ): Promise<IoBufsMut> {
    const hold = this.#holdRead(position, position + buf.length);
    try {
      const bytes = await this.#readCold(buf, position, done);
      return adopt(new IoBufsMut(new IoBufMut(bytes)), bytes);
    } finally {
      this.#release(hold);
    }
  }

  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    try {
      const bufs = checkReadBuf(offset, length, target, this.#closed, this.#where, this.#offset);
      if (length === 0) return Promise.resolve(bufs);
      this.#inBounds(offset, length);
      let position = offset + this.#offset;
      const end = position + length;
      const turn = spendTurn(length);
      if (turn !== undefined || !this.#gate.idle) {
        return this.#readAtBufSlow(offset, length, position, bufs, turn);
      }
      // Synchronously as far as the page cache goes; the first miss goes on asynchronously.
      const chunks = bufs.buffers();
      for (let i = 0; i < chunks.length; i++) {
        const view = chunks[i]!.bytes(); // i < length
        if (view.length === 0) break; // chunks after the first short one receive nothing
        const done = this.#readHot(view, position);
        if (done < view.length) return this.#fillCold(bufs, i, done, position, end);
        position += view.length;
      }
      return Promise.resolve(bufs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@linkcode FileBlob.readAtBuf} when it must wait; see {@linkcode FileBlob.#readAtSlow}. */
  async #readAtBufSlow(
    offset: number,
    length: number,
    position: number,
    bufs: IoBufsMut,
    turn: Promise<void> | undefined,
  ): Promise<IoBufsMut> {
    const hold = this.#holdRead(position, position + length);
    try {
      await this.#readyToRead(offset, length, position, hold, turn);
      await this.#fill(bufs, 0, -1, position);
      return bufs;
    } finally {
      this.#release(hold);
    }
  }

  /**
   * Goes on filling `bufs` from chunk `i` (of which `done` bytes are in) at
   * `position`, holding the rest of the read, up to `end`, until the last
   * chunk is in: a write issued after the read waits for all of it, so no
   * chunk can see it (each chunk holding only its own range let a write land
   * between two chunks).
   */
  async #fillCold(
    bufs: IoBufsMut,
    i: number,
    done: number,
    position: number,
    end: number,
  ): Promise<IoBufsMut> {
    const hold = this.#holdRead(position, end);
    try {
      await this.#fill(bufs, i, done, position);
      return bufs;
    } finally {
      this.#release(hold);
    }
  }

  /**
   * Fills the chunks of `bufs` from `i` on, from `position`, each from the
   * page cache or off the loop; `done`: the bytes chunk `i` already has (-1:
   * not tried yet). The caller holds the range.
   */
  async #fill(bufs: IoBufsMut, i: number, done: number, position: number): Promise<void> {
    const chunks = bufs.buffers();
    for (; i < chunks.length; i++) {
      const view = chunks[i]!.bytes(); // i < chunks.length
      if (view.length === 0) break;
      if (done < 0) done = this.#readHot(view, position);
      if (done < view.length) {
        view.set(
          await this.#readCold(new Uint8Array(view.length - done), position + done, 0),
          done,
        );
      }
      position += view.length;
      done = -1;
    }
  }

  writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    try {
      const { chunks, length, sync } = checkWrite(
        offset,
        data,
        options,
        this.#closed,
        this.#where,
        this.#offset,
      );
      if (length === 0) return Promise.resolve();
      const start = offset + this.#offset;
      const turn = spendTurn(length);
      if (turn !== undefined || length > WRITE_PIECE || !this.#gate.idle) {
        return this.#writeAtSlow(chunks, length, start, sync, turn);
      }
      this.#writeRun(chunks, length, start);
      return sync ? this.#datasync() : Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #writeAtSlow(
    chunks: Uint8Array[],
    length: number,
    start: number,
    sync: boolean,
    turn: Promise<void> | undefined,
  ): Promise<void> {
    const end = start + length;
    let hold: Hold | undefined;
    if (turn !== undefined || (!this.#gate.idle && this.#gate.conflicts(start, end, true))) {
      hold = this.#gate.hold(start, end, true);
    }
    this.#pending++;
    try {
      let position = start;
      for (const [run, size] of pieces(chunks, length)) {
        if (turn !== undefined) await turn;
        if (hold !== undefined) await this.#gate.settle(start, end, true, hold);
        this.#writeRun(run, size, position);
        position += size;
        turn = position < end ? spendTurn(WRITE_PIECE) : undefined;
        if (turn !== undefined && hold === undefined) hold = this.#gate.hold(start, end, true);
      }
      hold?.release();
      hold = undefined;
      if (sync) await this.#datasync();
    } finally {
      this.#release(hold);
    }
  }

  async resize(length: number): Promise<void> {
    checkResize(length, this.#closed, this.#where, this.#offset);
    const physical = length + this.#offset;
    const from = Math.min(physical, this.#size);
    if (!this.#gate.idle && this.#gate.conflicts(from, Infinity, true)) {
      const hold = this.#gate.hold(from, Infinity, true);
      this.#pending++;
      try {
        await this.#gate.settle(from, Infinity, true, hold);
        this.#truncate(physical);
      } finally {
        this.#release(hold);
      }
    } else this.#truncate(physical);
  }

  async sync(): Promise<void> {
    checkSync(this.#closed, this.#where);
    this.#pending++;
    try {
      if (!this.#gate.idle) await this.#gate.settle(0, Infinity, false); // earlier writes
      await this.#datasync();
    } finally {
      this.#release(undefined);
    }
  }

  /**
   * Waits for every operation issued before it (they complete or fail on
   * their own: none is cut short), then closes the file; later calls reject
   * with `Closed`, and a second close only waits for the first.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.then(noop, noop);
    this.#closed = true;
    return this.#closing = this.#closeFile();
  }

  async #closeFile(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((resolve) => this.#idle = resolve);
    this.#file.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Holds `[start, end)` for a read that spans an `await`, counted as in flight until released. */
  #holdRead(start: number, end: number): Hold {
    this.#pending++;
    return this.#gate.hold(start, end, false);
  }

  /** Ends an operation in flight (releasing its hold): the last one lets a waiting `close` go on. */
  #release(hold: Hold | undefined): void {
    hold?.release();
    if (--this.#pending === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  /** The file ended before the size this handle knows (changed behind its back). */
  #shortRead(position: number, got: number, wanted: number): StorageError {
    return new StorageError("BlobInsufficientLength", {
      ...this.#where,
      reason: `the file ended after ${got} of ${wanted} bytes at file position ${position}`,
    });
  }

  #inBounds(offset: number, length: number): void {
    if (offset + this.#offset + length > this.#size) {
      throw insufficientLength(this.#where, offset, length, this.#size - this.#offset);
    }
  }

  #truncate(physical: number): void {
    try {
      this.#file.truncate(physical);
    } catch (cause) {
      throw this.#error("BlobResizeFailed", cause);
    }
    this.#size = physical;
  }

  /** Writes one run of chunks at `position`; the handle learns every byte that reached the file. */
  #writeRun(run: Uint8Array[], size: number, position: number): void {
    const file = this.#file;
    let end = position;
    const grow = (n: number) => {
      end += n;
      if (end > this.#size) this.#size = end;
    };
    try {
      if (run.length === 1) writeChunk(file, run[0]!, position, grow);
      else if (file.writev !== undefined && size / run.length >= COALESCE_BELOW) {
        writevFully(file as Required<FilePort>, run, position, grow);
      } else if (nativeConcat !== undefined) {
        writeChunk(file, nativeConcat(run, size), position, grow);
      } else {
        writeCoalesced(run, size, position, (joined) => writeFully(file, joined, position, grow));
      }
    } catch (cause) {
      // A failed call may still have grown the file (a full disk can leave an
      // allocated tail): the handle takes the file's size, so it and a reopen agree.
      try {
        const actual = file.size();
        if (actual > this.#size) this.#size = actual;
      } catch {
        // the size is unknowable; keep what the progress reported
      }
      throw this.#error("WriteFailed", cause);
    }
  }

  /**
   * Reads what the page cache has of `[position, position + buf.length)`
   * into `buf` without waiting for the disk, when a pool can take the rest;
   * returns the count read. Without a pool, reads synchronously.
   */
  #readHot(buf: Uint8Array, position: number): number {
    const pool = this.#pool;
    if (pool === undefined) return this.#readSync(buf, position);
    if (this.#coldUntil !== 0) {
      const now = performance.now();
      return now < this.#coldUntil ? 0 : this.#timedRead(buf, position, now); // a probe
    }
    // Hot: time one read in SAMPLE_EVERY (every large one), so the clock costs little.
    if (--this.#untilSample > 0 && buf.length < SAMPLE_FROM) return this.#readSync(buf, position);
    this.#untilSample = SAMPLE_EVERY;
    return this.#timedRead(buf, position, performance.now());
  }

  /**
   * Reads synchronously, and from how long it took, whether the next reads go
   * to the pool: two slow reads in a row (one can be a preemption or a page
   * fault, which should not send a hot handle off the loop).
   */
  #timedRead(buf: Uint8Array, position: number, start: number): number {
    const n = this.#readSync(buf, position);
    const took = performance.now() - start;
    // A page-cache copy moves well over 1 GB/s; far slower means the disk answered.
    if (took > 0.05 + buf.length * 1e-6) {
      if (this.#suspect) this.#coldUntil = start + took + PROBE_MS;
      else this.#untilSample = 1; // time the next read too
      this.#suspect = true;
    } else {
      this.#suspect = false;
      this.#coldUntil = 0;
    }
    return n;
  }

  /**
   * Reads all of `buf` synchronously, through the scratch memory when its
   * address is at a slow distance from `position` (`fs/_copy_align.ts`).
   */
  #readSync(buf: Uint8Array, position: number): number {
    let n: number;
    try {
      const at = bounceOffset(buf, position, false);
      n = at < 0 ? readInto(this.#file, buf, position) : readBounced(this.#file, buf, position, at);
    } catch (cause) {
      throw this.#error("ReadFailed", cause);
    }
    if (n < buf.length) throw this.#shortRead(position, n, buf.length);
    return n;
  }

  /**
   * Reads the rest of `buf` (from `done`) on the pool; returns the filled
   * buffer (the pool may hand back other memory than `buf`'s when `done` is
   * 0). The caller holds the range, so no write lands in it meanwhile.
   */
  async #readCold(
    buf: Uint8Array<ArrayBuffer>,
    position: number,
    done: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const pool = this.#pool;
    if (pool === undefined) return buf; // unreachable: #readHot read everything
    const own = done === 0 && buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
    const memory = own ? buf.buffer : new ArrayBuffer(buf.length - done);
    let result;
    try {
      result = await pool.read(this.#file.fd!, this.#file.path ?? "", memory, position + done);
    } catch (cause) {
      throw this.#error("ReadFailed", cause);
    }
    if (result.done < 0) {
      // The worker could not reach this very file: read it here.
      const rest = new Uint8Array(result.buffer);
      this.#readSync(rest, position + done);
      if (own) return rest;
      buf.set(rest, done);
      return buf;
    }
    if (done + result.done < buf.length) {
      throw this.#shortRead(position, done + result.done, buf.length);
    }
    if (own) return new Uint8Array(result.buffer);
    buf.set(new Uint8Array(result.buffer), done);
    return buf;
  }

  async #datasync(): Promise<void> {
    this.#pending++;
    try {
      await this.#file.datasync();
    } catch (cause) {
      throw this.#error("BlobSyncFailed", cause);
    } finally {
      this.#release(undefined);
    }
  }

  #error(
    code: "ReadFailed" | "WriteFailed" | "BlobResizeFailed" | "BlobSyncFailed",
    cause: unknown,
  ) {
    return new StorageError(code, { ...this.#where, cause });
  }
}
