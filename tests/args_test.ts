import { test } from "node:test";
import assert from "node:assert/strict";
import { thrown } from "./assert.ts";
import {
  checkEnd,
  checkIndex,
  checkRead,
  checkReadBuf,
  checkResize,
  checkSync,
  checkWrite,
} from "../core/args.ts";
import { StorageError } from "../core/errors.ts";
import { IoBuf } from "../core/io_buf.ts";
import { IoBufMut } from "../core/io_buf_mut.ts";
import { IoBufs } from "../core/io_bufs.ts";
import { IoBufsMut } from "../core/io_bufs_mut.ts";
import type { ReadTarget, WriteData, WriteOptions } from "../core/types.ts";

const MAX = Number.MAX_SAFE_INTEGER;

/** Asserts that `fn` throws a StorageError with `code` (and the exact message). */
function throwsStorage(fn: () => unknown, code: "Closed" | "OffsetOverflow", msg?: string): void {
  const err = thrown(fn);
  assert.ok(err instanceof StorageError, `expected StorageError ${code}, got ${err}`);
  assert.equal(err.code, code);
  assert.equal(err.message, code === "Closed" ? "closed" : "offset overflow", msg);
}

/** Asserts that `fn` throws exactly `type` (a programming error, never a StorageError). */
function throwsProgramming(
  fn: () => unknown,
  type: typeof RangeError | typeof TypeError,
  msg?: string,
): void {
  const err = thrown(fn);
  assert.ok(err instanceof type, `${msg ?? ""}: expected ${type.name}, got ${err}`);
  assert.ok(!(err instanceof StorageError), msg);
}

const u8 = (...b: number[]) => new Uint8Array(b);

// checkIndex

test("checkIndex: 0 and MAX_SAFE_INTEGER are accepted and returned", () => {
  assert.equal(checkIndex(0, "offset"), 0);
  assert.equal(checkIndex(1, "offset"), 1);
  assert.equal(checkIndex(4096, "length"), 4096);
  assert.equal(checkIndex(MAX, "offset"), MAX);
  assert.equal(checkIndex(-0, "offset"), -0);
});

test("checkIndex: negative, fractional, NaN, infinite and unsafe throw RangeError", () => {
  for (const n of [-1, -MAX, 1.5, 0.1, NaN, Infinity, -Infinity, 2 ** 53, MAX + 2, 1e300]) {
    throwsProgramming(() => checkIndex(n, "offset"), RangeError, String(n));
  }
});

test("checkIndex: non-numbers throw TypeError", () => {
  for (const v of ["1", "", null, undefined, 1n, true, {}, [1], new Number(1)]) {
    throwsProgramming(() => checkIndex(v as unknown as number, "offset"), TypeError, String(v));
  }
});

test("checkIndex: the message names the argument", () => {
  assert.throws(() => checkIndex(-1, "my offset"), /my offset/);
  assert.throws(() => checkIndex("1" as unknown as number, "my length"), /my length/);
});

// checkEnd

test("checkEnd: MAX_SAFE_INTEGER - 8 - length is the last accepted offset", () => {
  for (const length of [0, 1, 2, 7, 8, 4096, 2 ** 32, MAX - 9, MAX - 8]) {
    const last = MAX - 8 - length;
    assert.doesNotThrow(() => checkEnd(last, length), `length ${length}`);
    throwsStorage(() => checkEnd(last + 1, length), "OffsetOverflow", `length ${length}`);
  }
});

test("checkEnd: boundary cases from the edges", () => {
  checkEnd(0, 0);
  checkEnd(MAX - 9, 1);
  checkEnd(MAX - 8, 0);
  checkEnd(0, MAX - 8);
  throwsStorage(() => checkEnd(MAX - 8, 1), "OffsetOverflow");
  throwsStorage(() => checkEnd(MAX - 7, 0), "OffsetOverflow");
  throwsStorage(() => checkEnd(0, MAX - 7), "OffsetOverflow");
  throwsStorage(() => checkEnd(1, MAX - 8), "OffsetOverflow");
  throwsStorage(() => checkEnd(MAX, 0), "OffsetOverflow");
  throwsStorage(() => checkEnd(0, MAX), "OffsetOverflow");
  throwsStorage(() => checkEnd(MAX, MAX), "OffsetOverflow");
});

