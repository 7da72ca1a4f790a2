/**
 * {@linkcode AuditedStorage}: a wrapper that folds every operation on any
 * {@linkcode Storage} into an {@linkcode Auditor}'s SHA-256 chain, so two runs
 * of a deterministic program can be compared by one digest.
 *
 * ## The chain
 *
 * ```text
 * state_0     = 32 zero bytes        (state() = "0000…0000", 64 hex digits)
 * state_{n+1} = SHA-256(state_n || record_n)
 * ```
 *
 * {@linkcode Auditor.state} returns the lowercase hex of the current state.
 *
 * ## Records
 *
 * A record is a sequence of *fields*. A field is its byte length as a u64
 * big-endian, then its bytes; a number (an offset, a length, a version, a flag)
 * is the field of its 8-byte big-endian u64 encoding:
 *
 * ```text
 * field(b) = u64be(len(b)) || b
 * num(n)   = field(u64be(n))          = 00 00 00 00 00 00 00 08 || u64be(n)
 * label    = field(ASCII bytes of the operation's name)
 * P        = field(partition)          the partition's UTF-8 bytes (see below)
 * N        = field(name)               the blob name's bytes, as the storage sees them
 *
 * open       label("open")      P N num(versions.min) num(versions.max)
 * remove     label("remove")    P num(0)                 remove(partition)
 *            label("remove")    P num(1) N               remove(partition, name)
 * scan       label("scan")      P
 * readAt     label("readAt")    P N num(offset) num(length)
 * readAtBuf  label("readAtBuf") P N num(offset) num(length)
 * writeAt    label("writeAt")   P N num(offset) num(sync ? 1 : 0) field(data)
 * resize     label("resize")    P N num(length)
 * sync       label("sync")      P N
 * ```
 *
 * - Blob operations carry the partition and name the blob was opened with (not
 *   a handle identity: two handles on one blob record alike).
 * - A name is recorded as its bytes: `"ab"` and `Uint8Array [0x61, 0x62]` name
 *   the same blob and record the same. `open` records the effective version
 *   range (`{ min: 0, max: 0 }` when none is given); `writeAt` records `sync` as
 *   1 only for `{ sync: true }`. `readAtBuf` records the offset and length, not
 *   the target's layout.
 * - `field(data)` is the total length of the written bytes, then every chunk in
 *   order, fed to the hash one by one without copying: `[ab, c]`, `[a, bc]`,
 *   `abc`, and their `IoBuf`/`IoBufs` forms record the same. Empty chunks add
 *   nothing; an empty write is still recorded.
 * - A partition is a string; it is recorded as its UTF-8 bytes (valid names are
 *   ASCII). A string with a lone surrogate, which is never a valid name, is
 *   encoded as WTF-8 (the surrogate as a 3-byte sequence), so that every string
 *   has its own encoding.
 *
 * Every record starts with its label and each label fixes the fields that
 * follow (for `remove`, the flag says whether a name follows), and every field
 * carries its length, so a sequence of records parses back in exactly one way:
 * two different operation sequences never give the same bytes. `close` (and
 * `Symbol.asyncDispose`) is not recorded.
 *
 * ## The hash
 *
 * A record is folded synchronously, before its operation runs, so the hash
 * must be synchronous: `node:crypto`'s SHA-256 where the runtime has it (Deno,
 * Bun, Node; found through `process.getBuiltinModule`, so the module imports
 * no `node:*` and bundles for browsers), else a small JavaScript SHA-256
 * (browsers, whose WebCrypto digest is asynchronous). Both give the same
 * states. In headless Chromium the JavaScript one hashes 64-byte records about
 * twice as fast as an awaited WebCrypto digest and 4 KiB ones about a quarter
 * as fast (~115 MB/s).
 *
 * ## When a record is made
 *
 * - Synchronously when the method is called, before the inner storage runs, so
 *   the state follows call order, not completion order.
 * - An operation is recorded whether or not it then fails: `Closed`,
 *   `OffsetOverflow`, `PartitionNameInvalid`, `BlobInsufficientLength`,
 *   `PartitionMissing`, … are all recorded.
 * - Not recorded: calls whose arguments fail the shared type and range checks
 *   of `core/args.ts`, `core/names.ts` and `core/header.ts` (an empty,
 *   non-bytes or ill-formed name, or one over 127 bytes, a bad version range, a non-string partition, a negative or
 *   fractional offset or length, data or a read target of the wrong type, a
 *   non-boolean `sync`). Every driver runs those checks first, so the wrapper
 *   runs them itself before recording and throws the very `TypeError` or
 *   `RangeError` the inner storage would. A `readAtBuf` whose target is too
 *   small *is* recorded: that check comes after `Closed`, which only the inner
 *   storage knows, so the inner storage makes it. (One more call goes
 *   unrecorded: a write whose chunks alone add up past
 *   `Number.MAX_SAFE_INTEGER - 8` bytes, possible only by repeating one buffer
 *   millions of times; its bytes cannot be hashed in any useful time, so it is
 *   passed on for the inner storage to reject.)
 *
 * @example Same operations, same state
 * ```ts
 * import { AuditedStorage, Auditor } from "@blobrt/storage/audited";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * async function run(): Promise<string> {
 *   const auditor = new Auditor();
 *   const storage = new AuditedStorage(new MemoryStorage(), auditor);
 *   await using opened = await storage.open("journal", "0");
 *   await opened.blob.writeAt(0, new TextEncoder().encode("entry"), { sync: true });
 *   await assert.rejects(opened.blob.readAt(4, 2), { code: "BlobInsufficientLength" });
 *   return auditor.state();
 * }
 * const first = await run();
 * assert.equal(first, await run());
 * assert.notEqual(first, new Auditor().state());
 * ```
 *
 * @module
 */

