import { test } from "node:test";
import assert from "node:assert/strict";
import { thrown } from "./assert.ts";
import {
  blobNameBytes,
  compareBytes,
  fromHex,
  isPartitionName,
  toHex,
  validatePartitionName,
} from "../core/names.ts";
import { StorageError } from "../core/errors.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

// validatePartitionName

for (const name of ["partition", "my_partition", "my-partition", "partition123", "A1"]) {
  test(`validatePartitionName: accepts ${JSON.stringify(name)}`, () => {
    assert.equal(validatePartitionName(name), undefined);
  });
}

test("validatePartitionName: accepts single characters and every allowed class", () => {
  for (const name of ["a", "Z", "0", "9", "-", "_", "--", "__", "aZ09-_", "ALLCAPS"]) {
    assert.doesNotThrow(() => validatePartitionName(name), name);
  }
  const all = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  assert.doesNotThrow(() => validatePartitionName(all));
  assert.doesNotThrow(() => validatePartitionName("x".repeat(255)));
});

test("validatePartitionName: at most 255 characters; longer is PartitionNameInvalid", () => {
  for (const name of ["x".repeat(256), "a-".repeat(200), "x".repeat(100_000)]) {
    assert.throws(
      () => validatePartitionName(name),
      { code: "PartitionNameInvalid", partition: name },
      `${name.length} characters`,
    );
    assert.equal(isPartitionName(name), false);
  }
  assert.equal(isPartitionName("x".repeat(255)), true);
});

for (
  const name of [
    "my/partition",
    "my.partition",
    "my partition",
    "../escape",
    "",
    "é",
    "a\u0000",
  ]
) {
  test(`validatePartitionName: rejects ${JSON.stringify(name)} with PartitionNameInvalid`, () => {
    const err = thrown(() => validatePartitionName(name));
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, "PartitionNameInvalid");
    assert.equal(err.partition, name);
    assert.equal(
      err.message,
      "partition name invalid, must only contain alphanumeric, dash ('-'), or underscore ('_') characters: " +
        name,
    );
  });
}

test("validatePartitionName: rejects other separators, controls and non-ASCII", () => {
  for (
    const name of [
      "a\\b",
      "a:b",
      ".",
      "..",
      "a\n",
      "\na",
      "a\tb",
      "a+b",
      "a*b",
      "a%2fb",
      "p\u00e9",
      "\u0661", // ARABIC-INDIC DIGIT ONE: a Unicode digit, not an ASCII one
      "\uff21", // FULLWIDTH LATIN CAPITAL LETTER A
      "a\u200b", // ZERO WIDTH SPACE
      "a\u{1f600}",
      " a",
      "a ",
    ]
  ) {
    assert.throws(
      () => validatePartitionName(name),
      { code: "PartitionNameInvalid", partition: name },
      JSON.stringify(name),
    );
  }
});

test("validatePartitionName: non-string throws TypeError, not StorageError", () => {
  for (const v of [undefined, null, 1, 1n, true, {}, ["p"], new Uint8Array([0x70])]) {
    const err = thrown(() => validatePartitionName(v as unknown as string));
    assert.ok(err instanceof TypeError, String(v));
    assert.ok(!(err instanceof StorageError));
  }
});

// blobNameBytes

test("blobNameBytes: a string becomes its UTF-8 bytes", () => {
  assert.deepEqual(blobNameBytes("ab"), bytes(0x61, 0x62));
  assert.deepEqual(blobNameBytes("test_blob"), new TextEncoder().encode("test_blob"));
  assert.deepEqual(blobNameBytes("é"), bytes(0xc3, 0xa9));
  assert.deepEqual(blobNameBytes("\u{1f600}"), bytes(0xf0, 0x9f, 0x98, 0x80));
  assert.deepEqual(blobNameBytes("\u0000"), bytes(0));
  assert.deepEqual(blobNameBytes("../x"), bytes(0x2e, 0x2e, 0x2f, 0x78));
});

test("blobNameBytes: a string's result is a plain Uint8Array", () => {
  assert.equal(blobNameBytes("x").constructor, Uint8Array);
});

test("blobNameBytes: a Uint8Array is passed through as the same object", () => {
  for (const name of [bytes(1), bytes(0, 255, 0), new Uint8Array(127)]) {
    assert.equal(blobNameBytes(name), name);
  }
  const sub = bytes(9, 1, 2, 9).subarray(1, 3);
  assert.equal(blobNameBytes(sub), sub);
});

