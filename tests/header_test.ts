import { test } from "node:test";
import assert from "node:assert/strict";
import { thrown } from "./assert.ts";
import {
  checkVersionRange,
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  MAGIC,
  RUNTIME_VERSION,
  validateHeader,
} from "../core/header.ts";
import { StorageError } from "../core/errors.ts";
import type { VersionRange } from "../core/types.ts";

const CWIC = [0x43, 0x57, 0x49, 0x43];

/** Builds 8 raw header bytes from its fields. */
function raw(magic: number[], runtimeVersion: number, blobVersion: number): Uint8Array {
  return new Uint8Array([
    ...magic,
    runtimeVersion >> 8,
    runtimeVersion & 0xff,
    blobVersion >> 8,
    blobVersion & 0xff,
  ]);
}

// Constants

test("header: constants match commonware-runtime", () => {
  assert.equal(HEADER_SIZE, 8);
  assert.deepEqual(MAGIC, new Uint8Array(CWIC));
  assert.equal(new TextDecoder().decode(MAGIC), "CWIC");
  assert.equal(RUNTIME_VERSION, 0);
});

// encodeHeader: byte-exact

test("encodeHeader: version 0 is CWIC 00 00 00 00", () => {
  assert.deepEqual(encodeHeader(0), new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0, 0]));
});

test("encodeHeader: version 1 is CWIC 00 00 00 01", () => {
  assert.deepEqual(encodeHeader(1), new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0, 1]));
});

test("encodeHeader: version 0x0102 is big-endian 01 02", () => {
  assert.deepEqual(encodeHeader(0x0102), new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 1, 2]));
});

test("encodeHeader: version 0xffff is ff ff", () => {
  assert.deepEqual(
    encodeHeader(0xffff),
    new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0xff, 0xff]),
  );
});

test("encodeHeader: version 0x00ff and 0xff00 keep byte order", () => {
  assert.deepEqual(encodeHeader(0x00ff), new Uint8Array([...CWIC, 0, 0, 0x00, 0xff]));
  assert.deepEqual(encodeHeader(0xff00), new Uint8Array([...CWIC, 0, 0, 0xff, 0x00]));
  assert.deepEqual(encodeHeader(256), new Uint8Array([...CWIC, 0, 0, 1, 0]));
});

test("encodeHeader: returns a fresh plain 8-byte Uint8Array each call", () => {
  const a = encodeHeader(7);
  const b = encodeHeader(7);
  assert.equal(a.length, HEADER_SIZE);
  assert.equal(a.constructor, Uint8Array);
  assert.notEqual(a, b);
  assert.notEqual(a.buffer, b.buffer);
  assert.notEqual(a.buffer, MAGIC.buffer);
  a[0] = 0;
  assert.deepEqual(MAGIC, new Uint8Array(CWIC), "encoding must not alias MAGIC");
  assert.equal(b[0], 0x43);
});

test("encodeHeader: -1 throws RangeError", () => {
  assert.throws(() => encodeHeader(-1), RangeError);
});

test("encodeHeader: 65536 throws RangeError", () => {
  assert.throws(() => encodeHeader(65536), RangeError);
});

test("encodeHeader: 1.5 throws RangeError", () => {
  assert.throws(() => encodeHeader(1.5), RangeError);
});

test("encodeHeader: NaN throws RangeError", () => {
  assert.throws(() => encodeHeader(NaN), RangeError);
});

test("encodeHeader: Infinity throws RangeError", () => {
  assert.throws(() => encodeHeader(Infinity), RangeError);
  assert.throws(() => encodeHeader(-Infinity), RangeError);
});

test("encodeHeader: non-number throws TypeError", () => {
  for (const v of ["1", null, undefined, 1n, {}, [1], true]) {
    assert.throws(() => encodeHeader(v as unknown as number), TypeError, String(v));
  }
});

test("encodeHeader: errors are not StorageError", () => {
  assert.ok(!(thrown(() => encodeHeader(-1)) instanceof StorageError));
  assert.ok(!(thrown(() => encodeHeader("1" as unknown as number)) instanceof StorageError));
});

// decodeHeader

test("decodeHeader: reads every field big-endian", () => {
  const h = decodeHeader(new Uint8Array([88, 88, 88, 88, 0x12, 0x34, 0xab, 0xcd]));
  assert.deepEqual(h.magic, new Uint8Array([88, 88, 88, 88]));
  assert.equal(h.runtimeVersion, 0x1234);
  assert.equal(h.blobVersion, 0xabcd);
});

