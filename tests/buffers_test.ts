import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { IoBuf, IoBufMut, IoBufs, IoBufsMut } from "../core/buffers.ts";
import { MemoryStorage } from "../drivers/memory.ts";

// ---------------------------------------------------------------------------
// helpers

function u8(...bytes: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Asserts that `view` is a zero-copy view of `source` starting `offset` bytes in. */
function assertSameMemory(view: Uint8Array, source: Uint8Array, offset = 0): void {
  assert.equal(view.buffer, source.buffer);
  assert.equal(view.byteOffset, source.byteOffset + offset);
}

function assertPlain(view: Uint8Array): void {
  assert.equal(Object.getPrototypeOf(view), Uint8Array.prototype);
}

/** A Node `Buffer` that does not start at offset 0 of its `ArrayBuffer`. */
function offsetBuffer(bytes: number[]): Buffer {
  const backing = Buffer.from([0xee, 0xee, 0xee, ...bytes, 0xee]);
  return backing.subarray(3, 3 + bytes.length);
}

const notUint8Arrays: [string, unknown][] = [
  ["number array", [1, 2, 3]],
  ["string", "abc"],
  ["null", null],
  ["number", 3],
  ["ArrayBuffer", new ArrayBuffer(3)],
  ["Int8Array", new Int8Array(3)],
  ["Uint8ClampedArray", new Uint8ClampedArray(3)],
  ["DataView", new DataView(new ArrayBuffer(3))],
];

// Bad cursor values for advance / setLength given a buffer with room for 3.
const badIndexes = [-1, 1.5, NaN, Infinity, -Infinity];

// Bad [start, end] pairs for slicing a 4-byte buffer.
const badRanges: [string, number, number | undefined][] = [
  ["negative start", -1, 2],
  ["negative end", 0, -1],
  ["reversed", 3, 1],
  ["end past length", 0, 5],
  ["start past length", 5, undefined],
  ["start and end past length", 5, 6],
  ["fractional start", 0.5, 2],
  ["fractional end", 0, 2.5],
  ["NaN start", NaN, 2],
  ["NaN end", 0, NaN],
  ["Infinity end", 0, Infinity],
  ["-Infinity start", -Infinity, 2],
];

const badSizes: [string, unknown, typeof RangeError | typeof TypeError][] = [
  ["negative", -1, RangeError],
  ["fractional", 1.5, RangeError],
  ["NaN", NaN, RangeError],
  ["Infinity", Infinity, RangeError],
  ["-Infinity", -Infinity, RangeError],
  ["unsafe integer", 2 ** 53, RangeError],
  ["numeric string", "4", TypeError],
  ["bigint", 4n, TypeError],
  ["null", null, TypeError],
  ["undefined", undefined, TypeError],
  ["object", {}, TypeError],
];

// ---------------------------------------------------------------------------
// IoBuf

test("IoBuf: constructor wraps without copying", () => {
  const src = u8(1, 2, 3, 4);
  const buf = new IoBuf(src);
  assert.equal(buf.length, 4);
  assert.equal(buf.remaining, 4);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3, 4));
  assertSameMemory(buf.bytes(), src);
  src[0] = 9;
  assert.deepEqual(buf.bytes(), u8(9, 2, 3, 4));
});

test("IoBuf: constructor keeps the byteOffset of a subarray", () => {
  const backing = u8(0, 1, 2, 3, 4, 5);
  const src = backing.subarray(2, 5);
  const buf = new IoBuf(src);
  assert.deepEqual(buf.bytes(), u8(2, 3, 4));
  assertSameMemory(buf.bytes(), backing, 2);
});

test("IoBuf: default constructor is empty", () => {
  const buf = new IoBuf();
  assert.equal(buf.length, 0);
  assert.equal(buf.remaining, 0);
  assert.deepEqual(buf.bytes(), u8());
  assert.deepEqual(buf.chunk(), u8());
});

test("IoBuf: constructor re-views a Node Buffer as a plain Uint8Array over the same memory", () => {
  const src = offsetBuffer([1, 2, 3]);
  assert.notEqual(src.byteOffset, 0);
  const buf = new IoBuf(src);
  assertPlain(buf.bytes());
  assertPlain(buf.chunk());
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  assertSameMemory(buf.bytes(), src);
  assert.equal(buf.length, 3);
});

test("IoBuf: constructor rejects non-Uint8Array input with TypeError", () => {
  for (const [name, value] of notUint8Arrays) {
    assert.throws(() => new IoBuf(value as Uint8Array), TypeError, name);
  }
});

test("IoBuf: copyFrom copies a Uint8Array", () => {
  const src = u8(1, 2, 3);
  const buf = IoBuf.copyFrom(src);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  assert.notEqual(buf.bytes().buffer, src.buffer);
  src[0] = 9;
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
});

test("IoBuf: copyFrom accepts a number array", () => {
  const buf = IoBuf.copyFrom([5, 6, 7]);
  assert.equal(buf.length, 3);
  assert.deepEqual(buf.bytes(), u8(5, 6, 7));
});

test("IoBuf: copyFrom of a Node Buffer gives a plain Uint8Array copy", () => {
  const src = offsetBuffer([1, 2]);
  const buf = IoBuf.copyFrom(src);
  assertPlain(buf.bytes());
  assert.deepEqual(buf.bytes(), u8(1, 2));
  assert.notEqual(buf.bytes().buffer, src.buffer);
});

test("IoBuf: copyFrom of an empty source is empty", () => {
  assert.equal(IoBuf.copyFrom([]).length, 0);
  assert.deepEqual(IoBuf.copyFrom(u8()).bytes(), u8());
});

test("IoBuf: chunk is the readable bytes, zero-copy", () => {
  const src = u8(1, 2, 3);
  const buf = new IoBuf(src);
  assert.deepEqual(buf.chunk(), u8(1, 2, 3));
  assertSameMemory(buf.chunk(), src);
  assert.equal(buf.chunk().length, 3);
});

test("IoBuf: advance moves the start of the view without copying", () => {
  const src = u8(1, 2, 3, 4, 5);
  const buf = new IoBuf(src);
  buf.advance(2);
  assert.equal(buf.length, 3);
  assert.equal(buf.remaining, 3);
  assert.deepEqual(buf.chunk(), u8(3, 4, 5));
  assert.deepEqual(buf.bytes(), u8(3, 4, 5));
  assertSameMemory(buf.chunk(), src, 2);
  buf.advance(1);
  assert.deepEqual(buf.bytes(), u8(4, 5));
  assertSameMemory(buf.bytes(), src, 3);
  // the underlying bytes are untouched
  assert.deepEqual(src, u8(1, 2, 3, 4, 5));
});

test("IoBuf: advance(0) is a no-op and advance(remaining) empties", () => {
  const buf = new IoBuf(u8(1, 2, 3));
  buf.advance(0);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  buf.advance(3);
  assert.equal(buf.remaining, 0);
  assert.equal(buf.length, 0);
  assert.deepEqual(buf.chunk(), u8());
  buf.advance(0);
  assert.equal(buf.remaining, 0);
});

