/**
 * Blob headers, byte-compatible with commonware-runtime: the two layouts, the
 * codec, and how `open` reads the first bytes of a file (including the healing
 * of interrupted creations). Every header starts with an 8-byte *prelude*,
 * big-endian: magic (4 bytes), runtime version (u16), blob version (u16, the
 * application's).
 *
 * - **V0** (every released commonware): magic `CWIC`, runtime version 0; the
 *   header is the prelude alone and logical offset 0 is file byte 8.
 * - **V1** (commonware main): magic `CWIK`, runtime version 1, then the CRC32C
 *   of the prelude (u32 BE) and zeros up to byte 4096, where data starts.
 *
 * The magic alone names the layout; the runtime version must agree with it.
 * {@linkcode resolveHeader} decides as commonware main does: a file shorter
 * than 8 bytes is new; a parse failure that a torn V1 creation can produce, on
 * a file of at most 4096 bytes that is a prefix of a V1 header region followed
 * by zeros ({@linkcode isTornCreation}), is new too; any other failure is
 * `BlobCorrupt` (or `BlobVersionMismatch`) and the file is left as it is.
 *
 * @example
 * ```ts
 * import { createHeader, decodeHeader, encodeHeader, HEADER_SIZE } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const raw = encodeHeader(7);
 * assert.equal(raw.length, HEADER_SIZE);
 * assert.deepEqual(raw, new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0, 7]));
 * assert.deepEqual(decodeHeader(raw), { magic: raw.subarray(0, 4), runtimeVersion: 0, blobVersion: 7 });
 * const v1 = createHeader("v1", 3);
 * assert.equal(v1.length, 4096);
 * assert.deepEqual(v1.subarray(0, 12), new Uint8Array([67, 87, 73, 75, 0, 1, 0, 3, 0x3b, 0x43, 0x2b, 0x28]));
 * ```
 *
 * @module
 */

import { crc32c } from "./crc32c.ts";
import { StorageError } from "./errors.ts";
import type { VersionRange } from "./types.ts";

/** Size of the prelude, and of the whole V0 header: logical offset 0 of a V0 blob is file byte 8. */
export const HEADER_SIZE = 8;

/** The magic bytes that start every V0 blob: ASCII `CWIC`. */
export const MAGIC: Uint8Array<ArrayBuffer> = new Uint8Array([0x43, 0x57, 0x49, 0x43]);

/** The runtime version of a V0 header. */
export const RUNTIME_VERSION = 0;

/** The magic bytes that start every V1 blob: ASCII `CWIK`. */
export const MAGIC_V1: Uint8Array<ArrayBuffer> = new Uint8Array([0x43, 0x57, 0x49, 0x4b]);

/** The runtime version of a V1 header. */
export const RUNTIME_VERSION_V1 = 1;

/** Size of a V1 header region: logical offset 0 of a V1 blob is file byte 4096. */
export const HEADER_SIZE_V1 = 4096;

/** The prelude and the CRC32C that follows it in a V1 header. */
const CHECKED_SIZE = 12;

/**
 * A blob's on-disk header layout: `"v0"` (8-byte header, what every released
 * commonware reads and writes) or `"v1"` (4096-byte header with a CRC32C, what
 * commonware's main branch creates). A storage's `layout` option decides the
 * header of the blobs its `open` creates or resets; an existing blob keeps the
 * layout its own header names.
 *
 * @example
 * ```ts
 * import { type BlobLayout, MemoryStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const layout: BlobLayout = "v1";
 * const storage = new MemoryStorage({ layout });
 * await (await storage.open("p", "b")).blob.close();
 * assert.equal(storage.readRaw("p", "b")!.length, 4096);
 * ```
 */
export type BlobLayout = "v0" | "v1";

/**
 * Where a layout's data starts: 8 for `"v0"`, 4096 for `"v1"`.
 *
 * @example
 * ```ts
 * import { dataOffset } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dataOffset("v0"), 8);
 * assert.equal(dataOffset("v1"), 4096);
 * ```
 *
 * @param layout The layout.
 * @returns The file byte of logical offset 0.
 */
export function dataOffset(layout: BlobLayout): number {
  return layout === "v1" ? HEADER_SIZE_V1 : HEADER_SIZE;
}

/**
 * Checks a storage's `layout` option: `undefined` means `"v0"`.
 *
 * @example
 * ```ts
 * import { checkLayout } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkLayout(undefined), "v0");
 * assert.equal(checkLayout("v1"), "v1");
 * assert.throws(() => checkLayout("v2" as never), RangeError);
 * assert.throws(() => checkLayout(1 as never), TypeError);
 * ```
 *
 * @param layout The option's value.
 * @returns The layout.
 * @throws {TypeError} When it is neither a string nor `undefined`.
 * @throws {RangeError} When it is a string other than `"v0"` and `"v1"`.
 */
