/**
 * Internal helpers shared by the buffer types: plain views and range checks.
 *
 * @module
 */

/**
 * Returns `bytes` itself when it is a plain `Uint8Array`, else a plain view of
 * the same memory (so a `Buffer` never leaks out of `bytes()`).
 */
export function plain<B extends ArrayBufferLike>(bytes: Uint8Array<B>): Uint8Array<B> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`expected a Uint8Array, got ${typeof bytes}`);
  }
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws `RangeError` unless `0 <= start <= end <= length`, all integers. */
export function checkRange(start: number, end: number, length: number): void {
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end &&
      end <= length)
  ) {
    throw new RangeError(`range ${start}..${end} out of bounds for length ${length}`);
  }
}

/**
 * Copies `chunks`, in order, into a new array of their total length and
 * returns it.
 */
export function concat(chunks: Iterable<Uint8Array>): Uint8Array<ArrayBuffer>;
/**
 * Copies `chunks`, in order, into `out` and returns the filled part of `out`.
 */
export function concat<B extends ArrayBufferLike>(
  chunks: Iterable<Uint8Array>,
  out: Uint8Array<B>,
): Uint8Array<B>;
export function concat(chunks: Iterable<Uint8Array>, out?: Uint8Array): Uint8Array {
  if (out === undefined) {
    let length = 0;
    for (const c of chunks) length += c.length;
    out = new Uint8Array(length);
  }
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return at === out.length ? out : out.subarray(0, at);
}