test("IoBuf: advance past remaining throws RangeError and changes nothing", () => {
  const buf = new IoBuf(u8(1, 2, 3));
  assert.throws(() => buf.advance(4), RangeError);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  buf.advance(2);
  assert.throws(() => buf.advance(2), RangeError);
  assert.deepEqual(buf.bytes(), u8(3));
  const empty = new IoBuf();
  assert.throws(() => empty.advance(1), RangeError);
});

test("IoBuf: advance rejects negative, fractional, NaN and infinite counts", () => {
  const buf = new IoBuf(u8(1, 2, 3));
  for (const n of badIndexes) {
    assert.throws(() => buf.advance(n), RangeError, String(n));
  }
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
});

test("IoBuf: slice returns exact bytes for each range", () => {
  const buf = new IoBuf(u8(10, 11, 12, 13));
  assert.deepEqual(buf.slice().bytes(), u8(10, 11, 12, 13));
  assert.deepEqual(buf.slice(1).bytes(), u8(11, 12, 13));
  assert.deepEqual(buf.slice(1, 3).bytes(), u8(11, 12));
  assert.deepEqual(buf.slice(0, 0).bytes(), u8());
  assert.deepEqual(buf.slice(4).bytes(), u8());
  assert.deepEqual(buf.slice(4, 4).bytes(), u8());
  assert.deepEqual(buf.slice(undefined, 2).bytes(), u8(10, 11));
  assert.ok(buf.slice(1, 2) instanceof IoBuf);
  assert.equal(buf.slice(1, 3).length, 2);
});

test("IoBuf: slice is zero-copy", () => {
  const backing = u8(0, 1, 2, 3, 4, 5, 6, 7);
  const src = backing.subarray(2);
  const buf = new IoBuf(src);
  const s = buf.slice(1, 4);
  assertSameMemory(s.bytes(), backing, 3);
  backing[3] = 99;
  assert.deepEqual(s.bytes(), u8(99, 4, 5));
  const ss = s.slice(1);
  assertSameMemory(ss.bytes(), backing, 4);
  assert.deepEqual(ss.bytes(), u8(4, 5));
});

test("IoBuf: slice does not move the cursor and is relative to it", () => {
  const src = u8(1, 2, 3, 4, 5);
  const buf = new IoBuf(src);
  buf.slice(1, 3);
  assert.equal(buf.remaining, 5);
  buf.advance(2);
  const s = buf.slice(0, 2);
  assert.deepEqual(s.bytes(), u8(3, 4));
  assertSameMemory(s.bytes(), src, 2);
  assert.throws(() => buf.slice(0, 4), RangeError);
});

test("IoBuf: slice and its cursor are independent of the parent", () => {
  const buf = new IoBuf(u8(1, 2, 3, 4));
  const s = buf.slice(1, 3);
  s.advance(1);
  assert.deepEqual(s.bytes(), u8(3));
  assert.deepEqual(buf.bytes(), u8(1, 2, 3, 4));
});

test("IoBuf: slice rejects bad ranges with RangeError", () => {
  const buf = new IoBuf(u8(1, 2, 3, 4));
  for (const [name, start, end] of badRanges) {
    assert.throws(() => buf.slice(start, end), RangeError, name);
  }
  assert.throws(() => new IoBuf().slice(0, 1), RangeError);
  assert.throws(() => new IoBuf().slice(1), RangeError);
});

test("IoBuf: slice of a Node Buffer stays plain", () => {
  const buf = new IoBuf(offsetBuffer([1, 2, 3]));
  const s = buf.slice(1);
  assertPlain(s.bytes());
  assert.deepEqual(s.bytes(), u8(2, 3));
});

test("IoBuf: bytes returns a plain Uint8Array", () => {
  const src = u8(1, 2);
  const buf = new IoBuf(src);
  assertPlain(buf.bytes());
  assert.equal(buf.bytes(), buf.chunk());
  assertSameMemory(buf.bytes(), src);
});

// ---------------------------------------------------------------------------
// IoBufMut

test("IoBufMut: constructor wraps without copying, length = capacity", () => {
  const backing = u8(0, 1, 2, 3, 4);
  const src = backing.subarray(1, 4);
  const buf = new IoBufMut(src);
  assert.equal(buf.length, 3);
  assert.equal(buf.remaining, 3);
  assert.equal(buf.capacity, 3);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  assertSameMemory(buf.bytes(), backing, 1);
  src[0] = 7;
  assert.deepEqual(buf.bytes(), u8(7, 2, 3));
});

test("IoBufMut: default constructor is empty with no capacity", () => {
  const buf = new IoBufMut();
  assert.equal(buf.length, 0);
  assert.equal(buf.remaining, 0);
  assert.equal(buf.capacity, 0);
  assert.deepEqual(buf.bytes(), u8());
  assert.throws(() => buf.put(u8(1)), RangeError);
});

test("IoBufMut: constructor re-views a Node Buffer as a plain Uint8Array", () => {
  const src = offsetBuffer([4, 5, 6]);
  const buf = new IoBufMut(src);
  assertPlain(buf.bytes());
  assertPlain(buf.chunk());
  assert.deepEqual(buf.bytes(), u8(4, 5, 6));
  assertSameMemory(buf.bytes(), src);
  buf.setLength(1);
  assertPlain(buf.bytes());
  assert.deepEqual(buf.bytes(), u8(4));
});

test("IoBufMut: constructor rejects non-Uint8Array input with TypeError", () => {
  for (const [name, value] of notUint8Arrays) {
    assert.throws(() => new IoBufMut(value as Uint8Array), TypeError, name);
  }
});

test("IoBufMut: withCapacity has length 0 and the given capacity", () => {
  const buf = IoBufMut.withCapacity(16);
  assert.equal(buf.length, 0);
  assert.equal(buf.remaining, 0);
  assert.equal(buf.capacity, 16);
  assert.deepEqual(buf.bytes(), u8());
  assert.deepEqual(buf.chunk(), u8());
  assertPlain(buf.bytes());
});

test("IoBufMut: withCapacity(0) has no room", () => {
  const buf = IoBufMut.withCapacity(0);
  assert.equal(buf.length, 0);
  assert.equal(buf.capacity, 0);
  buf.put(u8());
  assert.throws(() => buf.put(u8(1)), RangeError);
});

test("IoBufMut: zeroed has length = capacity and zero bytes", () => {
  const buf = IoBufMut.zeroed(4);
  assert.equal(buf.length, 4);
  assert.equal(buf.remaining, 4);
  assert.equal(buf.capacity, 4);
  assert.deepEqual(buf.bytes(), u8(0, 0, 0, 0));
  assertPlain(buf.bytes());
  const empty = IoBufMut.zeroed(0);
  assert.equal(empty.length, 0);
  assert.equal(empty.capacity, 0);
  assert.deepEqual(empty.bytes(), u8());
});

test("IoBufMut: withCapacity rejects bad sizes", () => {
  for (const [name, value, error] of badSizes) {
    assert.throws(() => IoBufMut.withCapacity(value as number), error, name);
  }
});