// checkRead

test("checkRead: valid reads pass", () => {
  assert.equal(checkRead(0, 0, false), undefined);
  checkRead(0, 4, false);
  checkRead(100, 0, false);
  checkRead(MAX - 9, 1, false);
  checkRead(MAX - 8, 0, false);
});

test("checkRead: bad offset or length throw RangeError/TypeError", () => {
  for (const n of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    throwsProgramming(() => checkRead(n, 1, false), RangeError, `offset ${n}`);
    throwsProgramming(() => checkRead(0, n, false), RangeError, `length ${n}`);
  }
  for (const v of ["1", null, undefined, 1n]) {
    throwsProgramming(() => checkRead(v as unknown as number, 1, false), TypeError, String(v));
    throwsProgramming(() => checkRead(0, v as unknown as number, false), TypeError, String(v));
  }
});

test("checkRead: offset is checked before length", () => {
  throwsProgramming(() => checkRead(-1, "x" as unknown as number, false), RangeError);
  throwsProgramming(() => checkRead("x" as unknown as number, -1, false), TypeError);
});

test("checkRead: argument errors come before Closed", () => {
  throwsProgramming(() => checkRead(-1, 1, true), RangeError);
  throwsProgramming(() => checkRead(0, NaN, true), RangeError);
  throwsProgramming(() => checkRead("0" as unknown as number, 1, true), TypeError);
  throwsProgramming(() => checkRead(0, null as unknown as number, true), TypeError);
});

test("checkRead: Closed when closed, even for an empty read", () => {
  throwsStorage(() => checkRead(0, 0, true), "Closed");
  throwsStorage(() => checkRead(0, 4, true), "Closed");
});

test("checkRead: Closed comes before OffsetOverflow", () => {
  throwsStorage(() => checkRead(MAX, 1, true), "Closed");
  throwsStorage(() => checkRead(MAX - 8, 1, true), "Closed");
});

test("checkRead: OffsetOverflow at the exact boundary", () => {
  checkRead(MAX - 8 - 10, 10, false);
  throwsStorage(() => checkRead(MAX - 8 - 10 + 1, 10, false), "OffsetOverflow");
  throwsStorage(() => checkRead(MAX - 8, 1, false), "OffsetOverflow");
  throwsStorage(() => checkRead(0, MAX - 7, false), "OffsetOverflow");
});

// checkReadBuf: result shape. The driver fills `chunk.bytes()` of each chunk of
// `buffers()`, in order; `fill` is that step.

/** The windows a driver reads into: each chunk's readable bytes, in order. */
function windows(target: IoBufsMut): Uint8Array[] {
  return target.buffers().map((c) => c.bytes());
}

/** Fills the windows of `target` with 1, 2, 3, ... as a driver would. */
function fill(target: IoBufsMut): void {
  let n = 1;
  for (const w of windows(target)) for (let i = 0; i < w.length; i++) w[i] = n++;
}

test("checkReadBuf: IoBufMut chunks get min(remaining, capacity) in order", () => {
  const a = IoBufMut.withCapacity(2);
  const b = IoBufMut.withCapacity(3);
  const c = IoBufMut.withCapacity(4);
  const target = checkReadBuf(0, 6, [a, b, c], false);
  assert.ok(target instanceof IoBufsMut);
  assert.deepEqual(target.buffers().map((x) => x.length), [2, 3, 1]);
  assert.equal(target.buffers()[0], a);
  assert.equal(target.buffers()[1], b);
  assert.equal(target.buffers()[2], c);
  assert.deepEqual([a.capacity, b.capacity, c.capacity], [2, 3, 4]);
  assert.equal(target.length, 6);
});