export function checkLayout(layout: BlobLayout | undefined): BlobLayout {
  if (layout === undefined) return "v0";
  if (typeof layout !== "string") {
    throw new TypeError(`layout must be "v0" or "v1", got ${typeof layout}`);
  }
  if (layout !== "v0" && layout !== "v1") {
    throw new RangeError(`layout must be "v0" or "v1", got ${JSON.stringify(layout)}`);
  }
  return layout;
}

/** The fields of a decoded prelude. */
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
 * The header region a creation writes for `layout`: the 8 bytes of
 * {@linkcode encodeHeader} for `"v0"`; for `"v1"`, 4096 bytes: `CWIK`, runtime
 * version 1, `blobVersion`, the CRC32C of those 8 bytes (u32 BE), zeros.
 *
 * @example
 * ```ts
 * import { createHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(createHeader("v0", 1), new Uint8Array([67, 87, 73, 67, 0, 0, 0, 1]));
 * const v1 = createHeader("v1", 0);
 * assert.deepEqual(v1.subarray(0, 12), new Uint8Array([67, 87, 73, 75, 0, 1, 0, 0, 0x28, 0x13, 0xd8, 0xdc]));
 * assert.ok(v1.subarray(12).every((b) => b === 0));
 * ```
 *
 * @param layout The layout.
 * @param blobVersion A u16; anything else throws `RangeError` (or `TypeError`).
 * @returns A fresh region, as long as the layout's data offset.
 */
export function createHeader(layout: BlobLayout, blobVersion: number): Uint8Array<ArrayBuffer> {
  const prelude = encodeHeader(blobVersion);
  if (checkLayout(layout) === "v0") return prelude;
  const out = new Uint8Array(HEADER_SIZE_V1);
  out.set(MAGIC_V1);
  out[5] = RUNTIME_VERSION_V1;
  out[6] = prelude[6]!;
  out[7] = prelude[7]!;
  new DataView(out.buffer).setUint32(HEADER_SIZE, crc32c(out.subarray(0, HEADER_SIZE)));
  return out;
}

/**
 * Splits the 8-byte prelude into fields, without validating them.
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

/** What a blob file's first bytes are, as {@linkcode classifyHeader} finds them. */
export type HeaderClass =
  | {
    /** A sound header. */
    status: "ok";
    /** The layout its magic names. */
    layout: BlobLayout;
    /** Its blob version. */
    version: number;
  }
  | {
    /** Fewer than 8 bytes: a blob that `open` treats as new. */
    status: "short";
    /** Why it is not a header. */
    reason: string;
  }
  | {
    /**
     * A V1 creation that was interrupted (see {@linkcode isTornCreation}): a
     * blob that `open` treats as new.
     */
    status: "torn";
    /** What is wrong with its header, in commonware's words. */
    reason: string;
  }
  | {
    /** Neither `CWIC` nor `CWIK`. */
    status: "bad magic";
    /** The `BlobCorrupt` reason, in commonware's words. */
    reason: string;
  }
  | {
    /**
     * The magic names a layout, but the rest of the header is wrong: a runtime
     * version other than the layout's; for V1, a CRC32C that does not match the
     * prelude, a file shorter than the header region, or non-zero padding.
     */
    status: "bad runtime version" | "bad checksum" | "truncated" | "bad padding";
    /** The layout the magic names. */
    layout: BlobLayout;
    /** The blob version the prelude names. */
    version: number;
    /** The `BlobCorrupt` reason, in commonware's words. */
    reason: string;
  };

/** The V1 prefix a creation writes before the blob version. */
const V1_FIXED = [0x43, 0x57, 0x49, 0x4b, 0x00, 0x01];

/**
 * Whether `raw`, a whole file, is what an interrupted V1 creation can leave
 * (commonware main's test): at most 4096 bytes, all zero after byte 11, and
 * its bytes up to the last non-zero one among the first 12 a prefix of a V1
 * header region: `CWIK 00 01`, any blob version, and then as much of the
 * CRC32C of the file's own first 8 bytes as is there. Anything else (a byte
 * lost before a later one persisted, a CRC that disagrees) is not.
 *
 * @example
 * ```ts
 * import { createHeader, isTornCreation } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const region = createHeader("v1", 5);
 * assert.ok(isTornCreation(region.subarray(0, 10)));
 * assert.ok(isTornCreation(new Uint8Array(4096)));
 * assert.ok(!isTornCreation(new Uint8Array(4097)));
 * assert.ok(!isTornCreation(createHeader("v0", 5)));
 * ```
 *
 * @param raw The file's bytes.
 * @returns `true` when they are a torn V1 creation.
 */