test("blobNameBytes: at most 127 bytes; longer throws RangeError, not StorageError", () => {
  assert.equal(blobNameBytes("x".repeat(127)).length, 127);
  assert.equal(blobNameBytes(new Uint8Array(127)).length, 127);
  for (
    const name of [
      "x".repeat(128),
      "\u00e9".repeat(64), // 64 UTF-16 units, 128 UTF-8 bytes
      "\u{1f600}".repeat(32), // 64 UTF-16 units, 128 UTF-8 bytes
      "x".repeat(1_000_000),
      new Uint8Array(128),
      new Uint8Array(1 << 20),
    ]
  ) {
    const err = thrown(() => blobNameBytes(name));
    assert.ok(err instanceof RangeError, `${name.length}`);
  }
  assert.equal(blobNameBytes("\u00e9".repeat(63) + "x").length, 127);
});

test("blobNameBytes: a string with a lone surrogate throws TypeError", () => {
  for (const name of ["\ud800", "\udfff", "a\ud83d", "\ude00a", "\ude00\ud83d", "x\ud800y"]) {
    const err = thrown(() => blobNameBytes(name));
    assert.ok(err instanceof TypeError, JSON.stringify(name));
    assert.ok(!(err instanceof StorageError));
  }
  // A well-formed pair is one code point, four UTF-8 bytes.
  assert.deepEqual(blobNameBytes("\ud83d\ude00"), bytes(0xf0, 0x9f, 0x98, 0x80));
});

test("blobNameBytes: the result's type follows the input's memory", () => {
  const fromString: Uint8Array<ArrayBuffer> = blobNameBytes("a");
  const own: Uint8Array<ArrayBuffer> = blobNameBytes(new Uint8Array([1]));
  const loose: Uint8Array = blobNameBytes(new Uint8Array([1]) as Uint8Array);
  assert.equal(fromString.buffer.constructor, ArrayBuffer);
  assert.equal(own.length + loose.length, 2);
});

test("blobNameBytes: an empty name throws RangeError", () => {
  assert.throws(() => blobNameBytes(""), RangeError);
  assert.throws(() => blobNameBytes(new Uint8Array(0)), RangeError);
  assert.throws(() => blobNameBytes(bytes(1, 2).subarray(1, 1)), RangeError);
  assert.ok(!(thrown(() => blobNameBytes("")) instanceof StorageError));
});

test("blobNameBytes: other types throw TypeError", () => {
  for (
    const v of [
      undefined,
      null,
      1,
      1n,
      true,
      {},
      [1, 2],
      new ArrayBuffer(2),
      new Uint16Array(2),
      new Int8Array(2),
      new DataView(new ArrayBuffer(2)),
    ]
  ) {
    assert.throws(() => blobNameBytes(v as unknown as string), TypeError, String(v));
  }
});

// toHex / fromHex

test("toHex: bytes 0x00 and 0xff", () => {
  assert.equal(toHex(bytes(0x00)), "00");
  assert.equal(toHex(bytes(0xff)), "ff");
  assert.equal(toHex(bytes(0x00, 0xff)), "00ff");
  assert.equal(toHex(bytes(0, 15, 16, 255)), "000f10ff");
});

test("toHex: empty input is the empty string", () => {
  assert.equal(toHex(new Uint8Array(0)), "");
});

test("toHex: lowercase, two digits per byte, for every byte value", () => {
  for (let b = 0; b < 256; b++) {
    const hex = toHex(bytes(b));
    assert.equal(hex, b.toString(16).padStart(2, "0"));
    assert.match(hex, /^[0-9a-f]{2}$/);
  }
});

test("toHex: blob names as on disk", () => {
  assert.equal(toHex(blobNameBytes("test_blob")), "746573745f626c6f62");
  assert.equal(toHex(blobNameBytes("ab")), "6162");
});

test("toHex: honours subarray offsets", () => {
  assert.equal(toHex(bytes(1, 2, 3, 4).subarray(1, 3)), "0203");
});

test("fromHex: 00 and ff", () => {
  assert.deepEqual(fromHex("00"), bytes(0x00));
  assert.deepEqual(fromHex("ff"), bytes(0xff));
  assert.deepEqual(fromHex("00ff"), bytes(0x00, 0xff));
  assert.deepEqual(fromHex("0aff"), bytes(10, 255));
});

test("fromHex: returns a plain Uint8Array", () => {
  assert.equal(fromHex("ab")?.constructor, Uint8Array);
});

test("toHex/fromHex: round trip of all 256 byte values", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const hex = toHex(all);
  assert.equal(hex.length, 512);
  assert.deepEqual(fromHex(hex), all);
  for (let b = 0; b < 256; b++) {
    assert.deepEqual(fromHex(toHex(bytes(b))), bytes(b));
  }
});