test("IoBufMut: zeroed rejects bad sizes", () => {
  for (const [name, value, error] of badSizes) {
    assert.throws(() => IoBufMut.zeroed(value as number), error, name);
  }
});

test("IoBufMut: put appends copies after the readable bytes", () => {
  const buf = IoBufMut.withCapacity(8);
  const a = u8(1, 2, 3);
  buf.put(a);
  assert.equal(buf.length, 3);
  assert.equal(buf.remaining, 3);
  assert.equal(buf.capacity, 8);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  buf.put(u8(4, 5));
  assert.deepEqual(buf.bytes(), u8(1, 2, 3, 4, 5));
  // put copied: changing the source later does not change the buffer
  a[0] = 9;
  assert.deepEqual(buf.bytes(), u8(1, 2, 3, 4, 5));
  assert.notEqual(buf.bytes().buffer, a.buffer);
});

test("IoBufMut: put of nothing is a no-op", () => {
  const buf = IoBufMut.withCapacity(2);
  buf.put(u8());
  assert.equal(buf.length, 0);
  buf.put(u8(1, 2));
  buf.put(u8());
  assert.deepEqual(buf.bytes(), u8(1, 2));
});

test("IoBufMut: put may fill exactly to capacity", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.put(u8(1, 2));
  buf.put(u8(3, 4));
  assert.equal(buf.length, 4);
  assert.equal(buf.capacity, 4);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3, 4));
});

test("IoBufMut: put accepts a Node Buffer", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.put(offsetBuffer([7, 8]));
  assert.deepEqual(buf.bytes(), u8(7, 8));
  assertPlain(buf.bytes());
});

test("IoBufMut: put past capacity throws RangeError and changes nothing", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.put(u8(1, 2, 3));
  assert.throws(() => buf.put(u8(4, 5)), RangeError);
  assert.equal(buf.length, 3);
  assert.equal(buf.capacity, 4);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  // nothing was written into the spare room either
  buf.setLength(4);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3, 0));
  assert.throws(() => IoBufMut.withCapacity(2).put(u8(1, 2, 3)), RangeError);
});

test("IoBufMut: put into a full constructed buffer throws RangeError", () => {
  const buf = new IoBufMut(u8(1, 2));
  assert.throws(() => buf.put(u8(3)), RangeError);
  assert.deepEqual(buf.bytes(), u8(1, 2));
});

test("IoBufMut: put after clear overwrites from the start", () => {
  const src = u8(1, 2, 3);
  const buf = new IoBufMut(src);
  buf.clear();
  buf.put(u8(9));
  assert.deepEqual(buf.bytes(), u8(9));
  assert.deepEqual(src, u8(9, 2, 3));
});

test("IoBufMut: chunk and bytes are zero-copy and writable in place", () => {
  const src = u8(1, 2, 3, 4);
  const buf = new IoBufMut(src);
  buf.setLength(2);
  assert.deepEqual(buf.chunk(), u8(1, 2));
  assert.deepEqual(buf.bytes(), u8(1, 2));
  assertSameMemory(buf.chunk(), src);
  assertSameMemory(buf.bytes(), src);
  buf.chunk()[0] = 42;
  assert.equal(src[0], 42);
  assert.deepEqual(buf.bytes(), u8(42, 2));
});

test("IoBufMut: bytes of a withCapacity buffer shares one memory across puts", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.put(u8(1));
  const first = buf.bytes();
  buf.put(u8(2));
  const second = buf.bytes();
  assert.equal(first.buffer, second.buffer);
  assert.equal(first.byteOffset, second.byteOffset);
  assert.deepEqual(second, u8(1, 2));
});

test("IoBufMut: setLength grows over existing memory and shrinks", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.setLength(3);
  assert.equal(buf.length, 3);
  assert.equal(buf.remaining, 3);
  assert.deepEqual(buf.bytes(), u8(0, 0, 0));
  buf.bytes().set([5, 6, 7]);
  buf.setLength(1);
  assert.deepEqual(buf.bytes(), u8(5));
  buf.setLength(4);
  assert.deepEqual(buf.bytes(), u8(5, 6, 7, 0));
  buf.setLength(0);
  assert.equal(buf.length, 0);
  assert.equal(buf.capacity, 4);
});

test("IoBufMut: setLength past capacity throws RangeError and changes nothing", () => {
  const buf = IoBufMut.withCapacity(3);
  buf.put(u8(1));
  assert.throws(() => buf.setLength(4), RangeError);
  assert.equal(buf.length, 1);
  assert.deepEqual(buf.bytes(), u8(1));
});

test("IoBufMut: setLength rejects negative, fractional, NaN and infinite lengths", () => {
  const buf = IoBufMut.withCapacity(3);
  buf.put(u8(1));
  for (const n of badIndexes) {
    assert.throws(() => buf.setLength(n), RangeError, String(n));
  }
  assert.equal(buf.length, 1);
});

test("IoBufMut: clear sets length 0 and keeps capacity and memory", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.put(u8(1, 2, 3));
  buf.clear();
  assert.equal(buf.length, 0);
  assert.equal(buf.remaining, 0);
  assert.equal(buf.capacity, 4);
  assert.deepEqual(buf.bytes(), u8());
  buf.setLength(3);
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
});

test("IoBufMut: advance consumes from the front and shrinks capacity", () => {
  const src = u8(1, 2, 3, 4, 5);
  const buf = new IoBufMut(src);
  buf.advance(2);
  assert.equal(buf.length, 3);
  assert.equal(buf.remaining, 3);
  assert.equal(buf.capacity, 3);
  assert.deepEqual(buf.chunk(), u8(3, 4, 5));
  assertSameMemory(buf.bytes(), src, 2);
  buf.advance(3);
  assert.equal(buf.length, 0);
  assert.equal(buf.capacity, 0);
  assert.deepEqual(buf.bytes(), u8());
});

test("IoBufMut: advance keeps the spare room after the readable bytes", () => {
  const buf = IoBufMut.withCapacity(6);
  buf.put(u8(1, 2, 3));
  buf.advance(1);
  assert.equal(buf.length, 2);
  assert.equal(buf.capacity, 5);
  assert.deepEqual(buf.bytes(), u8(2, 3));
  buf.put(u8(4, 5, 6));
  assert.deepEqual(buf.bytes(), u8(2, 3, 4, 5, 6));
  assert.throws(() => buf.put(u8(7)), RangeError);
  buf.advance(0);
  assert.deepEqual(buf.bytes(), u8(2, 3, 4, 5, 6));
});

test("IoBufMut: advance past remaining throws RangeError even with spare capacity", () => {
  const buf = IoBufMut.withCapacity(8);
  buf.put(u8(1, 2));
  assert.throws(() => buf.advance(3), RangeError);
  assert.equal(buf.length, 2);
  assert.equal(buf.capacity, 8);
  assert.deepEqual(buf.bytes(), u8(1, 2));
});

test("IoBufMut: advance rejects negative, fractional, NaN and infinite counts", () => {
  const buf = new IoBufMut(u8(1, 2, 3));
  for (const n of badIndexes) {
    assert.throws(() => buf.advance(n), RangeError, String(n));
  }
  assert.deepEqual(buf.bytes(), u8(1, 2, 3));
  assert.equal(buf.capacity, 3);
});