export function isTornCreation(raw: Uint8Array): boolean {
  if (raw.length > HEADER_SIZE_V1) return false;
  const checked = Math.min(raw.length, CHECKED_SIZE);
  for (let i = checked; i < raw.length; i++) if (raw[i] !== 0) return false;
  // Trailing zeros cannot be told apart from bytes never written.
  let written = checked;
  while (written > 0 && raw[written - 1] === 0) written--;
  const fixed = written <= HEADER_SIZE ? Math.min(written, V1_FIXED.length) : V1_FIXED.length;
  for (let i = 0; i < fixed; i++) if (raw[i] !== V1_FIXED[i]) return false;
  if (written <= HEADER_SIZE) return true; // the blob version is the writer's choice
  // CRC bytes persisted, so the prelude did: they must begin the CRC of that prelude.
  const crc = crc32c(raw.subarray(0, HEADER_SIZE));
  for (let i = HEADER_SIZE; i < written; i++) {
    if (raw[i] !== (crc >>> (8 * (CHECKED_SIZE - 1 - i))) % 256) return false;
  }
  return true;
}

/** Rust's `Debug` of `[u8; 4]`: `[67, 87, 73, 67]`. */
const debugBytes = (bytes: Uint8Array): string => `[${Array.from(bytes).join(", ")}]`;

/** Parses a header of at least 8 bytes, without the torn-creation verdict. */
function parse(raw: Uint8Array, rawLength: number): HeaderClass {
  const h = decodeHeader(raw);
  const v1 = MAGIC_V1.every((b, i) => b === h.magic[i]);
  if (!v1 && !MAGIC.every((b, i) => b === h.magic[i])) {
    return { status: "bad magic", reason: `invalid magic: found ${debugBytes(h.magic)}` };
  }
  const layout: BlobLayout = v1 ? "v1" : "v0";
  const version = h.blobVersion;
  const expected = v1 ? RUNTIME_VERSION_V1 : RUNTIME_VERSION;
  if (h.runtimeVersion !== expected) {
    const reason = `unsupported runtime version: expected ${expected}, found ${h.runtimeVersion}`;
    return { status: "bad runtime version", layout, version, reason };
  }
  if (v1) {
    const truncated = (required: number) => ({
      status: "truncated" as const,
      layout,
      version,
      reason: `truncated header: required length ${required}, raw length ${rawLength}`,
    });
    if (raw.length < CHECKED_SIZE) return truncated(CHECKED_SIZE);
    const stored = new DataView(raw.buffer, raw.byteOffset, CHECKED_SIZE).getUint32(HEADER_SIZE);
    if (crc32c(raw.subarray(0, HEADER_SIZE)) !== stored) {
      return { status: "bad checksum", layout, version, reason: "invalid header checksum" };
    }
    if (rawLength < HEADER_SIZE_V1) return truncated(HEADER_SIZE_V1);
    for (let i = CHECKED_SIZE; i < HEADER_SIZE_V1; i++) {
      if (raw[i] !== 0) {
        return { status: "bad padding", layout, version, reason: "invalid header padding" };
      }
    }
  }
  return { status: "ok", layout, version };
}

/**
 * Classifies the first bytes of a blob file the way `open` reads them, without
 * throwing: the one reading of a header shared by `open`
 * ({@linkcode resolveHeader}) and the CLI. In commonware main's order: length,
 * magic, runtime version, then for V1 the CRC32C, the region's length and its
 * padding; a failure that a torn V1 creation explains is `"torn"`.
 *
 * @example
 * ```ts
 * import { classifyHeader, createHeader, encodeHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(classifyHeader(encodeHeader(3)), { status: "ok", layout: "v0", version: 3 });
 * assert.deepEqual(classifyHeader(createHeader("v1", 3)), { status: "ok", layout: "v1", version: 3 });
 * assert.equal(classifyHeader(new Uint8Array(3)).status, "short");
 * assert.equal(classifyHeader(new Uint8Array(8)).status, "torn");
 * assert.equal(classifyHeader(new TextEncoder().encode("XXXXXXXX")).status, "bad magic");
 * ```
 *
 * @param raw The file's first `min(rawLength, 4096)` bytes (or more).
 * @param rawLength The file's length; default `raw.length` (the whole file).
 * @returns What they are.
 * @throws {RangeError} When `raw` holds fewer bytes than that, or `rawLength` is less than `raw.length`.
 */