test("checkReadBuf: trailing chunks are kept with length 0", () => {
  const a = IoBufMut.withCapacity(2);
  const b = IoBufMut.withCapacity(2);
  const c = IoBufMut.withCapacity(2);
  const target = checkReadBuf(0, 3, [a, b, c], false);
  assert.equal(target.chunkCount, 3);
  assert.equal(target.buffers().length, 3);
  assert.equal(target.buffers()[2], c);
  assert.deepEqual([a.length, b.length, c.length], [2, 1, 0]);
  assert.deepEqual([a.capacity, b.capacity, c.capacity], [2, 2, 2]);
  assert.equal(target.length, 3);
  assert.equal(windows(target).reduce((n, w) => n + w.length, 0), 3);
});

test("checkReadBuf: zero-length read sets every chunk to length 0", () => {
  const a = IoBufMut.zeroed(2);
  const b = IoBufMut.zeroed(3);
  const target = checkReadBuf(0, 0, [a, b], false);
  assert.equal(target.buffers()[0], a);
  assert.equal(target.buffers()[1], b);
  assert.equal(a.length, 0);
  assert.equal(b.length, 0);
  assert.equal(target.length, 0);
  assert.equal(target.chunkCount, 2);
});

test("checkReadBuf: existing lengths are overwritten by the read layout", () => {
  const a = IoBufMut.zeroed(4);
  const b = IoBufMut.withCapacity(4);
  b.put(u8(1, 2, 3));
  checkReadBuf(0, 2, [a, b], false);
  assert.equal(a.length, 2);
  assert.equal(b.length, 0);
  checkReadBuf(0, 8, [a, b], false);
  assert.equal(a.length, 4);
  assert.equal(b.length, 4);
});

test("checkReadBuf: filling the chunks writes the caller's memory, in order", () => {
  const a = IoBufMut.withCapacity(2);
  const b = IoBufMut.withCapacity(3);
  const c = IoBufMut.withCapacity(1);
  const target = checkReadBuf(0, 4, [a, b, c], false);
  fill(target);
  assert.deepEqual(a.bytes(), u8(1, 2));
  assert.deepEqual(b.bytes(), u8(3, 4));
  assert.deepEqual(c.bytes(), u8());
  assert.deepEqual(target.bytes(), u8(1, 2, 3, 4));
});

test("checkReadBuf: an IoBufsMut target is returned as the same object", () => {
  const a = IoBufMut.withCapacity(2);
  const b = IoBufMut.withCapacity(2);
  const bufs = new IoBufsMut([a, b]);
  const target = checkReadBuf(0, 3, bufs, false);
  assert.equal(target, bufs);
  assert.equal(target.buffers()[0], a);
  assert.equal(target.buffers()[1], b);
  assert.deepEqual([a.length, b.length], [2, 1]);
});

test("checkReadBuf: a Uint8Array target counts its length as capacity", () => {
  const mem = new Uint8Array(4);
  const target = checkReadBuf(0, 4, mem, false);
  assert.equal(target.chunkCount, 1);
  assert.equal(target.capacity, 4);
  assert.equal(target.length, 4);
  fill(target);
  assert.deepEqual(mem, u8(1, 2, 3, 4), "the chunk is the caller's memory");
  throwsProgramming(() => checkReadBuf(0, 5, new Uint8Array(4), false), RangeError);
});

test("checkReadBuf: a Uint8Array target larger than the read", () => {
  const mem = new Uint8Array(8);
  const target = checkReadBuf(0, 3, mem, false);
  assert.equal(target.length, 3);
  assert.equal(target.capacity, 8);
  const [w] = windows(target);
  assert.equal(w.length, 3);
  assert.equal(w.buffer, mem.buffer);
  assert.equal(w.byteOffset, mem.byteOffset);
});