test("IoBufMut: slice returns an IoBuf with exact bytes", () => {
  const buf = IoBufMut.withCapacity(8);
  buf.put(u8(10, 11, 12, 13));
  const s = buf.slice(1, 3);
  assert.ok(s instanceof IoBuf);
  assert.deepEqual(s.bytes(), u8(11, 12));
  assert.deepEqual(buf.slice().bytes(), u8(10, 11, 12, 13));
  assert.deepEqual(buf.slice(2).bytes(), u8(12, 13));
  assert.deepEqual(buf.slice(4).bytes(), u8());
  assert.deepEqual(buf.slice(undefined, 1).bytes(), u8(10));
});

test("IoBufMut: slice is zero-copy", () => {
  const backing = u8(0, 1, 2, 3, 4, 5);
  const buf = new IoBufMut(backing.subarray(1));
  const s = buf.slice(2, 4);
  assertSameMemory(s.bytes(), backing, 3);
  buf.chunk()[2] = 77;
  assert.deepEqual(s.bytes(), u8(77, 4));
});

test("IoBufMut: slice is bounded by length, not capacity", () => {
  const buf = IoBufMut.withCapacity(8);
  buf.put(u8(1, 2, 3));
  assert.throws(() => buf.slice(0, 4), RangeError);
  assert.throws(() => buf.slice(4), RangeError);
  assert.deepEqual(buf.slice(3).bytes(), u8());
});

test("IoBufMut: slice rejects bad ranges with RangeError", () => {
  const buf = new IoBufMut(u8(1, 2, 3, 4));
  for (const [name, start, end] of badRanges) {
    assert.throws(() => buf.slice(start, end), RangeError, name);
  }
});

test("IoBufMut: freeze returns an IoBuf over the same memory", () => {
  const src = u8(1, 2, 3, 4);
  const buf = new IoBufMut(src);
  buf.setLength(3);
  const frozen = buf.freeze();
  assert.ok(frozen instanceof IoBuf);
  assert.equal(frozen.length, 3);
  assert.deepEqual(frozen.bytes(), u8(1, 2, 3));
  assertSameMemory(frozen.bytes(), src);
  assertPlain(frozen.bytes());
});

test("IoBufMut: freeze keeps its length when the IoBufMut later changes", () => {
  const buf = IoBufMut.withCapacity(4);
  buf.put(u8(1, 2));
  const frozen = buf.freeze();
  buf.put(u8(3, 4));
  buf.advance(1);
  assert.equal(frozen.length, 2);
  assert.deepEqual(frozen.bytes(), u8(1, 2));
  assert.deepEqual(buf.bytes(), u8(2, 3, 4));
});

test("IoBufMut: freeze of an empty buffer is an empty IoBuf", () => {
  const frozen = IoBufMut.withCapacity(4).freeze();
  assert.equal(frozen.length, 0);
  assert.deepEqual(frozen.bytes(), u8());
});

// ---------------------------------------------------------------------------
// IoBufs

test("IoBufs: default constructor is empty", () => {
  const bufs = new IoBufs();
  assert.equal(bufs.length, 0);
  assert.equal(bufs.remaining, 0);
  assert.equal(bufs.chunkCount, 0);
  assert.ok(bufs.isSingle());
  assert.deepEqual(bufs.chunk(), u8());
  assert.deepEqual(bufs.bytes(), u8());
  assertPlain(bufs.bytes());
  assert.deepEqual([...bufs], []);
  const one = bufs.coalesce();
  assert.ok(one instanceof IoBuf);
  assert.equal(one.length, 0);
  bufs.advance(0);
  assert.equal(bufs.remaining, 0);
});

test("IoBufs: constructor takes Uint8Arrays and IoBufs in order", () => {
  const bufs = new IoBufs([u8(1, 2), new IoBuf(u8(3)), u8(4, 5, 6)]);
  assert.equal(bufs.chunkCount, 3);
  assert.equal(bufs.length, 6);
  assert.equal(bufs.remaining, 6);
  assert.deepEqual([...bufs], [u8(1, 2), u8(3), u8(4, 5, 6)]);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3, 4, 5, 6));
});

test("IoBufs: constructor accepts any iterable", () => {
  function* gen(): Generator<Uint8Array> {
    yield u8(1);
    yield u8(2, 3);
  }
  const bufs = new IoBufs(gen());
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
});

test("IoBufs: constructor drops empty chunks", () => {
  const emptied = new IoBuf(u8(1));
  emptied.advance(1);
  const bufs = new IoBufs([u8(), u8(1), new IoBuf(), u8(), emptied, u8(2, 3), u8()]);
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 3);
  assert.deepEqual([...bufs], [u8(1), u8(2, 3)]);
  const allEmpty = new IoBufs([u8(), new IoBuf(), u8()]);
  assert.equal(allEmpty.chunkCount, 0);
  assert.ok(allEmpty.isSingle());
});

test("IoBufs: chunks are not copied", () => {
  const backing = u8(0, 1, 2, 3, 4, 5);
  const a = backing.subarray(1, 3);
  const b = backing.subarray(4);
  const bufs = new IoBufs([a, new IoBuf(b)]);
  const [ca, cb] = [...bufs];
  assertSameMemory(ca, backing, 1);
  assertSameMemory(cb, backing, 4);
  assertSameMemory(bufs.chunk(), backing, 1);
  backing[1] = 99;
  assert.deepEqual(bufs.chunk(), u8(99, 2));
});

test("IoBufs: push appends chunks and ignores empty ones", () => {
  const bufs = new IoBufs();
  bufs.push(u8(1, 2));
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 2);
  bufs.push(u8());
  bufs.push(new IoBuf());
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 2);
  bufs.push(new IoBuf(u8(3)));
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 3);
  assert.equal(bufs.remaining, 3);
  assert.deepEqual([...bufs], [u8(1, 2), u8(3)]);
});

test("IoBufs: push after advance appends behind the remaining chunks", () => {
  const bufs = new IoBufs([u8(1, 2), u8(3)]);
  bufs.advance(2);
  bufs.push(u8(4, 5));
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 3);
  assert.deepEqual([...bufs], [u8(3), u8(4, 5)]);
  assert.deepEqual(bufs.bytes(), u8(3, 4, 5));
});

test("IoBufs: push rejects non-Uint8Array input with TypeError", () => {
  const bufs = new IoBufs([u8(1)]);
  for (const [name, value] of notUint8Arrays) {
    assert.throws(() => bufs.push(value as Uint8Array<ArrayBuffer>), TypeError, name);
  }
  assert.throws(() => bufs.push(new IoBufMut(u8(1)) as unknown as IoBuf), TypeError);
  assert.throws(() => new IoBufs([[1, 2] as unknown as Uint8Array]), TypeError);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 1);
});

