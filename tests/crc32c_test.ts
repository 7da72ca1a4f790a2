/**
 * crc32c: the published vectors (the check value, RFC 3720 B.4, commonware's
 * V1 headers), running values through `seed`, and the fast paths (word reads,
 * every alignment and length) against a bit-at-a-time reference.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { crc32c } from "../core/crc32c.ts";
import { enc, pattern } from "./util.ts";

/** CRC-32C one bit at a time: the definition, nothing shared with the code under test. */
function reference(data: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));

test("crc32c: the check value of 123456789 is 0xE3069283", () => {
  assert.equal(crc32c(enc("123456789")), 0xe3069283);
  assert.equal(reference(enc("123456789")), 0xe3069283);
});

test("crc32c: RFC 3720 B.4 vectors", () => {
  const cases: [string, Uint8Array, number][] = [
    ["32 zeros", new Uint8Array(32), 0x8a9136aa],
    ["32 × 0xff", new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ["00..1f", Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ["1f..00", Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
    [
      "iSCSI read PDU",
      hex(
        "01c000000000000000000000000000001400000000000400000000140000001828000000000000000200000000000000",
      ),
      0xd9963a56,
    ],
  ];
  for (const [label, data, expected] of cases) assert.equal(crc32c(data), expected, label);
});

test("crc32c: the CRCs of commonware's worked V1 preludes", () => {
  const cases: [number, number][] = [
    [0, 0x2813d8dc],
    [1, 0xda785bdf],
    [3, 0x3b432b28],
    [7, 0xfcd9bc37],
    [65535, 0x268daf0e],
  ];
  for (const [version, expected] of cases) {
    const prelude = new Uint8Array([0x43, 0x57, 0x49, 0x4b, 0, 1, version >> 8, version & 0xff]);
    assert.equal(crc32c(prelude), expected, `version ${version}`);
  }
});

test("crc32c: empty input is 0, or the seed unchanged", () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(0), 0xe3069283), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0), 0xffffffff), 0xffffffff);
});

test("crc32c: results are unsigned 32-bit numbers", () => {
  for (let n = 0; n < 64; n++) {
    const c = crc32c(pattern(n, n));
    assert.ok(Number.isInteger(c) && c >= 0 && c <= 0xffffffff, `length ${n}: ${c}`);
  }
  assert.ok(crc32c(enc("123456789")) > 0x7fffffff); // the high bit set, still positive
});

test("crc32c: seed continues a running value at every split", () => {
  const data = pattern(1000, 3);
  const whole = crc32c(data);
  assert.equal(whole, reference(data));
  for (const split of [0, 1, 3, 4, 7, 8, 15, 16, 17, 255, 256, 257, 500, 999, 1000]) {
    const first = crc32c(data.subarray(0, split));
    assert.equal(crc32c(data.subarray(split), first), whole, `split at ${split}`);
  }
  const a = enc("1234");
  const b = enc("56789");
  assert.equal(crc32c(b, crc32c(a)), 0xe3069283);
});

test("crc32c: every length 0..600 and every byte alignment matches the reference", () => {
  const backing = pattern(600 + 8, 11);
  for (let length = 0; length <= 600; length++) {
    for (let align = 0; align < 4; align++) {
      const data = backing.subarray(align, align + length);
      if (crc32c(data) !== reference(data)) {
        assert.fail(`length ${length} at byte offset ${align}`);
      }
    }
  }
});

test("crc32c: 4 KiB pages, 1 MiB and a subarray of a larger buffer match the reference", () => {
  const page = pattern(4096, 5);
  assert.equal(crc32c(page), reference(page));
  const logical = page.subarray(0, 4084);
  assert.equal(crc32c(logical), reference(logical));
  const big = pattern(1 << 20, 9);
  assert.equal(crc32c(big), reference(big));
  const inner = big.subarray(4097, 4097 + 70_001);
  assert.equal(crc32c(inner), reference(inner));
  const seeded = crc32c(big.subarray(3, 5000), 0x12345678);
  assert.equal(seeded, reference(big.subarray(3, 5000), 0x12345678));
});

test("crc32c: a Uint8Array over a SharedArrayBuffer or a Node Buffer works", () => {
  const shared = new Uint8Array(new SharedArrayBuffer(1024 + 5)).subarray(5);
  shared.set(pattern(1024, 2));
  assert.equal(crc32c(shared), reference(pattern(1024, 2)));
  for (const length of [9, 300, 5000]) {
    const buffer = Buffer.from(pattern(length, 4)); // pooled: any byte offset
    assert.equal(crc32c(buffer), reference(pattern(length, 4)), `Buffer of ${length}`);
  }
});

test("crc32c: a non-Uint8Array is a TypeError, a bad seed a RangeError or TypeError", () => {
  for (const bad of ["123", [1, 2], new Uint16Array(4), new ArrayBuffer(4), null, undefined]) {
    assert.throws(() => crc32c(bad as unknown as Uint8Array), TypeError, String(bad));
  }
  for (const seed of [-1, 1.5, 2 ** 32, NaN, Infinity]) {
    assert.throws(() => crc32c(new Uint8Array(1), seed), RangeError, String(seed));
  }
  for (const seed of ["1", 1n, null, {}]) {
    assert.throws(() => crc32c(new Uint8Array(1), seed as unknown as number), TypeError);
  }
});