test("checkReadBuf: a Uint8Array subarray target keeps its offset", () => {
  const backing = new Uint8Array(10);
  const mem = backing.subarray(3, 7);
  fill(checkReadBuf(0, 4, mem, false));
  assert.deepEqual(backing, u8(0, 0, 0, 1, 2, 3, 4, 0, 0, 0));
});

test("checkReadBuf: a single IoBufMut target is wrapped, keeping the same object", () => {
  const a = IoBufMut.withCapacity(8);
  const target = checkReadBuf(10, 5, a, false);
  assert.ok(target instanceof IoBufsMut);
  assert.equal(target.chunkCount, 1);
  assert.equal(target.buffers()[0], a);
  assert.equal(a.length, 5);
  assert.equal(a.capacity, 8);
});

test("checkReadBuf: an array of Uint8Arrays and IoBufMuts", () => {
  const m1 = new Uint8Array(2);
  const a = IoBufMut.withCapacity(2);
  const m2 = new Uint8Array(2);
  const target = checkReadBuf(0, 5, [m1, a, m2], false);
  assert.equal(target.chunkCount, 3);
  assert.equal(target.buffers()[1], a);
  assert.deepEqual(target.buffers().map((x) => x.length), [2, 2, 1]);
  fill(target);
  assert.deepEqual(m1, u8(1, 2));
  assert.deepEqual(a.bytes(), u8(3, 4));
  assert.deepEqual(m2, u8(5, 0));
});

test("checkReadBuf: capacity exactly equal to the length is enough", () => {
  const target = checkReadBuf(0, 4, [IoBufMut.withCapacity(1), new Uint8Array(3)], false);
  assert.equal(target.length, 4);
  assert.equal(target.capacity, 4);
});

test("checkReadBuf: an empty target accepts only a zero-length read", () => {
  const target = checkReadBuf(0, 0, [], false);
  assert.equal(target.chunkCount, 0);
  assert.equal(target.length, 0);
  checkReadBuf(0, 0, new Uint8Array(0), false);
  checkReadBuf(0, 0, new IoBufsMut(), false);
  throwsProgramming(() => checkReadBuf(0, 1, [], false), RangeError);
  throwsProgramming(() => checkReadBuf(0, 1, new Uint8Array(0), false), RangeError);
});

test("checkReadBuf: insufficient capacity throws RangeError and leaves lengths alone", () => {
  const a = IoBufMut.withCapacity(2);
  a.put(u8(7));
  const b = IoBufMut.withCapacity(2);
  throwsProgramming(() => checkReadBuf(0, 5, [a, b], false), RangeError);
  assert.equal(a.length, 1);
  assert.equal(b.length, 0);
  throwsProgramming(() => checkReadBuf(0, 5, IoBufMut.withCapacity(4), false), RangeError);
});

// checkReadBuf: argument validation and order

test("checkReadBuf: bad offset or length throw before the target is looked at", () => {
  throwsProgramming(() => checkReadBuf(-1, 0, "x" as unknown as ReadTarget, false), RangeError);
  throwsProgramming(() => checkReadBuf(0, 1.5, "x" as unknown as ReadTarget, false), RangeError);
  throwsProgramming(() => checkReadBuf("0" as unknown as number, 0, [], false), TypeError);
  throwsProgramming(() => checkReadBuf(0, 1n as unknown as number, [], false), TypeError);
  for (const n of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    throwsProgramming(() => checkReadBuf(n, 0, [], false), RangeError, `offset ${n}`);
    throwsProgramming(() => checkReadBuf(0, n, [], false), RangeError, `length ${n}`);
  }
});

test("checkReadBuf: bad target types throw TypeError", () => {
  for (
    const t of [
      "x",
      null,
      undefined,
      1,
      {},
      new ArrayBuffer(4),
      new Uint16Array(2),
      new IoBuf(new Uint8Array(4)),
      new IoBufs([new Uint8Array(4)]),
    ]
  ) {
    throwsProgramming(() => checkReadBuf(0, 1, t as unknown as ReadTarget, false), TypeError);
  }
});

