import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isStorageError,
  StorageError,
  type StorageErrorCode,
  type StorageErrorDetails,
} from "../core/errors.ts";

const ALL_CODES: StorageErrorCode[] = [
  "PartitionNameInvalid",
  "PartitionCreationFailed",
  "PartitionMissing",
  "PartitionCorrupt",
  "BlobOpenFailed",
  "BlobMissing",
  "BlobResizeFailed",
  "BlobSyncFailed",
  "BlobInsufficientLength",
  "BlobCorrupt",
  "BlobVersionMismatch",
  "OffsetOverflow",
  "ReadFailed",
  "WriteFailed",
  "Closed",
  "Io",
  "StorageLocked",
];

const FIELDS = ["partition", "blob", "expected", "found", "reason"] as const;

/** Checks the invariants every StorageError keeps, and that only `present` fields are set. */
function checkShape(
  err: StorageError,
  code: StorageErrorCode,
  message: string | undefined,
  present: ReadonlyArray<(typeof FIELDS)[number]>,
): void {
  assert.ok(err instanceof StorageError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "StorageError");
  assert.equal(err.code, code);
  if (message !== undefined) assert.equal(err.message, message);
  assert.equal(typeof err.stack, "string");
  for (const f of FIELDS) {
    assert.equal(Object.hasOwn(err, f), present.includes(f), `field ${f} of ${code}`);
    assert.equal(err[f] !== undefined, present.includes(f), `field ${f} of ${code}`);
  }
}

// Every code: message with full details

const os = new Error("ENOSPC: no space left on device");

const CASES: Array<{
  code: StorageErrorCode;
  details: StorageErrorDetails;
  message: string;
  present: Array<(typeof FIELDS)[number]>;
}> = [
  {
    code: "PartitionNameInvalid",
    details: { partition: "my/partition" },
    message:
      "partition name invalid, must only contain alphanumeric, dash ('-'), or underscore ('_') characters: my/partition",
    present: ["partition"],
  },
  {
    code: "PartitionCreationFailed",
    details: { partition: "p1", cause: os },
    message: "partition creation failed: p1",
    present: ["partition"],
  },
  {
    code: "PartitionMissing",
    details: { partition: "missing" },
    message: "partition missing: missing",
    present: ["partition"],
  },
  {
    code: "PartitionCorrupt",
    details: { partition: "p1", reason: "unexpected entry: notes.txt" },
    message: "partition corrupt: p1 reason: unexpected entry: notes.txt",
    present: ["partition", "reason"],
  },
  {
    code: "BlobOpenFailed",
    details: { partition: "p1", blob: "6162", cause: os },
    message: "blob open failed: p1/6162 error: ENOSPC: no space left on device",
    present: ["partition", "blob"],
  },
  {
    code: "BlobMissing",
    details: { partition: "p1", blob: "6162" },
    message: "blob missing: p1/6162",
    present: ["partition", "blob"],
  },
  {
    code: "BlobResizeFailed",
    details: { partition: "p1", blob: "00ff", cause: os },
    message: "blob resize failed: p1/00ff error: ENOSPC: no space left on device",
    present: ["partition", "blob"],
  },
  {
    code: "BlobSyncFailed",
    details: { partition: "p1", blob: "00ff", cause: os },
    message: "blob sync failed: p1/00ff error: ENOSPC: no space left on device",
    present: ["partition", "blob"],
  },
  {
    code: "BlobInsufficientLength",
    details: {},
    message: "blob insufficient length",
    present: [],
  },
  {
    code: "BlobCorrupt",
    details: { partition: "p1", blob: "00", reason: "invalid magic" },
    message: "blob corrupt: p1/00 reason: invalid magic",
    present: ["partition", "blob", "reason"],
  },
  {
    code: "BlobVersionMismatch",
    details: { expected: { min: 2, max: 3 }, found: 1 },
    message: "blob version mismatch: expected one of 2..=3, found 1",
    present: ["expected", "found"],
  },
  { code: "OffsetOverflow", details: {}, message: "offset overflow", present: [] },
  { code: "ReadFailed", details: {}, message: "read failed", present: [] },
  { code: "WriteFailed", details: {}, message: "write failed", present: [] },
  { code: "Closed", details: {}, message: "closed", present: [] },
  {
    code: "Io",
    details: { cause: os },
    message: "io error: ENOSPC: no space left on device",
    present: [],
  },
  {
    code: "StorageLocked",
    details: { partition: "p", blob: "62", reason: "locked by process 7" },
    message: "storage locked: locked by process 7",
    present: ["partition", "blob", "reason"],
  },
];