test("decodeHeader: low and high bytes of each u16", () => {
  let h = decodeHeader(new Uint8Array([...CWIC, 0, 99, 1, 0]));
  assert.equal(h.runtimeVersion, 99);
  assert.equal(h.blobVersion, 256);
  h = decodeHeader(new Uint8Array([...CWIC, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(h.runtimeVersion, 0xffff);
  assert.equal(h.blobVersion, 0xffff);
  h = decodeHeader(new Uint8Array([...CWIC, 1, 0, 0, 1]));
  assert.equal(h.runtimeVersion, 256);
  assert.equal(h.blobVersion, 1);
});

test("decodeHeader: magic is a view into the input", () => {
  const bytes = encodeHeader(3);
  const h = decodeHeader(bytes);
  assert.equal(h.magic.length, 4);
  assert.equal(h.magic.buffer, bytes.buffer);
  assert.equal(h.magic.byteOffset, bytes.byteOffset);
});

test("decodeHeader: reads only the first 8 bytes of a longer input", () => {
  const bytes = new Uint8Array([...CWIC, 0, 0, 0, 5, 0xee, 0xee, 0xee]);
  const h = decodeHeader(bytes);
  assert.deepEqual(h.magic, MAGIC);
  assert.equal(h.runtimeVersion, 0);
  assert.equal(h.blobVersion, 5);
});

test("decodeHeader: respects the byteOffset of a subarray", () => {
  const backing = new Uint8Array([9, 9, ...CWIC, 0, 0, 0x01, 0x02, 9]);
  const h = decodeHeader(backing.subarray(2, 10));
  assert.deepEqual(h.magic, MAGIC);
  assert.equal(h.runtimeVersion, 0);
  assert.equal(h.blobVersion, 0x0102);
});

test("decodeHeader: fewer than 8 bytes throws RangeError", () => {
  for (let n = 0; n < HEADER_SIZE; n++) {
    assert.throws(() => decodeHeader(new Uint8Array(n)), RangeError, `length ${n}`);
  }
  assert.throws(() => decodeHeader(encodeHeader(1).subarray(0, 7)), RangeError);
});

test("decodeHeader: exactly 8 bytes decodes", () => {
  assert.doesNotThrow(() => decodeHeader(new Uint8Array(8)));
});

// Round trip

test("header: encode/decode round trip for several versions", () => {
  for (const v of [0, 1, 2, 7, 42, 123, 255, 256, 0x0102, 0x7fff, 0x8000, 0xfffe, 0xffff]) {
    const h = decodeHeader(encodeHeader(v));
    assert.deepEqual(h.magic, MAGIC);
    assert.equal(h.runtimeVersion, RUNTIME_VERSION);
    assert.equal(h.blobVersion, v);
    assert.equal(validateHeader(encodeHeader(v), { min: v, max: v }, "p", "00"), v);
  }
});

test("header: every u16 version round trips", () => {
  for (let v = 0; v <= 0xffff; v++) {
    const bytes = encodeHeader(v);
    if (decodeHeader(bytes).blobVersion !== v) assert.fail(`version ${v} did not round trip`);
  }
});

// Ports of the Rust header tests

test("rust: test_header_fields", () => {
  // Header::new(&(42..=42)) stamps versions.end().
  const h = decodeHeader(encodeHeader(42));
  assert.deepEqual(h.magic, MAGIC);
  assert.equal(h.runtimeVersion, RUNTIME_VERSION);
  assert.equal(h.blobVersion, 42);
});

test("rust: test_header_validate_success", () => {
  const bytes = encodeHeader(5);
  assert.equal(validateHeader(bytes, { min: 3, max: 7 }, "p", "00"), 5);
  assert.equal(validateHeader(bytes, { min: 5, max: 5 }, "p", "00"), 5);
});

test("rust: test_header_validate_magic_mismatch", () => {
  const bytes = encodeHeader(5);
  bytes.set(new TextEncoder().encode("XXXX"), 0);
  const err = thrown(() => validateHeader(bytes, { min: 3, max: 7 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.reason, "invalid magic: expected [67, 87, 73, 67], found [88, 88, 88, 88]");
});

test("rust: test_header_validate_runtime_version_mismatch", () => {
  const bytes = encodeHeader(5);
  bytes[4] = 0;
  bytes[5] = 99;
  const err = thrown(() => validateHeader(bytes, { min: 3, max: 7 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.reason, "unsupported runtime version: expected 0, found 99");
});

test("rust: test_header_validate_blob_version_out_of_range", () => {
  const err = thrown(() => validateHeader(encodeHeader(10), { min: 3, max: 7 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobVersionMismatch");
  assert.deepEqual(err.expected, { min: 3, max: 7 });
  assert.equal(err.found, 10);
});

test("rust: test_header_bytes_round_trip", () => {
  const bytes = encodeHeader(123);
  const decoded = decodeHeader(bytes);
  assert.deepEqual(encodeHeader(decoded.blobVersion), bytes);
  assert.deepEqual(decoded, { magic: MAGIC, runtimeVersion: 0, blobVersion: 123 });
});

// validateHeader: every branch, in order

test("validateHeader: bad magic is BlobCorrupt with exact reason, partition and blob", () => {
  const err = thrown(() =>
    validateHeader(raw([88, 88, 88, 88], 0, 5), { min: 3, max: 7 }, "my-part", "0aff")
  );
  assert.ok(err instanceof StorageError);
  assert.equal(err.name, "StorageError");
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.partition, "my-part");
  assert.equal(err.blob, "0aff");
  assert.equal(err.reason, "invalid magic: expected [67, 87, 73, 67], found [88, 88, 88, 88]");
  assert.equal(
    err.message,
    "blob corrupt: my-part/0aff reason: invalid magic: expected [67, 87, 73, 67], found [88, 88, 88, 88]",
  );
  assert.equal(err.expected, undefined);
  assert.equal(err.found, undefined);
});

test("validateHeader: a magic differing in any single byte is rejected", () => {
  for (let i = 0; i < 4; i++) {
    const bytes = encodeHeader(5);
    bytes[i] ^= 0x01;
    const err = thrown(() => validateHeader(bytes, { min: 5, max: 5 }, "p", "00"));
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, "BlobCorrupt");
    assert.match(err.reason ?? "", /^invalid magic: expected \[67, 87, 73, 67\], found \[/);
  }
});

test("validateHeader: all-zero header is an invalid magic", () => {
  const err = thrown(() => validateHeader(new Uint8Array(8), { min: 0, max: 0 }, "p", "01"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.reason, "invalid magic: expected [67, 87, 73, 67], found [0, 0, 0, 0]");
});

test("validateHeader: runtime version 99 is BlobCorrupt with exact reason", () => {
  const err = thrown(() => validateHeader(raw(CWIC, 99, 5), { min: 3, max: 7 }, "part", "6162"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.partition, "part");
  assert.equal(err.blob, "6162");
  assert.equal(err.reason, "unsupported runtime version: expected 0, found 99");
  assert.equal(
    err.message,
    "blob corrupt: part/6162 reason: unsupported runtime version: expected 0, found 99",
  );
});

test("validateHeader: runtime version in the high byte is read big-endian", () => {
  const err = thrown(() => validateHeader(raw(CWIC, 0x0100, 5), { min: 5, max: 5 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.reason, "unsupported runtime version: expected 0, found 256");
});

test("validateHeader: magic is checked before runtime version", () => {
  const err = thrown(() =>
    validateHeader(raw([88, 88, 88, 88], 99, 5), { min: 3, max: 7 }, "p", "00")
  );
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.match(err.reason ?? "", /^invalid magic/);
});

test("validateHeader: runtime version is checked before blob version", () => {
  const err = thrown(() => validateHeader(raw(CWIC, 99, 10), { min: 3, max: 7 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.reason, "unsupported runtime version: expected 0, found 99");
});

test("validateHeader: magic is checked before blob version", () => {
  const err = thrown(() =>
    validateHeader(raw([88, 88, 88, 88], 0, 10), { min: 3, max: 7 }, "p", "00")
  );
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
});

test("validateHeader: blob version above range is BlobVersionMismatch", () => {
  const err = thrown(() => validateHeader(encodeHeader(10), { min: 3, max: 7 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobVersionMismatch");
  assert.deepEqual(err.expected, { min: 3, max: 7 });
  assert.equal(err.found, 10);
  assert.equal(err.message, "blob version mismatch: expected one of 3..=7, found 10");
});

test("validateHeader: blob version below range is BlobVersionMismatch", () => {
  const err = thrown(() => validateHeader(encodeHeader(2), { min: 3, max: 7 }, "p", "00"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobVersionMismatch");
  assert.deepEqual(err.expected, { min: 3, max: 7 });
  assert.equal(err.found, 2);
  assert.equal(err.message, "blob version mismatch: expected one of 3..=7, found 2");
});

test("validateHeader: just outside each boundary is rejected", () => {
  for (const v of [2, 8]) {
    assert.throws(
      () => validateHeader(encodeHeader(v), { min: 3, max: 7 }, "p", "00"),
      { code: "BlobVersionMismatch", found: v },
    );
  }
  assert.throws(
    () => validateHeader(encodeHeader(0xffff), { min: 0, max: 0xfffe }, "p", "00"),
    { code: "BlobVersionMismatch", found: 0xffff },
  );
  assert.throws(
    () => validateHeader(encodeHeader(0), { min: 1, max: 0xffff }, "p", "00"),
    { code: "BlobVersionMismatch", found: 0 },
  );
});

test("validateHeader: min and max boundaries are accepted", () => {
  const range = { min: 3, max: 7 };
  for (let v = 3; v <= 7; v++) assert.equal(validateHeader(encodeHeader(v), range, "p", "00"), v);
  assert.equal(validateHeader(encodeHeader(0), { min: 0, max: 0 }, "p", "00"), 0);
  assert.equal(validateHeader(encodeHeader(0xffff), { min: 0, max: 0xffff }, "p", "00"), 0xffff);
  assert.equal(validateHeader(encodeHeader(0), { min: 0, max: 0xffff }, "p", "00"), 0);
});

test("validateHeader: the mismatch error's expected is a copy of the range", () => {
  const range: VersionRange = { min: 3, max: 7 };
  const err = thrown(() => validateHeader(encodeHeader(9), range, "p", "00"));
  assert.ok(err instanceof StorageError);
  range.min = 0;
  assert.deepEqual(err.expected, { min: 3, max: 7 });
});

test("validateHeader: ignores bytes after the header", () => {
  const bytes = new Uint8Array([...encodeHeader(4), 0xde, 0xad]);
  assert.equal(validateHeader(bytes, { min: 4, max: 4 }, "p", "00"), 4);
});

test("validateHeader: fewer than 8 bytes throws RangeError, not StorageError", () => {
  const err = thrown(() => validateHeader(new Uint8Array(7), { min: 0, max: 0 }, "p", "00"));
  assert.ok(err instanceof RangeError);
  assert.ok(!(err instanceof StorageError));
});

// checkVersionRange

test("checkVersionRange: valid ranges are returned as is", () => {
  for (
    const r of [
      { min: 0, max: 0 },
      { min: 1, max: 2 },
      { min: 5, max: 5 },
      { min: 0, max: 0xffff },
      { min: 0xffff, max: 0xffff },
    ]
  ) {
    assert.equal(checkVersionRange(r), r);
  }
});

test("checkVersionRange: non-object throws TypeError", () => {
  for (const v of [null, undefined, 1, "0..=1", true]) {
    assert.throws(() => checkVersionRange(v as unknown as VersionRange), TypeError, String(v));
  }
});

test("checkVersionRange: non-number min or max throws TypeError", () => {
  assert.throws(() => checkVersionRange({} as VersionRange), TypeError);
  assert.throws(() => checkVersionRange({ max: 1 } as VersionRange), TypeError);
  assert.throws(() => checkVersionRange({ min: 0 } as VersionRange), TypeError);
  assert.throws(
    () => checkVersionRange({ min: "0", max: 1 } as unknown as VersionRange),
    TypeError,
  );
  assert.throws(
    () => checkVersionRange({ min: 0, max: 1n } as unknown as VersionRange),
    TypeError,
  );
});

test("checkVersionRange: min out of u16 range throws RangeError", () => {
  for (const min of [-1, 1.5, NaN, Infinity, 65536]) {
    assert.throws(() => checkVersionRange({ min, max: 0xffff }), RangeError, String(min));
  }
});

test("checkVersionRange: max out of u16 range throws RangeError", () => {
  for (const max of [-1, 1.5, NaN, Infinity, 65536]) {
    assert.throws(() => checkVersionRange({ min: 0, max }), RangeError, String(max));
  }
});

test("checkVersionRange: min > max throws RangeError", () => {
  assert.throws(() => checkVersionRange({ min: 2, max: 1 }), RangeError);
  assert.throws(() => checkVersionRange({ min: 0xffff, max: 0 }), RangeError);
});

test("checkVersionRange: min is checked before max", () => {
  // min has a type error, max a range error: the TypeError of min wins.
  assert.throws(
    () => checkVersionRange({ min: "x", max: -1 } as unknown as VersionRange),
    TypeError,
  );
  // min has a range error, max a type error: the RangeError of min wins.
  assert.throws(
    () => checkVersionRange({ min: -1, max: "x" } as unknown as VersionRange),
    RangeError,
  );
});

test("checkVersionRange: errors are not StorageError", () => {
  assert.ok(!(thrown(() => checkVersionRange({ min: 2, max: 1 })) instanceof StorageError));
});