test("IoBufs: Node Buffer chunks come out as plain Uint8Arrays", () => {
  const a = offsetBuffer([1, 2]);
  const b = offsetBuffer([3]);
  const bufs = new IoBufs([a, b]);
  for (const c of bufs) assertPlain(c);
  assertPlain(bufs.chunk());
  assertSameMemory(bufs.chunk(), a);
  assertPlain(bufs.bytes());
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
  assertPlain(bufs.coalesce().bytes());
  const single = new IoBufs([a]);
  assertPlain(single.bytes());
  assertSameMemory(single.bytes(), a);
  assert.deepEqual(single.bytes(), u8(1, 2));
});

test("IoBufs: chunk is the first readable chunk, zero-copy", () => {
  const a = u8(1, 2, 3);
  const bufs = new IoBufs([u8(), a, u8(4)]);
  assert.deepEqual(bufs.chunk(), u8(1, 2, 3));
  assertSameMemory(bufs.chunk(), a);
  bufs.advance(1);
  assert.deepEqual(bufs.chunk(), u8(2, 3));
  assertSameMemory(bufs.chunk(), a, 1);
});

test("IoBufs: isSingle is true for at most one chunk", () => {
  assert.ok(new IoBufs().isSingle());
  assert.ok(new IoBufs([u8(1)]).isSingle());
  assert.ok(new IoBufs([u8(1), u8()]).isSingle());
  const two = new IoBufs([u8(1), u8(2)]);
  assert.ok(!two.isSingle());
  two.advance(1);
  assert.ok(two.isSingle());
  two.advance(1);
  assert.ok(two.isSingle());
  assert.equal(two.chunkCount, 0);
});

test("IoBufs: advance within the first chunk", () => {
  const bufs = new IoBufs([u8(1, 2, 3), u8(4, 5)]);
  bufs.advance(2);
  assert.equal(bufs.length, 3);
  assert.equal(bufs.remaining, 3);
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.chunk(), u8(3));
  assert.deepEqual([...bufs], [u8(3), u8(4, 5)]);
  assert.deepEqual(bufs.bytes(), u8(3, 4, 5));
});

test("IoBufs: advance to a chunk boundary drops the consumed chunk", () => {
  const bufs = new IoBufs([u8(1, 2), u8(3, 4)]);
  bufs.advance(2);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 2);
  assert.deepEqual(bufs.chunk(), u8(3, 4));
  assert.deepEqual([...bufs], [u8(3, 4)]);
});

test("IoBufs: advance across several chunks", () => {
  const c = u8(6, 7, 8);
  const bufs = new IoBufs([u8(1, 2), u8(3), u8(4, 5), c]);
  bufs.advance(6);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 2);
  assert.equal(bufs.remaining, 2);
  assert.deepEqual(bufs.chunk(), u8(7, 8));
  assertSameMemory(bufs.chunk(), c, 1);
  bufs.advance(1);
  assert.deepEqual(bufs.bytes(), u8(8));
  bufs.advance(1);
  assert.equal(bufs.length, 0);
  assert.equal(bufs.chunkCount, 0);
  assert.deepEqual(bufs.chunk(), u8());
  assert.deepEqual(bufs.bytes(), u8());
  assert.deepEqual([...bufs], []);
});

test("IoBufs: advance of everything at once empties", () => {
  const bufs = new IoBufs([u8(1, 2), u8(3)]);
  bufs.advance(3);
  assert.equal(bufs.length, 0);
  assert.equal(bufs.chunkCount, 0);
  assert.ok(bufs.isSingle());
  assert.deepEqual(bufs.coalesce().bytes(), u8());
});

test("IoBufs: advance(0) changes nothing", () => {
  const bufs = new IoBufs([u8(1), u8(2)]);
  bufs.advance(0);
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.bytes(), u8(1, 2));
});

test("IoBufs: advance leaves the source bytes and IoBufs untouched", () => {
  const src = u8(1, 2, 3);
  const ioBuf = new IoBuf(u8(4, 5));
  const bufs = new IoBufs([src, ioBuf]);
  bufs.advance(4);
  assert.deepEqual(src, u8(1, 2, 3));
  assert.equal(ioBuf.length, 2);
  assert.deepEqual(ioBuf.bytes(), u8(4, 5));
  assert.deepEqual(bufs.bytes(), u8(5));
});

test("IoBufs: advance past remaining throws RangeError and changes nothing", () => {
  const bufs = new IoBufs([u8(1, 2), u8(3)]);
  assert.throws(() => bufs.advance(4), RangeError);
  assert.equal(bufs.length, 3);
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
  bufs.advance(2);
  assert.throws(() => bufs.advance(2), RangeError);
  assert.deepEqual(bufs.bytes(), u8(3));
  assert.throws(() => new IoBufs().advance(1), RangeError);
});

test("IoBufs: advance rejects negative, fractional, NaN and infinite counts", () => {
  const bufs = new IoBufs([u8(1, 2), u8(3)]);
  for (const n of badIndexes) {
    assert.throws(() => bufs.advance(n), RangeError, String(n));
  }
  assert.equal(bufs.length, 3);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
});

test("IoBufs: coalesce of a single chunk views its memory", () => {
  const only = new IoBuf(u8(1, 2, 3));
  const bufs = new IoBufs([u8(), only, u8()]);
  assertSameMemory(bufs.coalesce().bytes(), only.bytes(), 0);
});

test("IoBufs: moving a pushed IoBuf's cursor later changes nothing", () => {
  const b = new IoBuf(u8(1, 2, 3));
  const bufs = new IoBufs([b, u8(4)]);
  b.advance(2);
  assert.equal(bufs.length, 4);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3, 4));
  bufs.advance(3);
  bufs.coalesce().advance(1);
  assert.equal(bufs.length, 1);
  assert.deepEqual(bufs.bytes(), u8(4));
  assert.throws(() => bufs.advance(2), RangeError);
});

test("IoBufs: coalesce after advancing to one chunk is zero-copy", () => {
  const b = u8(3, 4, 5);
  const bufs = new IoBufs([u8(1, 2), b]);
  bufs.advance(3);
  const one = bufs.coalesce();
  assert.deepEqual(one.bytes(), u8(4, 5));
  assertSameMemory(one.bytes(), b, 1);
});

test("IoBufs: coalesce copies several chunks into one", () => {
  const a = u8(1, 2);
  const b = u8(3, 4, 5);
  const bufs = new IoBufs([a, b]);
  const one = bufs.coalesce();
  assert.ok(one instanceof IoBuf);
  assert.equal(one.length, 5);
  assert.deepEqual(one.bytes(), u8(1, 2, 3, 4, 5));
  assert.notEqual(one.bytes().buffer, a.buffer);
  assert.notEqual(one.bytes().buffer, b.buffer);
  assertPlain(one.bytes());
  a[0] = 9;
  assert.deepEqual(one.bytes(), u8(1, 2, 3, 4, 5));
  // the IoBufs itself is not consumed
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 5);
});

test("IoBufs: coalesce after a partial advance copies only the remaining bytes", () => {
  const bufs = new IoBufs([u8(1, 2, 3), u8(4), u8(5, 6)]);
  bufs.advance(2);
  assert.deepEqual(bufs.coalesce().bytes(), u8(3, 4, 5, 6));
});