test("checkReadBuf: bad chunks in an array throw TypeError", () => {
  for (
    const chunk of [
      "x",
      null,
      undefined,
      1,
      [1],
      new ArrayBuffer(4),
      new IoBuf(new Uint8Array(4)),
      new IoBufsMut([new Uint8Array(4)]),
    ]
  ) {
    throwsProgramming(
      () => checkReadBuf(0, 1, [new Uint8Array(4), chunk] as unknown as ReadTarget, false),
      TypeError,
      String(chunk),
    );
  }
});

test("checkReadBuf: argument errors come before Closed", () => {
  throwsProgramming(() => checkReadBuf(-1, 1, [new Uint8Array(1)], true), RangeError);
  throwsProgramming(() => checkReadBuf(0, NaN, [new Uint8Array(1)], true), RangeError);
  throwsProgramming(() => checkReadBuf(0, 1, "x" as unknown as ReadTarget, true), TypeError);
  throwsProgramming(
    () => checkReadBuf(0, 1, [new Uint8Array(1), 5] as unknown as ReadTarget, true),
    TypeError,
  );
});

test("checkReadBuf: Closed comes before OffsetOverflow and capacity", () => {
  throwsStorage(() => checkReadBuf(0, 1, [new Uint8Array(1)], true), "Closed");
  throwsStorage(() => checkReadBuf(MAX, 1, [new Uint8Array(1)], true), "Closed");
  throwsStorage(() => checkReadBuf(0, 100, [new Uint8Array(1)], true), "Closed");
  throwsStorage(() => checkReadBuf(MAX, 100, new Uint8Array(0), true), "Closed");
});

test("checkReadBuf: OffsetOverflow comes before read-target capacity", () => {
  throwsStorage(() => checkReadBuf(MAX - 8, 1, new Uint8Array(0), false), "OffsetOverflow");
  throwsStorage(() => checkReadBuf(MAX, 100, [IoBufMut.withCapacity(1)], false), "OffsetOverflow");
});

test("checkReadBuf: OffsetOverflow at the exact boundary", () => {
  assert.equal(checkReadBuf(MAX - 8 - 2, 2, new Uint8Array(2), false).length, 2);
  throwsStorage(() => checkReadBuf(MAX - 8 - 1, 2, new Uint8Array(2), false), "OffsetOverflow");
});

test("checkReadBuf: failed checks leave chunk lengths unchanged", () => {
  const a = IoBufMut.withCapacity(4);
  a.put(u8(1));
  throwsStorage(() => checkReadBuf(0, 4, [a], true), "Closed");
  throwsStorage(() => checkReadBuf(MAX, 4, [a], false), "OffsetOverflow");
  throwsProgramming(() => checkReadBuf(0, 9, [a], false), RangeError);
  assert.equal(a.length, 1);
});

// checkWrite: accepted data

test("checkWrite: a Uint8Array is one chunk, the same object", () => {
  const data = u8(1, 2, 3);
  const { chunks, length, sync } = checkWrite(0, data, undefined, false);
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0], data);
  assert.equal(length, 3);
  assert.equal(sync, false);
});

test("checkWrite: an IoBuf gives its bytes, zero-copy", () => {
  const mem = u8(1, 2, 3, 4);
  const buf = new IoBuf(mem).slice(1, 3);
  const { chunks, length } = checkWrite(0, buf, undefined, false);
  assert.equal(length, 2);
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0], u8(2, 3));
  assert.equal(chunks[0].buffer, mem.buffer);
});

test("checkWrite: an IoBufMut gives only its readable bytes", () => {
  const buf = IoBufMut.withCapacity(8);
  buf.put(u8(5, 6, 7));
  const { chunks, length } = checkWrite(0, buf, undefined, false);
  assert.equal(length, 3);
  assert.deepEqual(chunks, [u8(5, 6, 7)]);
  assert.equal(chunks[0].buffer, buf.bytes().buffer);
});

