/**
 * The 8-byte V0 blob header: magic `CWIC`, runtime version (u16, 0) and blob
 * version (u16), big-endian. Byte-compatible with commonware-runtime.
 *
 * @example
 * ```ts
 * import { decodeHeader, encodeHeader, HEADER_SIZE } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const raw = encodeHeader(7);
 * assert.equal(raw.length, HEADER_SIZE);
 * assert.deepEqual(raw, new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0, 7]));
 * assert.deepEqual(decodeHeader(raw), { magic: raw.subarray(0, 4), runtimeVersion: 0, blobVersion: 7 });
 * ```
 *
 * @module
 */

import { StorageError } from "./errors.ts";
import type { VersionRange } from "./types.ts";

/** Size of the header in bytes; logical offset 0 is file byte 8. */
export const HEADER_SIZE = 8;

/** The magic bytes that start every blob: ASCII `CWIC`. */
export const MAGIC: Uint8Array<ArrayBuffer> = new Uint8Array([0x43, 0x57, 0x49, 0x43]);

/** The header format version this library reads and writes. */
export const RUNTIME_VERSION = 0;

/** The fields of a decoded header. */
export interface Header {
  /** The first four bytes (a view into the input). */
  magic: Uint8Array;
  /** Bytes 4–5, big-endian. */
  runtimeVersion: number;
  /** Bytes 6–7, big-endian. */
  blobVersion: number;
}

/**
 * Encodes a V0 header for a blob of version `blobVersion`.
 *
 * @example
 * ```ts
 * import { encodeHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeHeader(0x0102), new Uint8Array([67, 87, 73, 67, 0, 0, 1, 2]));
 * ```
 *
 * @param blobVersion A u16; anything else throws `RangeError`.
 * @returns The 8 header bytes.
 */
export function encodeHeader(blobVersion: number): Uint8Array<ArrayBuffer> {
  checkU16(blobVersion, "blob version");
  const out = new Uint8Array(HEADER_SIZE);
  out.set(MAGIC);
  out[6] = blobVersion >> 8;
  out[7] = blobVersion & 0xff;
  return out;
}

/**
 * Splits 8 header bytes into fields, without validating them.
 *
 * @example
 * ```ts
 * import { decodeHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const h = decodeHeader(new Uint8Array([88, 88, 88, 88, 0, 99, 1, 0]));
 * assert.equal(h.runtimeVersion, 99);
 * assert.equal(h.blobVersion, 256);
 * ```
 *
 * @param raw At least 8 bytes; fewer throws `RangeError`.
 * @returns The fields.
 */
export function decodeHeader(raw: Uint8Array): Header {
  if (raw.length < HEADER_SIZE) {
    throw new RangeError(`header needs ${HEADER_SIZE} bytes, got ${raw.length}`);
  }
  // Bytes 4–7 exist: the length was checked above.
  return {
    magic: raw.subarray(0, 4),
    runtimeVersion: (raw[4]! << 8) | raw[5]!,
    blobVersion: (raw[6]! << 8) | raw[7]!,
  };
}

/**
 * Validates a header in the order commonware-runtime does: magic, runtime
 * version, then blob version against `versions`.
 *
 * @example
 * ```ts
 * import { encodeHeader, validateHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(validateHeader(encodeHeader(5), { min: 3, max: 7 }, "p", "00"), 5);
 * assert.throws(
 *   () => validateHeader(encodeHeader(9), { min: 3, max: 7 }, "p", "00"),
 *   { code: "BlobVersionMismatch", found: 9 },
 * );
 * ```
 *
 * @param raw The header bytes (at least 8).
 * @param versions The accepted blob versions.
 * @param partition Partition name, for the error.
 * @param blob Lowercase hex of the blob name, for the error.
 * @returns The blob version.
 * @throws {StorageError} `BlobCorrupt` or `BlobVersionMismatch`.
 */