test("IoBufs: bytes of one chunk is zero-copy", () => {
  const backing = u8(0, 1, 2, 3);
  const bufs = new IoBufs([backing.subarray(1, 3)]);
  const out = bufs.bytes();
  assert.deepEqual(out, u8(1, 2));
  assertSameMemory(out, backing, 1);
  assertPlain(out);
});

test("IoBufs: bytes of several chunks is one copy", () => {
  const a = u8(1, 2);
  const b = u8(3);
  const bufs = new IoBufs([a, b]);
  const out = bufs.bytes();
  assert.deepEqual(out, u8(1, 2, 3));
  assert.notEqual(out.buffer, a.buffer);
  assert.notEqual(out.buffer, b.buffer);
  assertPlain(out);
  b[0] = 9;
  assert.deepEqual(out, u8(1, 2, 3));
  assert.deepEqual(bufs.bytes(), u8(1, 2, 9));
});

test("IoBufs: iteration yields readable chunks in order and does not consume", () => {
  const bufs = new IoBufs([u8(1), u8(2, 3), new IoBuf(u8(4, 5, 6))]);
  const seen: Uint8Array[] = [];
  for (const c of bufs) seen.push(c);
  assert.deepEqual(seen, [u8(1), u8(2, 3), u8(4, 5, 6)]);
  assert.deepEqual([...bufs], [u8(1), u8(2, 3), u8(4, 5, 6)]);
  assert.equal(bufs.length, 6);
  assert.equal(bufs.chunkCount, 3);
  bufs.advance(2);
  assert.deepEqual([...bufs], [u8(3), u8(4, 5, 6)]);
});

// ---------------------------------------------------------------------------
// IoBufsMut

test("IoBufsMut: default constructor is empty", () => {
  const bufs = new IoBufsMut();
  assert.equal(bufs.length, 0);
  assert.equal(bufs.remaining, 0);
  assert.equal(bufs.capacity, 0);
  assert.equal(bufs.chunkCount, 0);
  assert.ok(bufs.isSingle());
  assert.deepEqual(bufs.buffers(), []);
  assert.deepEqual(bufs.chunk(), u8());
  assert.deepEqual(bufs.bytes(), u8());
  assertPlain(bufs.bytes());
  assert.deepEqual([...bufs], []);
  const one = bufs.coalesce();
  assert.ok(one instanceof IoBufMut);
  assert.equal(one.length, 0);
  assert.equal(one.capacity, 0);
  bufs.advance(0);
  assert.equal(bufs.chunkCount, 0);
});

test("IoBufsMut: constructor wraps Uint8Arrays as full IoBufMuts without copying", () => {
  const a = u8(1, 2);
  const b = u8(3, 4, 5);
  const bufs = new IoBufsMut([a, b]);
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 5);
  assert.equal(bufs.remaining, 5);
  assert.equal(bufs.capacity, 5);
  const [ba, bb] = bufs.buffers();
  assert.ok(ba instanceof IoBufMut);
  assert.equal(ba.length, 2);
  assert.equal(ba.capacity, 2);
  assert.equal(bb.length, 3);
  assert.equal(bb.capacity, 3);
  const [ca, cb] = [...bufs];
  assertSameMemory(ca, a);
  assertSameMemory(cb, b);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3, 4, 5));
});

test("IoBufsMut: constructor accepts any iterable", () => {
  function* gen(): Generator<Uint8Array | IoBufMut> {
    yield u8(1);
    yield IoBufMut.withCapacity(2);
  }
  const bufs = new IoBufsMut(gen());
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.capacity, 3);
  assert.deepEqual(bufs.bytes(), u8(1));
});

test("IoBufsMut: keeps zero-length chunks with capacity", () => {
  const a = IoBufMut.withCapacity(4);
  const b = IoBufMut.withCapacity(2);
  const bufs = new IoBufsMut([a, b]);
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 0);
  assert.equal(bufs.capacity, 6);
  assert.ok(!bufs.isSingle());
  assert.equal(bufs.buffers()[0], a);
  assert.equal(bufs.buffers()[1], b);
  assert.deepEqual([...bufs], []);
  assert.deepEqual(bufs.chunk(), u8());
  assert.deepEqual(bufs.bytes(), u8());
});

test("IoBufsMut: drops zero-capacity chunks", () => {
  const keep = IoBufMut.withCapacity(1);
  const bufs = new IoBufsMut([
    u8(),
    IoBufMut.withCapacity(0),
    new IoBufMut(),
    keep,
    IoBufMut.zeroed(0),
  ]);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.capacity, 1);
  assert.deepEqual(bufs.buffers(), [keep]);
  assert.equal(bufs.buffers()[0], keep);
});

test("IoBufsMut: push follows the same rules as the constructor", () => {
  const bufs = new IoBufsMut();
  bufs.push(u8());
  bufs.push(IoBufMut.withCapacity(0));
  assert.equal(bufs.chunkCount, 0);
  const empty = IoBufMut.withCapacity(3);
  bufs.push(empty);
  bufs.push(u8(7, 8));
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 2);
  assert.equal(bufs.capacity, 5);
  assert.equal(bufs.buffers()[0], empty);
  assert.deepEqual(bufs.buffers()[1].bytes(), u8(7, 8));
  assert.deepEqual([...bufs], [u8(7, 8)]);
});

test("IoBufsMut: push rejects non-Uint8Array input with TypeError", () => {
  const bufs = new IoBufsMut([u8(1)]);
  for (const [name, value] of notUint8Arrays) {
    assert.throws(() => bufs.push(value as Uint8Array<ArrayBuffer>), TypeError, name);
  }
  assert.throws(() => bufs.push(new IoBuf(u8(1)) as unknown as IoBufMut), TypeError);
  assert.throws(() => new IoBufsMut([[1, 2] as unknown as Uint8Array]), TypeError);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 1);
});

test("IoBufsMut: length and capacity follow puts into the chunks", () => {
  const a = IoBufMut.withCapacity(2);
  const b = IoBufMut.withCapacity(3);
  const bufs = new IoBufsMut([a, b]);
  a.put(u8(1, 2));
  b.put(u8(3));
  assert.equal(bufs.length, 3);
  assert.equal(bufs.remaining, 3);
  assert.equal(bufs.capacity, 5);
  assert.deepEqual([...bufs], [u8(1, 2), u8(3)]);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
});

test("IoBufsMut: buffers returns the chunk objects in order", () => {
  const a = IoBufMut.withCapacity(1);
  const b = new IoBufMut(u8(1));
  const c = IoBufMut.withCapacity(2);
  const bufs = new IoBufsMut([a, b, c]);
  const list = bufs.buffers();
  assert.equal(list.length, 3);
  assert.equal(list[0], a);
  assert.equal(list[1], b);
  assert.equal(list[2], c);
});

test("IoBufsMut: buffers after advance lists only the chunks left", () => {
  const a = new IoBufMut(u8(1, 2));
  const b = new IoBufMut(u8(3, 4));
  const bufs = new IoBufsMut([a, b]);
  bufs.advance(3);
  const list = bufs.buffers();
  assert.equal(list.length, 1);
  assert.equal(list[0], b);
  assert.deepEqual(list[0].bytes(), u8(4));
});

