/**
 * {@linkcode crc32c}: CRC-32C (Castagnoli, iSCSI, RFC 3720), the checksum of
 * commonware's V1 blob header and of its paged format.
 *
 * Hand-written slicing-by-16, because on 4 KiB pages it measured 1.6× the best
 * pure-JS npm package (`crc-32`) under Deno and on par with it under Bun
 * (bench/RESULTS.md), and the root export takes no third-party dependency.
 *
 * Large inputs are read 32 bits at a time through an `Int32Array` view (4
 * loads per 16 bytes instead of 16, which V8 needs: from 512 bytes on; on Bun,
 * whose byte loads are cheap and views dear, from 4 KiB); smaller ones byte by
 * byte, with no view to allocate.
 *
 * @example
 * ```ts
 * import { crc32c } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 *
 * @module
 */

import { detectRuntime } from "./_runtime.ts";

/** The reflected Castagnoli polynomial. */
const POLY = 0x82f63b78;

/** `T[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes. */
const T = new Int32Array(16 * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[b] = c;
}
for (let b = 0; b < 256; b++) {
  let c = T[b]!;
  for (let k = 1; k < 16; k++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[k * 256 + b] = c;
  }
}

/** Word reads assume the bytes of an `Int32Array` element are little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** From this length on, a view of 32-bit words pays for itself (measured). */
const WORDS_FROM = !LITTLE_ENDIAN ? Infinity : detectRuntime() === "bun" ? 4096 : 512;

/**
 * The CRC-32C (Castagnoli) of `data`, as an unsigned 32-bit number. `seed`
 * continues a running value: `crc32c(b, crc32c(a))` is the CRC of `a`
 * followed by `b` (zlib's and Node's convention).
 *
 * @example
 * ```ts
 * import { crc32c } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const text = new TextEncoder().encode("123456789");
 * assert.equal(crc32c(text), 0xe3069283);
 * assert.equal(crc32c(text.subarray(4), crc32c(text.subarray(0, 4))), 0xe3069283);
 * assert.equal(crc32c(new Uint8Array(0)), 0);
 * ```
 *
 * @param data The bytes.
 * @param seed The CRC of the bytes before `data` (default 0: none).
 * @returns The CRC, in `0..=0xffffffff`.
 * @throws {TypeError} When `data` is not a `Uint8Array` or `seed` not a number.
 * @throws {RangeError} When `seed` is not an integer in `0..=0xffffffff`.
 */
export function crc32c(data: Uint8Array, seed: number = 0): number {
  if (!(data instanceof Uint8Array)) throw new TypeError("crc32c data must be a Uint8Array");
  if (seed >>> 0 !== seed) checkSeed(seed);
  const c = data.length >= WORDS_FROM ? words(data, ~seed) : bytes(data, ~seed, 0);
  return ~c >>> 0;
}

/** Slicing-by-16 reading 32-bit words; `c` is the running (inverted) CRC. */
function words(data: Uint8Array, c: number): number {
  const t = T;
  let i = 0;
  for (const head = (4 - (data.byteOffset & 3)) & 3; i < head; i++) {
    c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  }
  const n = ((data.length - i) >>> 4) << 2;
  const w = new Int32Array(data.buffer, data.byteOffset + i, n);
  for (let k = 0; k < n; k += 4) {
    const a = w[k]! ^ c;
    const b = w[k + 1]!;
    const d = w[k + 2]!;
    const e = w[k + 3]!;
    c = t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^
      t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
      t[2816 + (b & 0xff)]! ^ t[2560 + ((b >>> 8) & 0xff)]! ^
      t[2304 + ((b >>> 16) & 0xff)]! ^ t[2048 + (b >>> 24)]! ^
      t[1792 + (d & 0xff)]! ^ t[1536 + ((d >>> 8) & 0xff)]! ^
      t[1280 + ((d >>> 16) & 0xff)]! ^ t[1024 + (d >>> 24)]! ^
      t[768 + (e & 0xff)]! ^ t[512 + ((e >>> 8) & 0xff)]! ^
      t[256 + ((e >>> 16) & 0xff)]! ^ t[e >>> 24]!;
  }
  return bytes(data, c, i + (n << 2));
}

/** Slicing-by-16, then by 8, then byte by byte, from byte `i`; `c` is the running (inverted) CRC. */
function bytes(data: Uint8Array, c: number, i: number): number {
  const t = T;
  const n = data.length;
  for (const end = n - 15; i < end; i += 16) {
    c = t[3840 + ((data[i]! ^ c) & 0xff)]! ^ t[3584 + ((data[i + 1]! ^ (c >>> 8)) & 0xff)]! ^
      t[3328 + ((data[i + 2]! ^ (c >>> 16)) & 0xff)]! ^ t[3072 + (data[i + 3]! ^ (c >>> 24))]! ^
      t[2816 + data[i + 4]!]! ^ t[2560 + data[i + 5]!]! ^ t[2304 + data[i + 6]!]! ^
      t[2048 + data[i + 7]!]! ^ t[1792 + data[i + 8]!]! ^ t[1536 + data[i + 9]!]! ^
      t[1280 + data[i + 10]!]! ^ t[1024 + data[i + 11]!]! ^ t[768 + data[i + 12]!]! ^
      t[512 + data[i + 13]!]! ^ t[256 + data[i + 14]!]! ^ t[data[i + 15]!]!;
  }
  if (n - i >= 8) {
    c = t[1792 + ((data[i]! ^ c) & 0xff)]! ^ t[1536 + ((data[i + 1]! ^ (c >>> 8)) & 0xff)]! ^
      t[1280 + ((data[i + 2]! ^ (c >>> 16)) & 0xff)]! ^ t[1024 + (data[i + 3]! ^ (c >>> 24))]! ^
      t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
    i += 8;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

function checkSeed(seed: number): never {
  if (typeof seed !== "number") {
    throw new TypeError(`crc32c seed must be a number, got ${typeof seed}`);
  }
  throw new RangeError(`crc32c seed must be an integer in 0..=4294967295, got ${seed}`);
}