export function validateHeader(
  raw: Uint8Array,
  versions: VersionRange,
  partition: string,
  blob: string,
): number {
  if (raw.length < HEADER_SIZE) {
    throw new RangeError(`header needs ${HEADER_SIZE} bytes, got ${raw.length}`);
  }
  const h = classifyHeader(raw);
  if (h.status !== "ok") {
    throw new StorageError("BlobCorrupt", { partition, blob, reason: h.reason });
  }
  if (h.version < versions.min || h.version > versions.max) {
    throw new StorageError("BlobVersionMismatch", {
      partition,
      blob,
      expected: versions,
      found: h.version,
    });
  }
  return h.version;
}

/** What a blob file's first bytes are, as {@linkcode classifyHeader} finds them. */
export type HeaderClass =
  | {
    /** A sound header. */
    status: "ok";
    /** Its blob version. */
    version: number;
  }
  | {
    /** Fewer than 8 bytes: a blob that `open` would treat as new. */
    status: "short";
    /** Why it is not a header. */
    reason: string;
  }
  | {
    /** Not the magic `CWIC`. */
    status: "bad magic";
    /** The `BlobCorrupt` reason, in commonware's words. */
    reason: string;
  }
  | {
    /** The magic, but a runtime version other than 0. */
    status: "bad runtime version";
    /** The blob version it names. */
    version: number;
    /** The `BlobCorrupt` reason, in commonware's words. */
    reason: string;
  };

/**
 * Classifies the first bytes of a blob file, checking in commonware's order
 * (length, magic, runtime version) without throwing: the one reading of a
 * header shared by `open` ({@linkcode validateHeader}) and the CLI.
 *
 * @example
 * ```ts
 * import { classifyHeader, encodeHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(classifyHeader(encodeHeader(3)), { status: "ok", version: 3 });
 * assert.equal(classifyHeader(new Uint8Array(3)).status, "short");
 * assert.equal(classifyHeader(new Uint8Array(8)).status, "bad magic");
 * ```
 *
 * @param raw The file's first bytes (only the first 8 are read).
 * @returns What they are.
 */
export function classifyHeader(raw: Uint8Array): HeaderClass {
  if (raw.length < HEADER_SIZE) {
    return { status: "short", reason: `truncated header: ${raw.length} of ${HEADER_SIZE} bytes` };
  }
  const h = decodeHeader(raw);
  if (!h.magic.every((b, i) => b === MAGIC[i])) {
    return {
      status: "bad magic",
      reason: `invalid magic: expected ${debugBytes(MAGIC)}, found ${debugBytes(h.magic)}`,
    };
  }
  if (h.runtimeVersion !== RUNTIME_VERSION) {
    return {
      status: "bad runtime version",
      version: h.blobVersion,
      reason: `unsupported runtime version: expected ${RUNTIME_VERSION}, found ${h.runtimeVersion}`,
    };
  }
  return { status: "ok", version: h.blobVersion };
}

/**
 * Checks that `versions` is a valid range of u16s with `min <= max`.
 *
 * @example
 * ```ts
 * import { checkVersionRange } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(checkVersionRange({ min: 1, max: 2 }), { min: 1, max: 2 });
 * assert.throws(() => checkVersionRange({ min: 2, max: 1 }), RangeError);
 * ```
 *
 * @param versions The range to check.
 * @returns The same range.
 * @throws {TypeError} When it is not an object of numbers.
 * @throws {RangeError} When an end is not a u16 or `min > max`.
 */
export function checkVersionRange(versions: VersionRange): VersionRange {
  if (typeof versions !== "object" || versions === null) {
    throw new TypeError("versions must be an object { min, max }");
  }
  checkU16(versions.min, "versions.min");
  checkU16(versions.max, "versions.max");
  if (versions.min > versions.max) {
    throw new RangeError(`versions.min (${versions.min}) exceeds versions.max (${versions.max})`);
  }
  return versions;
}

function checkU16(n: number, what: string): void {
  if (typeof n !== "number") throw new TypeError(`${what} must be a number, got ${typeof n}`);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) {
    throw new RangeError(`${what} must be an integer in 0..=65535, got ${n}`);
  }
}

/** Formats bytes like Rust's `Debug` for `[u8; N]`: `[67, 87, 73, 67]`. */
function debugBytes(bytes: Uint8Array): string {
  return `[${Array.from(bytes).join(", ")}]`;
}