import { createSha256 } from "../core/_sha256.ts";
import { checkIndex, checkReadBuf, checkStorage, checkWrite } from "../core/args.ts";
import { isStorageError } from "../core/errors.ts";
import { checkVersionRange } from "../core/header.ts";
import { concat } from "../core/_view.ts";
import { IoBufMut } from "../core/io_buf_mut.ts";
import { IoBufsMut } from "../core/io_bufs_mut.ts";
import { blobNameBytes, toHex, validatePartitionName } from "../core/names.ts";
import type { Blob, BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import type { ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { DEFAULT_BLOB_VERSION } from "../core/types.ts";
import { openedBlob } from "../core/opened.ts";
import { closeInner } from "../core/_close.ts";

/** Bytes of the chain state (a SHA-256 digest). */
const STATE_SIZE = 32;
/** Bytes of a length prefix. */
const LEN = 8;
/** Bytes of a number field: its length prefix (8), then the u64. */
const NUM = 16;

const DEFAULT_VERSIONS = { min: DEFAULT_BLOB_VERSION, max: DEFAULT_BLOB_VERSION };

/** Writes `n` (a safe integer) as a u64 big-endian at `at`. */
function putU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

/** `field(bytes)`: the u64 big-endian length, then the bytes (one copy). */
function field(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(LEN + bytes.length);
  putU64(new DataView(out.buffer), 0, bytes.length);
  out.set(bytes, LEN);
  return out;
}

/** UTF-8, extended to lone surrogates (WTF-8), so that distinct strings stay distinct. */
function wtf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    } else {
      out.push(
        0xf0 | (c >> 18),
        0x80 | ((c >> 12) & 0x3f),
        0x80 | ((c >> 6) & 0x3f),
        0x80 | (c & 0x3f),
      );
    }
  }
  return new Uint8Array(out);
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const OPEN = field(ascii("open"));
const REMOVE = field(ascii("remove"));
const SCAN = field(ascii("scan"));
const READ_AT = field(ascii("readAt"));
const READ_AT_BUF = field(ascii("readAtBuf"));
const WRITE_AT = field(ascii("writeAt"));
const RESIZE = field(ascii("resize"));
const SYNC = field(ascii("sync"));