test("fromHex: rejects uppercase", () => {
  assert.equal(fromHex("FF"), undefined);
  assert.equal(fromHex("0AFF"), undefined);
  assert.equal(fromHex("aB"), undefined);
  assert.equal(fromHex("00ff00fF"), undefined);
});

test("fromHex: rejects odd length", () => {
  for (const s of ["0", "abc", "00f", "0".repeat(511)]) assert.equal(fromHex(s), undefined, s);
});

test("fromHex: rejects the empty string", () => {
  assert.equal(fromHex(""), undefined);
});

test("fromHex: rejects non-hex characters", () => {
  for (
    const s of [
      "gg",
      "0g",
      "zz",
      "0x00",
      "00 ",
      " 00",
      "0 0",
      "00\n",
      "\n00",
      "-1",
      "+1",
      "..",
      "00.tmp",
      "ab/c",
      "\u0660\u0661",
      "\uff10\uff10",
    ]
  ) {
    assert.equal(fromHex(s), undefined, JSON.stringify(s));
  }
});

// compareBytes

test("compareBytes: equal byte strings compare as 0", () => {
  assert.equal(compareBytes(new Uint8Array(0), new Uint8Array(0)), 0);
  assert.equal(compareBytes(bytes(1, 2, 3), bytes(1, 2, 3)), 0);
  const a = bytes(7);
  assert.equal(compareBytes(a, a), 0);
});

test("compareBytes: first differing byte decides, unsigned", () => {
  assert.ok(compareBytes(bytes(1), bytes(2)) < 0);
  assert.ok(compareBytes(bytes(2), bytes(1)) > 0);
  assert.ok(compareBytes(bytes(0, 9, 9), bytes(1)) < 0);
  assert.ok(compareBytes(bytes(1, 2, 4), bytes(1, 3, 0)) < 0);
  assert.ok(compareBytes(bytes(0x7f), bytes(0x80)) < 0, "0x80 sorts after 0x7f (unsigned)");
  assert.ok(compareBytes(bytes(0xff), bytes(0x00)) > 0);
});

test("compareBytes: a prefix sorts before the longer string", () => {
  assert.ok(compareBytes(new Uint8Array(0), bytes(0)) < 0);
  assert.ok(compareBytes(bytes(0), new Uint8Array(0)) > 0);
  assert.ok(compareBytes(bytes(1), bytes(1, 0)) < 0);
  assert.ok(compareBytes(bytes(1, 0), bytes(1)) > 0);
  assert.ok(compareBytes(bytes(1, 2), bytes(1, 2, 0, 0)) < 0);
  // A longer string with a smaller byte still sorts first.
  assert.ok(compareBytes(bytes(1, 0, 255), bytes(1, 1)) < 0);
});

test("compareBytes: is antisymmetric", () => {
  const values = [
    new Uint8Array(0),
    bytes(0),
    bytes(0, 0),
    bytes(1),
    bytes(1, 0),
    bytes(1, 255),
    bytes(2),
    bytes(0x80),
    bytes(255, 255),
  ];
  for (const a of values) {
    for (const b of values) {
      assert.equal(Math.sign(compareBytes(a, b)) + Math.sign(compareBytes(b, a)), 0);
    }
  }
});

test("compareBytes: sorts names bytewise, like UTF-8 order", () => {
  const names = [
    bytes(2),
    bytes(1, 0),
    bytes(1),
    bytes(0xff),
    bytes(0x80),
    bytes(1, 0, 0),
    new Uint8Array(0),
    bytes(0),
  ];
  assert.deepEqual(names.sort(compareBytes), [
    new Uint8Array(0),
    bytes(0),
    bytes(1),
    bytes(1, 0),
    bytes(1, 0, 0),
    bytes(2),
    bytes(0x80),
    bytes(0xff),
  ]);
  const enc = new TextEncoder();
  const strs = ["blob2", "Blob", "blob10", "blob1", "é", "z", "blob"];
  const sorted = strs.map((s) => enc.encode(s)).sort(compareBytes).map((b) =>
    new TextDecoder().decode(b)
  );
  assert.deepEqual(sorted, ["Blob", "blob", "blob1", "blob10", "blob2", "z", "é"]);
});

test("compareBytes: sorting by bytes matches sorting by lowercase hex", () => {
  const names = [bytes(0x0a), bytes(0x01, 0xff), bytes(0xa0), bytes(0x01), bytes(0x10, 0x00)];
  const byBytes = [...names].sort(compareBytes).map(toHex);
  const byHex = names.map(toHex).sort();
  assert.deepEqual(byBytes, byHex);
});
