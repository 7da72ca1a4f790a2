import { test } from "node:test";
import assert from "node:assert/strict";
import { thrown } from "./assert.ts";
import {
  checkLayout,
  checkVersionRange,
  classifyHeader,
  createHeader,
  dataOffset,
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  HEADER_SIZE_V1,
  type HeaderClass,
  isTornCreation,
  MAGIC,
  MAGIC_V1,
  resolveHeader,
  RUNTIME_VERSION,
  RUNTIME_VERSION_V1,
  validateHeader,
} from "../core/header.ts";
import { crc32c } from "../core/crc32c.ts";
import { StorageError } from "../core/errors.ts";
import type { VersionRange } from "../core/types.ts";
import { slow } from "./limits.ts";

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

slow.test("header: every u16 version round trips", () => {
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
  assert.equal(err.reason, "invalid magic: found [88, 88, 88, 88]");
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
  assert.equal(err.reason, "invalid magic: found [88, 88, 88, 88]");
  assert.equal(
    err.message,
    "blob corrupt: my-part/0aff reason: invalid magic: found [88, 88, 88, 88]",
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
    assert.match(err.reason ?? "", /^invalid magic: found \[/);
  }
});

test("validateHeader: all-zero header is an invalid magic", () => {
  const err = thrown(() => validateHeader(new Uint8Array(8), { min: 0, max: 0 }, "p", "01"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobCorrupt");
  assert.equal(err.reason, "invalid magic: found [0, 0, 0, 0]");
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

// ---- V1 (commonware main): ports of storage/header.rs's tests, and the rest ----

const CWIK = [0x43, 0x57, 0x49, 0x4b];

/** A V0 blob file: the 8-byte header, then `payload` (Rust's `v0_blob_bytes`). */
function v0Bytes(version: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new Uint8Array([...encodeHeader(version), ...payload]);
}

/** A V1 blob file: the 4096-byte region, then `payload` (Rust's `v1_blob_bytes`), built by hand. */
function v1Bytes(version: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE_V1 + payload.length);
  out.set([...CWIK, 0, 1, version >> 8, version & 0xff]);
  new DataView(out.buffer).setUint32(8, crc32c(out.subarray(0, 8)));
  out.set(payload, HEADER_SIZE_V1);
  return out;
}

/** `raw` with byte `i` set to `value`. */
function withByte(raw: Uint8Array, i: number, value: number): Uint8Array {
  const out = raw.slice();
  out[i] = value;
  return out;
}

/** The status and reason `classifyHeader` gives the whole file `raw`. */
function classify(raw: Uint8Array): [string, string | undefined] {
  const h: HeaderClass = classifyHeader(raw.subarray(0, HEADER_SIZE_V1), raw.length);
  return [h.status, "reason" in h ? h.reason : undefined];
}

const ANY = { min: 0, max: 0xffff };

test("header: V1 constants, layouts and data offsets", () => {
  assert.deepEqual(MAGIC_V1, new Uint8Array(CWIK));
  assert.equal(new TextDecoder().decode(MAGIC_V1), "CWIK");
  assert.equal(RUNTIME_VERSION_V1, 1);
  assert.equal(HEADER_SIZE_V1, 4096);
  assert.equal(dataOffset("v0"), 8);
  assert.equal(dataOffset("v1"), 4096);
  assert.equal(checkLayout(undefined), "v0");
  assert.equal(checkLayout("v0"), "v0");
  assert.equal(checkLayout("v1"), "v1");
  for (const bad of ["V1", "v2", "", "1"]) {
    assert.throws(() => checkLayout(bad as never), RangeError, bad);
  }
  for (const bad of [1, null, {}, true]) assert.throws(() => checkLayout(bad as never), TypeError);
});

test("rust: test_header_create_v1", () => {
  const region = createHeader("v1", 7);
  assert.equal(region.length, HEADER_SIZE_V1);
  assert.ok(region.subarray(12).every((b) => b === 0), "padding is zero");
  assert.deepEqual(resolveHeader(region, region.length, { min: 0, max: 7 }, "p", "00"), {
    layout: "v1",
    version: 7,
    dataOffset: 4096,
    size: 0,
  });
  assert.deepEqual(region, v1Bytes(7), "the same bytes as built by hand");
});

test("rust: test_header_v1_fixture_bytes", () => {
  const region = createHeader("v1", 3);
  const expected = new Uint8Array([...CWIK, 0x00, 0x01, 0x00, 0x03]);
  assert.deepEqual(region.subarray(0, 8), expected);
  assert.equal(new DataView(region.buffer).getUint32(8), crc32c(expected));
});

test("header: commonware's worked V1 headers, bytes 0-11", () => {
  const cases: [number, number[]][] = [
    [0, [0x43, 0x57, 0x49, 0x4b, 0x00, 0x01, 0x00, 0x00, 0x28, 0x13, 0xd8, 0xdc]],
    [1, [0x43, 0x57, 0x49, 0x4b, 0x00, 0x01, 0x00, 0x01, 0xda, 0x78, 0x5b, 0xdf]],
    [3, [0x43, 0x57, 0x49, 0x4b, 0x00, 0x01, 0x00, 0x03, 0x3b, 0x43, 0x2b, 0x28]],
    [7, [0x43, 0x57, 0x49, 0x4b, 0x00, 0x01, 0x00, 0x07, 0xfc, 0xd9, 0xbc, 0x37]],
    [65535, [0x43, 0x57, 0x49, 0x4b, 0x00, 0x01, 0xff, 0xff, 0x26, 0x8d, 0xaf, 0x0e]],
  ];
  for (const [version, bytes] of cases) {
    const region = createHeader("v1", version);
    assert.deepEqual(region.subarray(0, 12), new Uint8Array(bytes), `version ${version}`);
    assert.equal(region.length, 4096);
  }
});

test("header: createHeader v0 is encodeHeader; bad versions and layouts throw", () => {
  for (const v of [0, 1, 0x0102, 0xffff]) assert.deepEqual(createHeader("v0", v), encodeHeader(v));
  assert.throws(() => createHeader("v1", 65536), RangeError);
  assert.throws(() => createHeader("v1", -1), RangeError);
  assert.throws(() => createHeader("v1", "1" as never), TypeError);
  assert.throws(() => createHeader("v3" as never, 1), RangeError);
  const a = createHeader("v1", 1);
  a[0] = 0;
  assert.equal(createHeader("v1", 1)[0], 0x43, "a fresh region each call");
});

test("rust: test_header_extension_rejects_bad_crc", () => {
  const region = withByte(createHeader("v1", 0), 11, createHeader("v1", 0)[11]! ^ 0x01);
  assert.deepEqual(classify(region), ["bad checksum", "invalid header checksum"]);
  assert.throws(() => resolveHeader(region, region.length, { min: 0, max: 0 }, "p", "00"), {
    code: "BlobCorrupt",
    reason: "invalid header checksum",
  });
});

test("rust: test_header_extension_rejects_truncated_region", () => {
  const region = createHeader("v1", 0).subarray(0, 4095);
  const reason = "truncated header: required length 4096, raw length 4095";
  // Parsing alone says truncated; that is also a torn creation, which open heals.
  assert.deepEqual(classify(region), ["torn", reason]);
  assert.throws(() => validateHeader(region, { min: 0, max: 0 }, "p", "00"), {
    code: "BlobCorrupt",
    reason,
  });
  assert.equal(resolveHeader(region, 4095, { min: 0, max: 0 }, "p", "00"), undefined);
});

test("rust: test_header_v1_rejects_nonzero_padding", () => {
  const region = withByte(createHeader("v1", 0), 12, 0x01);
  assert.deepEqual(classify(region), ["bad padding", "invalid header padding"]);
  assert.throws(() => resolveHeader(region, region.length, { min: 0, max: 0 }, "p", "00"), {
    code: "BlobCorrupt",
    reason: "invalid header padding",
  });
});

test("rust: test_header_error_messages", () => {
  const at12 = (raw: Uint8Array, length: number) => {
    const out = new Uint8Array(length);
    out.set(raw.subarray(0, 12));
    out[50] = 1; // not a torn creation: non-zero past the checked bytes
    return out;
  };
  const cases: [string, Uint8Array, string][] = [
    ["magic", withByte(v1Bytes(5), 0, 0x58), "invalid magic: found [88, 87, 73, 75]"],
    [
      "runtime",
      withByte(withByte(v1Bytes(5), 5, 0), 100, 1),
      "unsupported runtime version: expected 1, found 0",
    ],
    ["checksum", withByte(v1Bytes(5), 9, 0), "invalid header checksum"],
    ["padding", withByte(v1Bytes(5), 12, 1), "invalid header padding"],
    ["truncated", at12(v1Bytes(5), 100), "truncated header: required length 4096, raw length 100"],
  ];
  for (const [label, raw, reason] of cases) {
    const err = thrown(() =>
      resolveHeader(raw.subarray(0, 4096), raw.length, ANY, "partition", "6e")
    );
    assert.ok(err instanceof StorageError, label);
    assert.equal(err.code, "BlobCorrupt", label);
    assert.equal(err.partition, "partition", label);
    assert.equal(err.blob, "6e", label);
    assert.equal(err.reason, reason, label);
    assert.equal(err.message, `blob corrupt: partition/6e reason: ${reason}`, label);
  }
  const err = thrown(() => resolveHeader(v1Bytes(10), 4096, { min: 3, max: 7 }, "partition", "6e"));
  assert.ok(err instanceof StorageError);
  assert.equal(err.code, "BlobVersionMismatch");
  assert.deepEqual(err.expected, { min: 3, max: 7 });
  assert.equal(err.found, 10);
  assert.equal(err.partition, "partition");
  assert.equal(err.blob, "6e");
});

test("rust: test_header_error_torn_creation_candidates", () => {
  // Each failure a torn write can produce heals when the bytes are a creation prefix.
  const region = createHeader("v1", 5);
  const candidates: [string, Uint8Array, string][] = [
    ["invalid magic", new Uint8Array(8), "invalid magic: found [0, 0, 0, 0]"],
    [
      "unsupported runtime version",
      new Uint8Array([...CWIK, 0, 0, 0, 0]),
      "unsupported runtime version: expected 1, found 0",
    ],
    [
      "invalid checksum",
      (() => {
        const out = region.slice(0, 12);
        out.fill(0, 10);
        return out;
      })(),
      "invalid header checksum",
    ],
    [
      "truncated",
      region.slice(0, 10),
      "truncated header: required length 12, raw length 10",
    ],
  ];
  for (const [label, raw, reason] of candidates) {
    assert.deepEqual(classify(raw), ["torn", reason], label);
    assert.equal(resolveHeader(raw, raw.length, { min: 0, max: 0 }, "p", "00"), undefined, label);
  }
  // A padding failure or a version mismatch never heals: both need a complete, checked header.
  assert.deepEqual(classify(withByte(region, 4095, 1)), ["bad padding", "invalid header padding"]);
  assert.ok(isTornCreation(region), "the full region is a creation's shape");
  assert.throws(() => resolveHeader(region, 4096, { min: 0, max: 4 }, "p", "00"), {
    code: "BlobVersionMismatch",
    found: 5,
  });
});

test("rust: test_header_magic_zero_subset_is_invalid", () => {
  for (const magic of [MAGIC, MAGIC_V1]) {
    for (let i = 0; i < 4; i++) {
      const raw = new Uint8Array(16);
      raw.set(magic);
      raw[i] = 0;
      raw[15] = 1; // never torn
      const [status, reason] = classify(raw);
      assert.equal(status, "bad magic", `${magic} byte ${i}`);
      assert.match(reason!, /^invalid magic: found \[/);
    }
  }
});

test("rust: test_header_torn_v1_does_not_parse_as_v0", () => {
  const raw = new Uint8Array([...CWIK, 0, 0, 0, 5, 0, 0, 0, 1]); // rv zeroed, something after
  const h = classifyHeader(raw);
  assert.deepEqual(h, {
    status: "bad runtime version",
    layout: "v1",
    version: 5,
    reason: "unsupported runtime version: expected 1, found 0",
  });
});

test("rust: test_header_v0_blob_version_out_of_range", () => {
  const raw = v0Bytes(10);
  assert.throws(() => resolveHeader(raw, raw.length, { min: 3, max: 7 }, "p", "00"), {
    code: "BlobVersionMismatch",
    expected: { min: 3, max: 7 },
    found: 10,
  });
  assert.deepEqual(
    resolveHeader(v0Bytes(5, new Uint8Array(3)), 11, { min: 3, max: 7 }, "p", "00"),
    {
      layout: "v0",
      version: 5,
      dataOffset: 8,
      size: 3,
    },
  );
});

test("rust: test_header_v1_blob_version_checked_after_crc", () => {
  const raw = v1Bytes(10);
  assert.throws(() => resolveHeader(raw, raw.length, { min: 3, max: 7 }, "p", "00"), {
    code: "BlobVersionMismatch",
    expected: { min: 3, max: 7 },
    found: 10,
  });
  const torn = withByte(raw, 7, 0);
  assert.deepEqual(classify(torn), ["bad checksum", "invalid header checksum"]);
  assert.throws(() => resolveHeader(torn, torn.length, { min: 3, max: 7 }, "p", "00"), {
    code: "BlobCorrupt",
    reason: "invalid header checksum",
  });
});

/** Rust's accepts table: what an interrupted V1 creation can leave. */
function tornStates(): [string, Uint8Array][] {
  const region = v1Bytes(5);
  const prefixPersisted = new Uint8Array(region.length);
  prefixPersisted.set(region.subarray(0, 10));
  const rotted = v0Bytes(0, new Uint8Array(100));
  rotted[3] = 0;
  return [
    ["only sizes flushed", new Uint8Array(region.length)],
    ["sub-prelude fragment", new Uint8Array(3)],
    ["prefix of the magic", region.slice(0, 2)],
    ["prefix ending in the version bytes", region.slice(0, 8)],
    ["prefix ending mid-CRC", region.slice(0, 10)],
    ["full region", region.slice()],
    ["torn after the prelude, CRC unwritten", region.slice().fill(0, 8, 12)],
    ["prefix with a persisted length", prefixPersisted],
    ["documented residual: V0 blob rotted into a canonical prefix", rotted],
  ];
}

/** Rust's rejects table: bytes that must stay a loud corruption. */
function foreignStates(): [string, Uint8Array][] {
  const region = v1Bytes(5);
  const crcRot = region.slice();
  crcRot[9] = Math.max(1, (crcRot[9]! + 1) % 256);
  const v0Stamp = new Uint8Array([...encodeHeader(5), ...new Uint8Array(100)]);
  v0Stamp[3] = 0;
  const v0Payload = new Uint8Array([...encodeHeader(5), 0xaa, 0xbb]);
  v0Payload[3] = 0;
  return [
    ["non-canonical magic byte", withByte(region, 0, 0x58)],
    ["non-canonical runtime version", withByte(region, 4, 0x02)],
    ["magic byte lost with later bytes persisted", withByte(region, 3, 0)],
    ["runtime version byte lost with later bytes persisted", withByte(region, 5, 0)],
    ["CRC that does not match its own prelude", crcRot],
    ["nonzero padding", withByte(region, 100, 0xff)],
    ["data past the header region", new Uint8Array([...region, 1])],
    ["rotted-magic V0 blob with its version stamp", v0Stamp],
    ["rotted-magic V0 blob with payload", v0Payload],
    ["all zeros, one byte longer than the creation region", new Uint8Array(4097)],
    [
      "zero payload past the header region, CRC lost",
      v1Bytes(5, new Uint8Array(100)).fill(0, 8, 12),
    ],
  ];
}

test("rust: test_header_interrupted_v1_creation_accepts_torn_states", () => {
  for (const [label, raw] of tornStates()) assert.ok(isTornCreation(raw), label);
});

test("rust: test_layout_v0_interrupted_creation_rejects_all (V0 headers are never torn)", () => {
  const region = createHeader("v1", 0);
  assert.ok(isTornCreation(region.subarray(0, 10)));
  for (const v of [0, 5, 0xffff]) {
    assert.ok(!isTornCreation(encodeHeader(v)), `V0 header, version ${v}`);
    assert.equal(classifyHeader(encodeHeader(v)).status, "ok");
  }
  assert.ok(!isTornCreation(encodeHeader(0).subarray(0, 4)), "CWIC is not a V1 prefix");
});

test("rust: test_header_interrupted_v1_creation_rejects_foreign_bytes", () => {
  for (const [label, raw] of foreignStates()) assert.ok(!isTornCreation(raw), label);
});

test("classifyHeader: every torn state of 8 bytes or more is torn; the foreign ones are not", () => {
  for (const [label, raw] of tornStates()) {
    const [status] = classify(raw);
    const expected = raw.length < 8 ? "short" : label === "full region" ? "ok" : "torn";
    assert.equal(status, expected, label);
  }
  const expected: Record<string, [string, string | undefined]> = {
    "non-canonical magic byte": ["bad magic", "invalid magic: found [88, 87, 73, 75]"],
    "non-canonical runtime version": [
      "bad runtime version",
      "unsupported runtime version: expected 1, found 513",
    ],
    "magic byte lost with later bytes persisted": [
      "bad magic",
      "invalid magic: found [67, 87, 73, 0]",
    ],
    "runtime version byte lost with later bytes persisted": [
      "bad runtime version",
      "unsupported runtime version: expected 1, found 0",
    ],
    "CRC that does not match its own prelude": ["bad checksum", "invalid header checksum"],
    "nonzero padding": ["bad padding", "invalid header padding"],
    "data past the header region": ["ok", undefined],
    "rotted-magic V0 blob with its version stamp": [
      "bad magic",
      "invalid magic: found [67, 87, 73, 0]",
    ],
    "rotted-magic V0 blob with payload": ["bad magic", "invalid magic: found [67, 87, 73, 0]"],
    "all zeros, one byte longer than the creation region": [
      "bad magic",
      "invalid magic: found [0, 0, 0, 0]",
    ],
    "zero payload past the header region, CRC lost": ["bad checksum", "invalid header checksum"],
  };
  for (const [label, raw] of foreignStates()) {
    assert.deepEqual(classify(raw), expected[label], label);
  }
});

test("classifyHeader: V1 statuses carry the layout and version; short and torn carry neither", () => {
  assert.deepEqual(classifyHeader(v1Bytes(9, new Uint8Array(5))), {
    status: "ok",
    layout: "v1",
    version: 9,
  });
  assert.deepEqual(classifyHeader(withByte(v1Bytes(9), 12, 1)), {
    status: "bad padding",
    layout: "v1",
    version: 9,
    reason: "invalid header padding",
  });
  const truncated = v1Bytes(9).slice(0, 11);
  truncated[10]! ^= 0xff; // not the CRC's prefix: not a torn creation
  assert.deepEqual(classifyHeader(truncated), {
    status: "truncated",
    layout: "v1",
    version: 9,
    reason: "truncated header: required length 12, raw length 11",
  });
  assert.deepEqual(classifyHeader(new Uint8Array(5)), {
    status: "short",
    reason: "truncated header: required length 8, raw length 5",
  });
  assert.deepEqual(classifyHeader(new Uint8Array(8)), {
    status: "torn",
    reason: "invalid magic: found [0, 0, 0, 0]",
  });
});

test("classifyHeader: the first min(length, 4096) bytes are needed, more are ignored", () => {
  const file = v1Bytes(2, new Uint8Array(10_000).fill(7));
  assert.equal(classifyHeader(file.subarray(0, 4096), file.length).status, "ok");
  assert.equal(classifyHeader(file).status, "ok");
  assert.throws(() => classifyHeader(file.subarray(0, 4095), file.length), RangeError);
  assert.throws(() => classifyHeader(file.subarray(0, 8), file.length), RangeError);
  assert.throws(() => classifyHeader(file.subarray(0, 100), 50), RangeError);
  // A V0 blob of any length is read from its first 4096 bytes (or all of a smaller file).
  const v0 = v0Bytes(1, new Uint8Array(5000));
  assert.deepEqual(classifyHeader(v0.subarray(0, 4096), v0.length), {
    status: "ok",
    layout: "v0",
    version: 1,
  });
});

test("resolveHeader: short and torn files are new, sound ones give layout, version and size", () => {
  const range = { min: 1, max: 2 };
  for (let n = 0; n < 8; n++) {
    assert.equal(resolveHeader(new Uint8Array(n).fill(0xee), n, range, "p", "00"), undefined);
  }
  for (const [label, raw] of tornStates()) {
    if (label === "full region") continue;
    assert.equal(resolveHeader(raw.subarray(0, 4096), raw.length, range, "p", "00"), undefined);
  }
  const v1 = v1Bytes(2, new Uint8Array(123));
  assert.deepEqual(resolveHeader(v1.subarray(0, 4096), v1.length, range, "p", "00"), {
    layout: "v1",
    version: 2,
    dataOffset: 4096,
    size: 123,
  });
  const v0 = v0Bytes(1, new Uint8Array(4200));
  assert.deepEqual(resolveHeader(v0.subarray(0, 4096), v0.length, range, "p", "00"), {
    layout: "v0",
    version: 1,
    dataOffset: 8,
    size: 4200,
  });
  for (const [label, raw] of foreignStates()) {
    if (label === "data past the header region") continue;
    assert.throws(
      () => resolveHeader(raw.subarray(0, 4096), raw.length, ANY, "p", "00"),
      { code: "BlobCorrupt" },
      label,
    );
  }
});