export function classifyHeader(raw: Uint8Array, rawLength: number = raw.length): HeaderClass {
  if (!(rawLength >= raw.length && raw.length >= Math.min(rawLength, HEADER_SIZE_V1))) {
    throw new RangeError(
      `a file of ${rawLength} bytes is classified from its first ${
        Math.min(rawLength, HEADER_SIZE_V1)
      }, got ${raw.length}`,
    );
  }
  if (rawLength < HEADER_SIZE) {
    return {
      status: "short",
      reason: `truncated header: required length ${HEADER_SIZE}, raw length ${rawLength}`,
    };
  }
  const found = parse(raw, rawLength);
  const mayBeTorn = found.status !== "ok" && found.status !== "bad padding";
  if (mayBeTorn && rawLength <= HEADER_SIZE_V1 && isTornCreation(raw.subarray(0, rawLength))) {
    return { status: "torn", reason: found.reason };
  }
  return found;
}

/**
 * Validates a header as `open` reads it, without healing anything: every
 * status but `"ok"` (`"torn"` included) is `BlobCorrupt` with commonware's
 * reason, and a blob version outside `versions` is `BlobVersionMismatch`.
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
 * @param raw The whole file, or its first 4096 bytes or more.
 * @param versions The accepted blob versions.
 * @param partition Partition name, for the error.
 * @param blob Lowercase hex of the blob name, for the error.
 * @returns The blob version.
 * @throws {StorageError} `BlobCorrupt` or `BlobVersionMismatch`.
 * @throws {RangeError} When `raw` is shorter than 8 bytes.
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
  return checkVersion(h.version, versions, partition, blob);
}

function checkVersion(
  version: number,
  versions: VersionRange,
  partition: string,
  blob: string,
): number {
  if (version < versions.min || version > versions.max) {
    throw new StorageError("BlobVersionMismatch", {
      partition,
      blob,
      expected: versions,
      found: version,
    });
  }
  return version;
}

/** An existing blob's header, as {@linkcode resolveHeader} accepts it. */
export interface ResolvedHeader {
  /** The layout its header names. */
  layout: BlobLayout;
  /** Its blob version. */
  version: number;
  /** File byte of logical offset 0: 8 or 4096. */
  dataOffset: number;
  /** Its logical size: the file's length less `dataOffset`. */
  size: number;
}

/**
 * What `open` does with an existing file, as commonware main decides it:
 * `undefined` when the file is to be created afresh (shorter than 8 bytes, or
 * a torn V1 creation), the header when it is sound and its blob version in
 * `versions`; otherwise it throws, and the file must be left as it is.
 *
 * @example
 * ```ts
 * import { createHeader, resolveHeader } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const v1 = new Uint8Array([...createHeader("v1", 2), 1, 2, 3]);
 * assert.deepEqual(resolveHeader(v1, v1.length, { min: 0, max: 2 }, "p", "62"), {
 *   layout: "v1",
 *   version: 2,
 *   dataOffset: 4096,
 *   size: 3,
 * });
 * assert.equal(resolveHeader(new Uint8Array(8), 8, { min: 0, max: 0 }, "p", "62"), undefined);
 * assert.throws(() => resolveHeader(new Uint8Array(9).fill(88), 9, { min: 0, max: 0 }, "p", "62"), {
 *   code: "BlobCorrupt",
 *   reason: "invalid magic: found [88, 88, 88, 88]",
 * });
 * ```
 *
 * @param raw The file's first `min(rawLength, 4096)` bytes.
 * @param rawLength The file's length.
 * @param versions The accepted blob versions.
 * @param partition Partition name, for the error.
 * @param blob Lowercase hex of the blob name, for the error.
 * @returns The header, or `undefined` for a file to create afresh.
 * @throws {StorageError} `BlobCorrupt` or `BlobVersionMismatch`.
 */
export function resolveHeader(
  raw: Uint8Array,
  rawLength: number,
  versions: VersionRange,
  partition: string,
  blob: string,
): ResolvedHeader | undefined {
  const h = classifyHeader(raw, rawLength);
  switch (h.status) {
    case "short":
    case "torn":
      return undefined;
    case "ok": {
      const version = checkVersion(h.version, versions, partition, blob);
      const offset = dataOffset(h.layout);
      return { layout: h.layout, version, dataOffset: offset, size: rawLength - offset };
    }
    default:
      throw new StorageError("BlobCorrupt", { partition, blob, reason: h.reason });
  }
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