/** Bytes of the scratch buffer that record heads are built in. */
const SCRATCH_SIZE = 1024;

/**
 * The head of the record being built: room for the state, then the label, then
 * encoded fields, then number fields and bare length prefixes appended with
 * {@linkcode Head.num} and {@linkcode Head.len}. There is one, and it reuses one
 * scratch buffer: a record is built and folded synchronously, so no two
 * records are ever built at once, and a small `Uint8Array` costs more to
 * allocate than the copy into scratch.
 */
class Head {
  #scratch = new Uint8Array(SCRATCH_SIZE);
  #scratchView = new DataView(this.#scratch.buffer);
  #bytes = this.#scratch;
  #view = this.#scratchView;
  #at = 0;

  /** Starts a record with `label` and `fields`, with room for `nums` numbers and `lens` lengths. */
  start(label: Uint8Array, fields: Uint8Array | undefined, nums: number, lens = 0): this {
    const fixed = STATE_SIZE + label.length + (fields?.length ?? 0);
    const size = fixed + nums * NUM + lens * LEN;
    if (size <= SCRATCH_SIZE) {
      this.#bytes = this.#scratch;
      this.#view = this.#scratchView;
    } else {
      // A long name: a buffer of its own, not kept.
      this.#bytes = new Uint8Array(size);
      this.#view = new DataView(this.#bytes.buffer);
    }
    this.#bytes.set(label, STATE_SIZE);
    if (fields !== undefined) this.#bytes.set(fields, STATE_SIZE + label.length);
    this.#at = fixed;
    return this;
  }