test("checkWrite: an IoBufs gives its chunks in order", () => {
  const bufs = new IoBufs([u8(1), new Uint8Array(0), new IoBuf(u8(2, 3)), u8(4, 5, 6)]);
  const { chunks, length } = checkWrite(0, bufs, undefined, false);
  assert.deepEqual(chunks, [u8(1), u8(2, 3), u8(4, 5, 6)]);
  assert.equal(length, 6);
});

test("checkWrite: an advanced IoBufs gives only what remains", () => {
  const bufs = new IoBufs([u8(1, 2), u8(3, 4)]);
  bufs.advance(3);
  const { chunks, length } = checkWrite(0, bufs, undefined, false);
  assert.deepEqual(chunks, [u8(4)]);
  assert.equal(length, 1);
});

test("checkWrite: an array of Uint8Arrays and IoBufs, in order", () => {
  const a = u8(1, 2);
  const b = new IoBuf(u8(3));
  const c = u8(4, 5, 6);
  const { chunks, length } = checkWrite(7, [a, b, c], undefined, false);
  assert.equal(chunks.length, 3);
  assert.equal(chunks[0], a);
  assert.deepEqual(chunks[1], u8(3));
  assert.equal(chunks[2], c);
  assert.equal(length, 6);
});

test("checkWrite: IoBufMut chunks in an array are accepted", () => {
  const m = IoBufMut.withCapacity(4);
  m.put(u8(9, 9));
  const { chunks, length } = checkWrite(0, [u8(1), m] as unknown as WriteData, undefined, false);
  assert.deepEqual(chunks, [u8(1), u8(9, 9)]);
  assert.equal(length, 3);
});

test("checkWrite: empty chunks are dropped", () => {
  const { chunks, length } = checkWrite(
    0,
    [new Uint8Array(0), u8(1), new IoBuf(), new Uint8Array(0), u8(2, 3), new IoBuf(u8())],
    undefined,
    false,
  );
  assert.deepEqual(chunks, [u8(1), u8(2, 3)]);
  assert.equal(length, 3);
});

test("checkWrite: empty data of every shape gives no chunks and length 0", () => {
  for (
    const data of [
      new Uint8Array(0),
      new IoBuf(),
      IoBufMut.withCapacity(8),
      new IoBufs(),
      new IoBufs([new Uint8Array(0)]),
      [],
      [new Uint8Array(0), new IoBuf()],
    ] as WriteData[]
  ) {
    const { chunks, length } = checkWrite(0, data, undefined, false);
    assert.deepEqual(chunks, []);
    assert.equal(length, 0);
  }
});

test("checkWrite: many chunks sum their lengths", () => {
  const data = Array.from({ length: 100 }, (_, i) => new Uint8Array(i));
  const { chunks, length } = checkWrite(0, data, undefined, false);
  assert.equal(chunks.length, 99);
  assert.equal(length, (99 * 100) / 2);
});

// checkWrite: options

test("checkWrite: sync option", () => {
  const d = u8(1);
  assert.equal(checkWrite(0, d, undefined, false).sync, false);
  assert.equal(checkWrite(0, d, {}, false).sync, false);
  assert.equal(checkWrite(0, d, { sync: undefined }, false).sync, false);
  assert.equal(checkWrite(0, d, { sync: false }, false).sync, false);
  assert.equal(checkWrite(0, d, { sync: true }, false).sync, true);
  assert.equal(checkWrite(0, new Uint8Array(0), { sync: true }, false).sync, true);
});

test("checkWrite: sync that is not a boolean throws TypeError", () => {
  for (const s of [1, 0, "true", "", null, {}, 1n]) {
    throwsProgramming(
      () => checkWrite(0, u8(1), { sync: s } as unknown as WriteOptions, false),
      TypeError,
      String(s),
    );
  }
});