test("IoBufsMut: Node Buffer chunks come out as plain Uint8Arrays", () => {
  const a = offsetBuffer([1, 2]);
  const b = offsetBuffer([3]);
  const bufs = new IoBufsMut([a, b]);
  for (const c of bufs) assertPlain(c);
  assertPlain(bufs.chunk());
  assertSameMemory(bufs.chunk(), a);
  assertPlain(bufs.bytes());
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
  assertPlain(bufs.coalesce().bytes());
  const single = new IoBufsMut([a]);
  assertPlain(single.bytes());
  assertSameMemory(single.bytes(), a);
});

test("IoBufsMut: chunk is the first non-empty chunk, zero-copy", () => {
  const target = IoBufMut.withCapacity(4);
  target.put(u8(5, 6));
  const bufs = new IoBufsMut([IoBufMut.withCapacity(2), target, u8(7)]);
  assert.deepEqual(bufs.chunk(), u8(5, 6));
  assertSameMemory(bufs.chunk(), target.bytes());
});

test("IoBufsMut: isSingle counts empty chunks", () => {
  assert.ok(new IoBufsMut().isSingle());
  assert.ok(new IoBufsMut([IoBufMut.withCapacity(1)]).isSingle());
  assert.ok(new IoBufsMut([u8(1), u8()]).isSingle());
  assert.ok(!new IoBufsMut([IoBufMut.withCapacity(1), IoBufMut.withCapacity(1)]).isSingle());
  assert.ok(!new IoBufsMut([u8(1), IoBufMut.withCapacity(1)]).isSingle());
});

test("IoBufsMut: iteration yields non-empty chunks in order, zero-copy", () => {
  const a = u8(1, 2);
  const b = u8(3);
  const bufs = new IoBufsMut([IoBufMut.withCapacity(2), a, IoBufMut.withCapacity(1), b]);
  const seen: Uint8Array[] = [];
  for (const c of bufs) seen.push(c);
  assert.deepEqual(seen, [u8(1, 2), u8(3)]);
  assertSameMemory(seen[0], a);
  assertSameMemory(seen[1], b);
  // iterating does not consume
  assert.deepEqual([...bufs], [u8(1, 2), u8(3)]);
  assert.equal(bufs.length, 3);
  assert.equal(bufs.chunkCount, 4);
});

test("IoBufsMut: advance within the first chunk", () => {
  const a = u8(1, 2, 3);
  const bufs = new IoBufsMut([a, u8(4, 5)]);
  bufs.advance(2);
  assert.equal(bufs.length, 3);
  assert.equal(bufs.remaining, 3);
  assert.equal(bufs.capacity, 3);
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.chunk(), u8(3));
  assertSameMemory(bufs.chunk(), a, 2);
  assert.deepEqual([...bufs], [u8(3), u8(4, 5)]);
  assert.deepEqual(bufs.bytes(), u8(3, 4, 5));
});

test("IoBufsMut: advance to a boundary drops a full consumed chunk", () => {
  const bufs = new IoBufsMut([u8(1, 2), u8(3, 4)]);
  bufs.advance(2);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 2);
  assert.equal(bufs.capacity, 2);
  assert.ok(bufs.isSingle());
  assert.deepEqual(bufs.chunk(), u8(3, 4));
});

test("IoBufsMut: advance across several chunks", () => {
  const d = u8(6, 7, 8);
  const bufs = new IoBufsMut([u8(1, 2), u8(3), u8(4, 5), d]);
  bufs.advance(6);
  assert.equal(bufs.chunkCount, 1);
  assert.equal(bufs.length, 2);
  assert.deepEqual(bufs.chunk(), u8(7, 8));
  assertSameMemory(bufs.chunk(), d, 1);
  assert.deepEqual(bufs.bytes(), u8(7, 8));
  bufs.advance(2);
  assert.equal(bufs.length, 0);
  assert.equal(bufs.capacity, 0);
  assert.equal(bufs.chunkCount, 0);
  assert.deepEqual(bufs.chunk(), u8());
  assert.deepEqual(bufs.bytes(), u8());
  assert.deepEqual([...bufs], []);
});

test("IoBufsMut: advance skips empty chunks in the way", () => {
  const bufs = new IoBufsMut([IoBufMut.withCapacity(2), u8(1, 2), IoBufMut.withCapacity(3), u8(3)]);
  bufs.advance(3);
  assert.equal(bufs.length, 0);
  assert.deepEqual(bufs.bytes(), u8());
  const again = new IoBufsMut([IoBufMut.withCapacity(2), u8(1, 2), u8(3)]);
  again.advance(1);
  assert.deepEqual(again.chunk(), u8(2));
  assert.deepEqual(again.bytes(), u8(2, 3));
  assert.equal(again.length, 2);
});

test("IoBufsMut: advance(0) changes nothing", () => {
  const e = IoBufMut.withCapacity(2);
  const bufs = new IoBufsMut([e, u8(1)]);
  bufs.advance(0);
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.capacity, 3);
  assert.equal(bufs.buffers()[0], e);
  assert.deepEqual(bufs.bytes(), u8(1));
});

test("IoBufsMut: advance past remaining throws RangeError even with spare capacity", () => {
  const a = IoBufMut.withCapacity(8);
  a.put(u8(1, 2));
  const bufs = new IoBufsMut([a, IoBufMut.withCapacity(4)]);
  assert.equal(bufs.capacity, 12);
  assert.throws(() => bufs.advance(3), RangeError);
  assert.equal(bufs.length, 2);
  assert.equal(bufs.capacity, 12);
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.bytes(), u8(1, 2));
  assert.throws(() => new IoBufsMut().advance(1), RangeError);
});

test("IoBufsMut: advance rejects negative, fractional, NaN and infinite counts", () => {
  const bufs = new IoBufsMut([u8(1, 2), u8(3)]);
  for (const n of badIndexes) {
    assert.throws(() => bufs.advance(n), RangeError, String(n));
  }
  assert.equal(bufs.length, 3);
  assert.equal(bufs.chunkCount, 2);
  assert.deepEqual(bufs.bytes(), u8(1, 2, 3));
});

test("IoBufsMut: coalesce returns the very same chunk when single", () => {
  const only = IoBufMut.withCapacity(4);
  only.put(u8(1, 2));
  const bufs = new IoBufsMut([u8(), only]);
  assert.equal(bufs.coalesce(), only);
  const emptyOnly = IoBufMut.withCapacity(4);
  assert.equal(new IoBufsMut([emptyOnly]).coalesce(), emptyOnly);
});

test("IoBufsMut: coalesce copies several chunks into one", () => {
  const a = u8(1, 2);
  const b = u8(3, 4, 5);
  const bufs = new IoBufsMut([a, b]);
  const one = bufs.coalesce();
  assert.ok(one instanceof IoBufMut);
  assert.equal(one.length, 5);
  assert.equal(one.capacity, 5);
  assert.deepEqual(one.bytes(), u8(1, 2, 3, 4, 5));
  assert.notEqual(one.bytes().buffer, a.buffer);
  assert.notEqual(one.bytes().buffer, b.buffer);
  assertPlain(one.bytes());
  a[0] = 9;
  assert.deepEqual(one.bytes(), u8(1, 2, 3, 4, 5));
  assert.equal(bufs.chunkCount, 2);
  assert.equal(bufs.length, 5);
});