test("errors: the cases cover every StorageErrorCode exactly once", () => {
  assert.deepEqual(CASES.map((c) => c.code), ALL_CODES);
});

for (const c of CASES) {
  test(`StorageError ${c.code}: message, code, name and fields`, () => {
    const err = new StorageError(c.code, c.details);
    checkShape(err, c.code, c.message, c.present);
    if (c.details.cause === undefined) {
      assert.ok(!("cause" in err), "no cause when none is given");
    } else {
      assert.equal(err.cause, c.details.cause);
    }
    if (c.details.partition !== undefined) assert.equal(err.partition, c.details.partition);
    if (c.details.blob !== undefined) assert.equal(err.blob, c.details.blob);
    if (c.details.reason !== undefined) assert.equal(err.reason, c.details.reason);
    if (c.details.expected !== undefined) assert.deepEqual(err.expected, c.details.expected);
    if (c.details.found !== undefined) assert.equal(err.found, c.details.found);
  });
}

// Every code: no details at all

// BlobVersionMismatch is always built with expected and found, so its bare text is not pinned.
const BARE: Record<StorageErrorCode, string | undefined> = {
  PartitionNameInvalid:
    "partition name invalid, must only contain alphanumeric, dash ('-'), or underscore ('_') characters: ",
  PartitionCreationFailed: "partition creation failed: ",
  PartitionMissing: "partition missing: ",
  PartitionCorrupt: "partition corrupt: ",
  BlobOpenFailed: "blob open failed: / error: unknown error",
  BlobMissing: "blob missing: /",
  BlobResizeFailed: "blob resize failed: / error: unknown error",
  BlobSyncFailed: "blob sync failed: / error: unknown error",
  BlobInsufficientLength: "blob insufficient length",
  BlobCorrupt: "blob corrupt: / reason: ",
  BlobVersionMismatch: undefined,
  OffsetOverflow: "offset overflow",
  ReadFailed: "read failed",
  WriteFailed: "write failed",
  Closed: "closed",
  Io: "io error: unknown error",
  StorageLocked: "storage locked: another process holds the directory",
};

for (const code of ALL_CODES) {
  test(`StorageError ${code}: without details has no fields and no cause`, () => {
    for (const err of [new StorageError(code), new StorageError(code, {})]) {
      checkShape(err, code, BARE[code], []);
      assert.ok(!("cause" in err));
      assert.equal(err.cause, undefined);
    }
  });
}

// Every code: cause is kept, fields only when given

for (const code of ALL_CODES) {
  test(`StorageError ${code}: cause is the given OS error`, () => {
    const cause = Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    const err = new StorageError(code, { cause });
    assert.ok(Object.hasOwn(err, "cause"));
    assert.equal(err.cause, cause);
    assert.equal(err.code, code, "the StorageError code is not the cause's code");
    for (const f of FIELDS) assert.equal(err[f], undefined, `field ${f}`);
  });
}

for (const code of ALL_CODES) {
  test(`StorageError ${code}: carries every field given`, () => {
    const err = new StorageError(code, {
      partition: "p",
      blob: "ab",
      expected: { min: 1, max: 4 },
      found: 9,
      reason: "why",
    });
    assert.equal(err.code, code);
    assert.equal(err.partition, "p");
    assert.equal(err.blob, "ab");
    assert.deepEqual(err.expected, { min: 1, max: 4 });
    assert.equal(err.found, 9);
    assert.equal(err.reason, "why");
    assert.ok(!("cause" in err));
  });
}

// Message details

test("StorageError: partial location renders empty parts", () => {
  assert.equal(
    new StorageError("BlobMissing", { partition: "p" }).message,
    "blob missing: p/",
  );
  assert.equal(new StorageError("BlobMissing", { blob: "00" }).message, "blob missing: /00");
  assert.equal(
    new StorageError("BlobCorrupt", { partition: "p", blob: "00" }).message,
    "blob corrupt: p/00 reason: ",
  );
});

test("StorageError: PartitionCorrupt without reason has no reason suffix", () => {
  assert.equal(
    new StorageError("PartitionCorrupt", { partition: "p" }).message,
    "partition corrupt: p",
  );
  assert.equal(
    new StorageError("PartitionCorrupt", { partition: "p", reason: "" }).message,
    "partition corrupt: p",
  );
});