test("checkWrite: options that are not an object throw TypeError", () => {
  for (const o of [null, true, 1, "sync"]) {
    throwsProgramming(
      () => checkWrite(0, u8(1), o as unknown as WriteOptions, false),
      TypeError,
      String(o),
    );
  }
});

// checkWrite: bad data

test("checkWrite: bad data types throw TypeError", () => {
  for (
    const d of [
      "text",
      null,
      undefined,
      1,
      1n,
      {},
      new ArrayBuffer(4),
      new Uint16Array(2),
      new DataView(new ArrayBuffer(2)),
      new IoBufsMut([new Uint8Array(2)]),
    ]
  ) {
    throwsProgramming(
      () => checkWrite(0, d as unknown as WriteData, undefined, false),
      TypeError,
      String(d),
    );
  }
});

test("checkWrite: bad chunks in an array throw TypeError", () => {
  for (
    const chunk of [
      "a",
      1,
      null,
      undefined,
      [1],
      new ArrayBuffer(1),
      new IoBufs([u8(1)]),
      new IoBufsMut([u8(1)]),
    ]
  ) {
    throwsProgramming(
      () => checkWrite(0, [u8(1), chunk] as unknown as WriteData, undefined, false),
      TypeError,
      String(chunk),
    );
  }
});

test("checkWrite: bad offset throws RangeError/TypeError", () => {
  for (const n of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    throwsProgramming(() => checkWrite(n, u8(1), undefined, false), RangeError, String(n));
  }
  for (const v of ["0", null, undefined, 0n]) {
    throwsProgramming(
      () => checkWrite(v as unknown as number, u8(1), undefined, false),
      TypeError,
      String(v),
    );
  }
});

test("checkWrite: offset is checked before data", () => {
  throwsProgramming(
    () => checkWrite(-1, "text" as unknown as WriteData, undefined, false),
    RangeError,
  );
});

// checkWrite: order

test("checkWrite: argument errors come before Closed", () => {
  throwsProgramming(() => checkWrite(-1, u8(1), undefined, true), RangeError);
  throwsProgramming(() => checkWrite(0, "x" as unknown as WriteData, undefined, true), TypeError);
  throwsProgramming(
    () => checkWrite(0, [u8(1), 2] as unknown as WriteData, undefined, true),
    TypeError,
  );
  throwsProgramming(
    () => checkWrite(0, u8(1), { sync: "yes" } as unknown as WriteOptions, true),
    TypeError,
  );
  throwsProgramming(() => checkWrite(0, u8(1), null as unknown as WriteOptions, true), TypeError);
});

test("checkWrite: Closed, even for an empty write", () => {
  throwsStorage(() => checkWrite(0, u8(1), undefined, true), "Closed");
  throwsStorage(() => checkWrite(0, new Uint8Array(0), undefined, true), "Closed");
  throwsStorage(() => checkWrite(0, [], { sync: true }, true), "Closed");
});

test("checkWrite: Closed comes before OffsetOverflow", () => {
  throwsStorage(() => checkWrite(MAX, u8(1), undefined, true), "Closed");
  throwsStorage(() => checkWrite(MAX - 8, u8(1), { sync: true }, true), "Closed");
});

test("checkWrite: OffsetOverflow at the exact boundary, using the total length", () => {
  const data = [u8(1, 2), new IoBuf(u8(3)), new Uint8Array(0)];
  const { length } = checkWrite(MAX - 8 - 3, data, undefined, false);
  assert.equal(length, 3);
  throwsStorage(() => checkWrite(MAX - 8 - 2, data, undefined, false), "OffsetOverflow");
  checkWrite(MAX - 8, new Uint8Array(0), undefined, false);
  throwsStorage(() => checkWrite(MAX - 8, u8(1), undefined, false), "OffsetOverflow");
});

// checkResize

test("checkResize: valid lengths pass", () => {
  assert.equal(checkResize(0, false), undefined);
  checkResize(1, false);
  checkResize(MAX - 8, false);
});