test("IoBufsMut: coalesce copies only readable bytes, skipping empty chunks", () => {
  const a = IoBufMut.withCapacity(4);
  a.put(u8(1));
  const bufs = new IoBufsMut([a, IoBufMut.withCapacity(3), u8(2, 3)]);
  const one = bufs.coalesce();
  assert.deepEqual(one.bytes(), u8(1, 2, 3));
  assert.equal(one.length, 3);
});

test("IoBufsMut: coalesce after a partial advance copies the remaining bytes", () => {
  const bufs = new IoBufsMut([u8(1, 2, 3), u8(4), u8(5, 6)]);
  bufs.advance(2);
  assert.deepEqual(bufs.coalesce().bytes(), u8(3, 4, 5, 6));
});

test("IoBufsMut: bytes is zero-copy when the bytes lie in one chunk", () => {
  const backing = u8(0, 1, 2, 3);
  const target = new IoBufMut(backing.subarray(1, 3));
  const bufs = new IoBufsMut([IoBufMut.withCapacity(2), target, IoBufMut.withCapacity(1)]);
  const out = bufs.bytes();
  assert.deepEqual(out, u8(1, 2));
  assertSameMemory(out, backing, 1);
  assertPlain(out);
});

test("IoBufsMut: bytes of several non-empty chunks is one copy", () => {
  const a = u8(1, 2);
  const b = u8(3);
  const bufs = new IoBufsMut([a, IoBufMut.withCapacity(5), b]);
  const out = bufs.bytes();
  assert.deepEqual(out, u8(1, 2, 3));
  assert.notEqual(out.buffer, a.buffer);
  assert.notEqual(out.buffer, b.buffer);
  assertPlain(out);
  b[0] = 9;
  assert.deepEqual(out, u8(1, 2, 3));
  assert.deepEqual(bufs.bytes(), u8(1, 2, 9));
});

// ---------------------------------------------------------------------------
// Memory types: what the library allocates is Uint8Array<ArrayBuffer>; a view
// of the caller's memory keeps the caller's memory type.

const hexOf = (b: ArrayBuffer | Uint8Array): string =>
  [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

test("readAt results go straight to crypto.subtle.digest and new Blob, without a cast", async () => {
  const storage = new MemoryStorage();
  await using opened = await storage.open("p", "b");
  await opened.blob.writeAt(0, new TextEncoder().encode("abc"));
  const read = await opened.blob.readAt(0, 3);
  // Type level: each of these is Uint8Array<ArrayBuffer> (deno check and tsc).
  const bytes: Uint8Array<ArrayBuffer> = read.bytes();
  const coalesced: Uint8Array<ArrayBuffer> = read.coalesce().bytes();
  const chunk: Uint8Array<ArrayBuffer> = read.chunk();
  assert.equal(hexOf(await crypto.subtle.digest("SHA-256", bytes)), SHA256_ABC);
  assert.equal(hexOf(await crypto.subtle.digest("SHA-256", coalesced)), SHA256_ABC);
  const blob = new Blob([bytes, coalesced, chunk]);
  assert.equal(blob.size, 9);
  assert.equal(await blob.text(), "abcabcabc");
  for (const b of [bytes, coalesced, chunk]) {
    assert.equal(Object.getPrototypeOf(b.buffer), ArrayBuffer.prototype);
  }
  // A read into the caller's ArrayBuffer memory is typed the same way.
  const into: Uint8Array<ArrayBuffer> = (await opened.blob.readAtBuf(0, 3, new Uint8Array(3)))
    .bytes();
  assert.equal(hexOf(await crypto.subtle.digest("SHA-256", into)), SHA256_ABC);
});

test("buffers the library allocates are ArrayBuffer memory", () => {
  const withCapacity: IoBufMut<ArrayBuffer> = IoBufMut.withCapacity(4);
  const zeroed: Uint8Array<ArrayBuffer> = IoBufMut.zeroed(4).bytes();
  const copied: Uint8Array<ArrayBuffer> = IoBuf.copyFrom([1, 2]).bytes();
  const chunks: Uint8Array<ArrayBuffer> = new IoBufs([u8(1), u8(2)]).coalesce().bytes();
  const mutChunks: Uint8Array<ArrayBuffer> = new IoBufsMut([u8(1), u8(2)]).bytes();
  withCapacity.put(u8(7));
  for (const b of [withCapacity.bytes(), zeroed, copied, chunks, mutChunks]) {
    assert.equal(Object.getPrototypeOf(b.buffer), ArrayBuffer.prototype);
  }
  assert.equal(new Blob([zeroed, copied, chunks, mutChunks]).size, 10);
});

test("a view of SharedArrayBuffer memory says so; a copy of it is ArrayBuffer", async () => {
  const shared = new Uint8Array(new SharedArrayBuffer(4));
  shared.set([1, 2, 3, 4]);
  const buf = new IoBuf(shared);
  const view: Uint8Array<SharedArrayBuffer> = buf.bytes(); // zero-copy: the caller's memory
  assert.equal(view.buffer, shared.buffer);
  // @ts-expect-error a view of shared memory is not Uint8Array<ArrayBuffer>
  const _lie: Uint8Array<ArrayBuffer> = buf.bytes();
  const mut = new IoBufMut(shared);
  const mutView: Uint8Array<SharedArrayBuffer> = mut.freeze().bytes();
  assert.equal(mutView.buffer, shared.buffer);
  // Several chunks coalesce into a copy, which is ArrayBuffer memory at run time.
  const bufs = new IoBufs([shared.subarray(0, 2), shared.subarray(2)]);
  const copy: Uint8Array<SharedArrayBuffer | ArrayBuffer> = bufs.bytes();
  assert.equal(Object.getPrototypeOf(copy.buffer), ArrayBuffer.prototype);
  assert.deepEqual([...copy], [1, 2, 3, 4]);

  // Storage takes shared memory to write from and to read into.
  const storage = new MemoryStorage();
  await using opened = await storage.open("p", "b");
  await opened.blob.writeAt(0, buf);
  await opened.blob.writeAt(4, bufs);
  await opened.blob.writeAt(8, [shared, buf]);
  const target = new Uint8Array(new SharedArrayBuffer(12));
  const read: IoBufsMut<ArrayBufferLike> = await opened.blob.readAtBuf(0, 12, target);
  assert.equal(read.buffers()[0]!.bytes().buffer, target.buffer);
  assert.deepEqual([...target], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  // A loosely typed target (`Uint8Array`, i.e. Uint8Array<ArrayBufferLike>) is accepted too.
  const loose: Uint8Array = new Uint8Array(2);
  const looseRead: IoBufsMut<ArrayBufferLike> = await opened.blob.readAtBuf(2, 2, loose);
  assert.deepEqual([...looseRead.bytes()], [3, 4]);
});