  /** Appends `num(n)`. */
  num(n: number): this {
    putU64(this.#view, this.#at, LEN);
    putU64(this.#view, this.#at + LEN, n);
    this.#at += NUM;
    return this;
  }

  /** Appends a bare length prefix (of a field whose bytes are hashed after the head). */
  len(n: number): this {
    putU64(this.#view, this.#at, n);
    this.#at += LEN;
    return this;
  }

  /** `state || head`, a view valid until the next `start`. */
  bytes(state: Uint8Array): Uint8Array {
    this.#bytes.set(state, 0);
    return this.#bytes.subarray(0, this.#at);
  }
}

const HEAD = new Head();

/** Starts the record of one operation (see {@linkcode Head.start}). */
function record(label: Uint8Array, fields: Uint8Array | undefined, nums: number, lens = 0): Head {
  return HEAD.start(label, fields, nums, lens);
}

/** `num(n)` on its own. */
function numField(n: number): Uint8Array {
  const out = new Uint8Array(NUM);
  const view = new DataView(out.buffer);
  putU64(view, 0, LEN);
  putU64(view, LEN, n);
  return out;
}
/** The flag of `remove`: `num(0)` for a partition, `num(1)` (then the name) for a blob. */
const NO_NAME = numField(0);
const WITH_NAME = numField(1);

/** Folds a record into an auditor (set by the `Auditor` class, which owns the state). */
let fold: (auditor: Auditor, head: Head, data?: readonly Uint8Array[]) => void;

/**
 * The SHA-256 chain that {@linkcode AuditedStorage} folds every operation into
 * (the format is in the module docs). One auditor may serve several wrapped
 * storages; their records then interleave in call order.
 *
 * @example
 * ```ts
 * import { AuditedStorage, Auditor } from "@blobrt/storage/audited";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const auditor = new Auditor();
 * assert.equal(auditor.state(), "0".repeat(64));
 * const storage = new AuditedStorage(new MemoryStorage(), auditor);
 * await assert.rejects(storage.scan("missing"), { code: "PartitionMissing" });
 * assert.equal(auditor.state().length, 64);
 * assert.notEqual(auditor.state(), "0".repeat(64));
 * ```
 */
export class Auditor {
  #state: Uint8Array = new Uint8Array(STATE_SIZE);

  /**
   * The current state of the chain.
   *
   * @example
   * ```ts
   * import { Auditor } from "@blobrt/storage/audited";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Auditor().state(), "0".repeat(64));
   * ```
   *
   * @returns The lowercase hex of the 32-byte state, 64 digits.
   */
  state(): string {
    return toHex(this.#state);
  }

  static {
    fold = (auditor, head, data) => {
      const hash = createSha256().update(head.bytes(auditor.#state));
      if (data !== undefined) { for (const chunk of data) hash.update(chunk); }
      auditor.#state = hash.digest();
    };
  }
}

/** Throws what every driver throws for a partition that is not a string. */
function checkPartitionType(partition: string): void {
  if (typeof partition !== "string") validatePartitionName(partition);
}

/**
 * A {@linkcode Storage} that records every operation, before it runs, into an
 * {@linkcode Auditor}, then hands it to the inner storage unchanged. Results and
 * errors are the inner storage's own. See the module docs for what is recorded.
 *
 * @example
 * ```ts
 * import { AuditedStorage, Auditor } from "@blobrt/storage/audited";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const a = new Auditor();
 * const b = new Auditor();
 * const left = new AuditedStorage(new MemoryStorage(), a);
 * const right = new AuditedStorage(new MemoryStorage(), b);
 * await using l = await left.open("p", "x");
 * await using r = await right.open("p", "x");
 * await l.blob.writeAt(0, [new Uint8Array([1, 2]), new Uint8Array([3])]);
 * await r.blob.writeAt(0, new Uint8Array([1, 2, 3]));
 * assert.equal(a.state(), b.state());
 * await r.blob.sync();
 * assert.notEqual(a.state(), b.state());
 * ```
 */
export class AuditedStorage implements Storage {
  // `open`, `remove` and `scan` each settle exactly one tick (one `await`) after
  // the inner storage's promise, so they keep the inner storage's order.
  readonly #inner: Storage;
  readonly #auditor: Auditor;

  /**
   * Wraps `inner`; every operation is recorded into `auditor`.
   *
   * @param inner The storage that does the work.
   * @param auditor The chain to fold operations into.
   * @throws {TypeError} When `inner` is not a storage or `auditor` not an {@linkcode Auditor}.
   */
  constructor(inner: Storage, auditor: Auditor) {
    this.#inner = checkStorage(inner, "AuditedStorage");
    if (!(auditor instanceof Auditor)) throw new TypeError("AuditedStorage needs an Auditor");
    this.#auditor = auditor;
  }

  /**
   * Records `open` (partition, name, version range), then opens through the
   * inner storage and wraps the handle so its operations are recorded too.
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @param options Accepted versions.
   * @returns The audited handle, logical size and version.
   */
  async open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob> {
    const bytes = blobNameBytes(name);
    const versions = checkVersionRange(options?.versions ?? DEFAULT_VERSIONS);
    checkPartitionType(partition);
    const where = concat([field(wtf8(partition)), field(bytes)]);
    fold(this.#auditor, record(OPEN, where, 2).num(versions.min).num(versions.max));
    const opened = await this.#inner.open(partition, name, options);
    const blob = new AuditedBlob(opened.blob, where, this.#auditor);
    return openedBlob(blob, opened.size, opened.version);
  }

  /**
   * Records `remove` (partition, and the name when one is given), then removes
   * through the inner storage.
   *
   * @param partition Partition name.
   * @param name Blob name; omit to remove the partition.
   */
  async remove(partition: string, name?: BlobName): Promise<void> {
    const bytes = name === undefined ? undefined : blobNameBytes(name);
    checkPartitionType(partition);
    const p = field(wtf8(partition));
    const fields = bytes === undefined
      ? concat([p, NO_NAME])
      : concat([p, WITH_NAME, field(bytes)]);
    fold(this.#auditor, record(REMOVE, fields, 0));
    await this.#inner.remove(partition, name);
  }

  /**
   * Records `scan` (partition), then scans through the inner storage.
   *
   * @param partition Partition name.
   * @returns The blob names, sorted bytewise.
   */
  async scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]> {
    checkPartitionType(partition);
    fold(this.#auditor, record(SCAN, field(wtf8(partition)), 0));
    return await this.#inner.scan(partition);
  }

  /**
   * Closes the inner storage (and with it every handle opened through this
   * wrapper). Not recorded.
   *
   * @example
   * ```ts
   * import { AuditedStorage, Auditor } from "@blobrt/storage/audited";
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const auditor = new Auditor();
   * const storage = new AuditedStorage(new MemoryStorage(), auditor);
   * const { blob } = await storage.open("p", "b");
   * const state = auditor.state();
   * await storage.close();
   * assert.equal(auditor.state(), state);
   * await assert.rejects(blob.sync(), { code: "Closed" });
   * ```
   *
   * @returns A promise that resolves once the inner storage is closed.
   */
  close(): Promise<void> {
    return closeInner(this.#inner);
  }

  /**
   * Same as {@linkcode AuditedStorage.close}, for `await using`.
   *
   * @returns The promise of `close()`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Throws what the shared checks throw for a read target of the wrong type;
 * a target of the right type passes without an exception.
 */
function checkTargetType(offset: number, length: number, target: ReadTarget): void {
  if (
    target instanceof Uint8Array || target instanceof IoBufMut || target instanceof IoBufsMut
  ) return;
  if (Array.isArray(target)) {
    let ok = true;
    for (const c of target as ReadonlyArray<unknown>) {
      if (!(c instanceof Uint8Array || c instanceof IoBufMut)) ok = false;
    }
    if (ok) return;
  }
  // Offset and length are valid, so the shared check reaches the target's type
  // (and throws its TypeError) before `Closed`, and leaves the target untouched.
  try {
    checkReadBuf(offset, length, target, true);
  } catch (err) {
    if (isStorageError(err, "Closed")) return;
    throw err;
  }
}

/** A handle that records each operation, then runs it on the inner handle. */
class AuditedBlob implements Blob {
  readonly #inner: Blob;
  /** `P N`: the partition and name fields, encoded once at open. */
  readonly #where: Uint8Array;
  readonly #auditor: Auditor;

  constructor(inner: Blob, where: Uint8Array, auditor: Auditor) {
    this.#inner = inner;
    this.#where = where;
    this.#auditor = auditor;
  }

  // Each method records, then returns the inner handle's own promise: no
  // extra ticks, so results settle exactly when and in the order the inner
  // storage settles them. The shared checks throw; their errors become
  // rejections, as they do in every driver's `async` methods.

  readAt(offset: number, length: number): Promise<IoBufsMut> {
    try {
      checkIndex(offset, "offset");
      checkIndex(length, "length");
      fold(this.#auditor, record(READ_AT, this.#where, 2).num(offset).num(length));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#inner.readAt(offset, length);
  }

  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    try {
      checkIndex(offset, "offset");
      checkIndex(length, "length");
      checkTargetType(offset, length, target);
      fold(this.#auditor, record(READ_AT_BUF, this.#where, 2).num(offset).num(length));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#inner.readAtBuf(offset, length, target);
  }

  writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    try {
      checkIndex(offset, "offset");
      // Offset 0: only the type checks and the chunk list are wanted here;
      // `Closed` and `OffsetOverflow` at the real offset are the inner's to say.
      const { chunks, length, sync } = checkWrite(0, data, options, false);
      const head = record(WRITE_AT, this.#where, 2, 1).num(offset).num(sync ? 1 : 0);
      fold(this.#auditor, head.len(length), chunks);
    } catch (err) {
      // `OffsetOverflow` here means the chunks alone overflow (one buffer
      // repeated millions of times): not hashable, and the inner storage
      // rejects it (`Closed` or `OffsetOverflow`).
      if (!isStorageError(err, "OffsetOverflow")) return Promise.reject(err);
    }
    return this.#inner.writeAt(offset, data, options);
  }

  resize(length: number): Promise<void> {
    try {
      checkIndex(length, "length");
      fold(this.#auditor, record(RESIZE, this.#where, 1).num(length));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#inner.resize(length);
  }

  sync(): Promise<void> {
    fold(this.#auditor, record(SYNC, this.#where, 0));
    return this.#inner.sync();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