test("StorageError: reason takes precedence over cause in I/O messages", () => {
  const cause = new Error("EIO");
  const d = { partition: "p", blob: "01", reason: "torn write", cause };
  assert.equal(new StorageError("Io", d).message, "io error: torn write");
  assert.equal(
    new StorageError("BlobOpenFailed", d).message,
    "blob open failed: p/01 error: torn write",
  );
  assert.equal(
    new StorageError("BlobResizeFailed", d).message,
    "blob resize failed: p/01 error: torn write",
  );
  assert.equal(
    new StorageError("BlobSyncFailed", d).message,
    "blob sync failed: p/01 error: torn write",
  );
  assert.equal(new StorageError("Io", d).cause, cause);
  assert.equal(new StorageError("Io", d).reason, "torn write");
});

test("StorageError: Io reason only", () => {
  const err = new StorageError("Io", { reason: "injected storage fault" });
  checkShape(err, "Io", "io error: injected storage fault", ["reason"]);
  assert.ok(!("cause" in err));
});

test("StorageError: a non-Error cause is rendered with String()", () => {
  assert.equal(new StorageError("Io", { cause: "EBADF" }).message, "io error: EBADF");
  assert.equal(new StorageError("Io", { cause: 42 }).message, "io error: 42");
  assert.equal(new StorageError("Io", { cause: null }).message, "io error: null");
  assert.equal(new StorageError("Io", { cause: "EBADF" }).cause, "EBADF");
  const nullCause = new StorageError("Io", { cause: null });
  assert.ok("cause" in nullCause);
  assert.equal(nullCause.cause, null);
});

test("StorageError: fields that do not appear in the message are still kept", () => {
  const err = new StorageError("Closed", { partition: "p", blob: "00" });
  checkShape(err, "Closed", "closed", ["partition", "blob"]);
});

test("StorageError: falsy but defined fields are present", () => {
  const err = new StorageError("BlobVersionMismatch", {
    partition: "",
    blob: "",
    expected: { min: 0, max: 0 },
    found: 0,
    reason: "",
  });
  for (const f of FIELDS) assert.notEqual(err[f], undefined, f);
  assert.equal(err.found, 0);
  assert.equal(err.partition, "");
  assert.equal(err.message, "blob version mismatch: expected one of 0..=0, found 0");
});

test("StorageError: expected is copied, not aliased", () => {
  const expected = { min: 2, max: 3 };
  const err = new StorageError("BlobVersionMismatch", { expected, found: 1 });
  assert.notEqual(err.expected, expected);
  expected.min = 0;
  assert.deepEqual(err.expected, { min: 2, max: 3 });
  assert.equal(err.message, "blob version mismatch: expected one of 2..=3, found 1");
});

test("StorageError: toString is name: message", () => {
  assert.equal(String(new StorageError("Closed")), "StorageError: closed");
});

test("StorageError: can be thrown and caught by assert.throws on code", () => {
  assert.throws(() => {
    throw new StorageError("BlobMissing", { partition: "p", blob: "00" });
  }, { name: "StorageError", code: "BlobMissing", partition: "p", blob: "00" });
});

// isStorageError

test("isStorageError: without a code, true for every StorageError", () => {
  for (const code of ALL_CODES) assert.equal(isStorageError(new StorageError(code)), true, code);
});

test("isStorageError: with a code, true only for that code", () => {
  for (const code of ALL_CODES) {
    const err = new StorageError(code);
    for (const other of ALL_CODES) {
      assert.equal(isStorageError(err, other), other === code, `${code} vs ${other}`);
    }
  }
});

test("isStorageError: false for non-StorageError values", () => {
  const lookalike = Object.assign(new Error("closed"), { name: "StorageError", code: "Closed" });
  for (
    const v of [
      new Error("x"),
      new TypeError("x"),
      new RangeError("x"),
      lookalike,
      { code: "Closed", name: "StorageError", message: "closed" },
      "Closed",
      null,
      undefined,
      0,
    ]
  ) {
    assert.equal(isStorageError(v), false);
    assert.equal(isStorageError(v, "Closed"), false);
  }
});

test("isStorageError: narrows the type", () => {
  const err: unknown = new StorageError("PartitionMissing", { partition: "p" });
  if (isStorageError(err, "PartitionMissing")) {
    assert.equal(err.partition, "p");
  } else {
    assert.fail("expected a StorageError");
  }
});