test("checkResize: bad lengths throw RangeError/TypeError", () => {
  for (const n of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    throwsProgramming(() => checkResize(n, false), RangeError, String(n));
  }
  for (const v of ["1", null, undefined, 1n]) {
    throwsProgramming(() => checkResize(v as unknown as number, false), TypeError, String(v));
  }
});

test("checkResize: argument errors come before Closed", () => {
  throwsProgramming(() => checkResize(-1, true), RangeError);
  throwsProgramming(() => checkResize("1" as unknown as number, true), TypeError);
});

test("checkResize: Closed comes before OffsetOverflow", () => {
  throwsStorage(() => checkResize(0, true), "Closed");
  throwsStorage(() => checkResize(MAX, true), "Closed");
});

test("checkResize: OffsetOverflow when length + 8 passes MAX_SAFE_INTEGER", () => {
  checkResize(MAX - 8, false);
  throwsStorage(() => checkResize(MAX - 7, false), "OffsetOverflow");
  throwsStorage(() => checkResize(MAX, false), "OffsetOverflow");
});

// checkSync

test("checkSync: open passes, closed throws Closed", () => {
  assert.equal(checkSync(false), undefined);
  throwsStorage(() => checkSync(true), "Closed");
});

test("where: Closed and OffsetOverflow carry the handle's partition and blob", () => {
  const where = { partition: "p", blob: "6162" };
  const target = () => [IoBufMut.withCapacity(1), IoBufMut.withCapacity(1)];
  const closed: [string, () => unknown][] = [
    ["checkRead", () => checkRead(0, 1, true, where)],
    ["checkReadBuf plain", () => checkReadBuf(0, 1, new Uint8Array(1), true, where)],
    ["checkReadBuf chunks", () => checkReadBuf(0, 2, target(), true, where)],
    ["checkWrite", () => checkWrite(0, new Uint8Array(1), undefined, true, where)],
    ["checkResize", () => checkResize(1, true, where)],
    ["checkSync", () => checkSync(true, where)],
  ];
  const overflow: [string, () => unknown][] = [
    ["checkEnd", () => checkEnd(MAX - 8, 1, where)],
    ["checkRead", () => checkRead(MAX - 8, 1, false, where)],
    ["checkReadBuf plain", () => checkReadBuf(MAX - 8, 1, new Uint8Array(1), false, where)],
    ["checkReadBuf chunks", () => checkReadBuf(MAX - 8, 2, target(), false, where)],
    ["checkWrite", () => checkWrite(MAX - 8, [new Uint8Array(1)], undefined, false, where)],
    ["checkResize", () => checkResize(MAX - 7, false, where)],
  ];
  for (const [code, cases] of [["Closed", closed], ["OffsetOverflow", overflow]] as const) {
    for (const [label, fn] of cases) {
      const err = thrown(fn);
      assert.ok(err instanceof StorageError, label);
      assert.equal(err.code, code, label);
      assert.equal(err.partition, "p", `${label}: partition`);
      assert.equal(err.blob, "6162", `${label}: blob`);
      assert.equal(err.message, code === "Closed" ? "closed" : "offset overflow", label);
    }
  }
  // Without `where`, nothing is invented.
  const bare = thrown(() => checkSync(true));
  assert.ok(bare instanceof StorageError);
  assert.equal(bare.partition, undefined);
  assert.equal(bare.blob, undefined);
});

test("checkReadBuf: the result's memory type is the target's", () => {
  const own: IoBufsMut<ArrayBuffer> = checkReadBuf(0, 1, new Uint8Array(1), false);
  const shared = new Uint8Array(new SharedArrayBuffer(2));
  const sharedBufs: IoBufsMut<SharedArrayBuffer> = checkReadBuf(0, 2, [shared], false);
  assert.equal(own.capacity, 1);
  assert.equal(sharedBufs.buffers()[0]!.bytes().buffer, shared.buffer);
});
