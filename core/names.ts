/**
 * Partition and blob names: validation, and the lowercase hex that names blob
 * files on disk.
 *
 * - A partition name is 1 to 255 ASCII letters, digits, `-` and `_` (a
 *   directory name); anything else is `PartitionNameInvalid`.
 * - A blob name is 1 to 127 bytes (its hex, two characters a byte, must fit a
 *   255-byte file name). A string stands for its UTF-8 bytes and must be
 *   well-formed UTF-16: a lone surrogate, which UTF-8 cannot encode (it would
 *   silently become U+FFFD and collide with another name), is a `TypeError`.
 *
 * @example
 * ```ts
 * import { blobNameBytes, fromHex, toHex } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toHex(blobNameBytes("ab")), "6162");
 * assert.deepEqual(fromHex("00ff"), new Uint8Array([0, 255]));
 * ```
 *
 * @module
 */

import { StorageError } from "./errors.ts";

/** Longest partition name, in characters (all ASCII, so bytes too). */
const MAX_PARTITION = 255;
/** Longest blob name, in bytes: its hex must fit a 255-byte file name. */
const MAX_BLOB_NAME = 127;
const PARTITION = /^[A-Za-z0-9_-]+$/;
/** In `u` mode a surrogate pair is one code point, so this finds only lone surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const HEX = /^(?:[0-9a-f]{2})+$/;
const encoder = new TextEncoder();

/**
 * Whether `partition` is a valid partition name: 1 to 255 characters, only
 * ASCII letters, digits, `-` and `_`.
 *
 * @example
 * ```ts
 * import { isPartitionName } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isPartitionName("logs-1"));
 * assert.ok(!isPartitionName("a/b"));
 * assert.ok(!isPartitionName("x".repeat(256)));
 * ```
 *
 * @param partition The value to test.
 * @returns `true` for a valid name.
 */
export function isPartitionName(partition: unknown): partition is string {
  return typeof partition === "string" && partition.length <= MAX_PARTITION &&
    PARTITION.test(partition);
}

/**
 * Checks a partition name: 1 to 255 characters, only ASCII letters, digits,
 * `-` and `_`.
 *
 * @example
 * ```ts
 * import { validatePartitionName } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * validatePartitionName("my-partition_1");
 * assert.throws(() => validatePartitionName("../escape"), { code: "PartitionNameInvalid" });
 * ```
 *
 * @param partition The name to check.
 * @throws {TypeError} When it is not a string.
 * @throws {StorageError} `PartitionNameInvalid` otherwise.
 */
export function validatePartitionName(partition: string): void {
  if (typeof partition !== "string") {
    throw new TypeError(`partition must be a string, got ${typeof partition}`);
  }
  if (!isPartitionName(partition)) throw new StorageError("PartitionNameInvalid", { partition });
}

/**
 * The bytes of a blob name, checked: a `Uint8Array` as is (not copied), a
 * string as its UTF-8 bytes (a new `Uint8Array<ArrayBuffer>`).
 *
 * @example
 * ```ts
 * import { blobNameBytes } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(blobNameBytes("é"), new Uint8Array([0xc3, 0xa9]));
 * assert.throws(() => blobNameBytes(""), RangeError);
 * assert.throws(() => blobNameBytes(new Uint8Array(128)), RangeError);
 * assert.throws(() => blobNameBytes("\ud800"), TypeError);
 * ```
 *
 * @param name The blob name.
 * @returns Its bytes: `name` itself for a `Uint8Array`, so the memory type is
 * the caller's; `Uint8Array<ArrayBuffer>` for a string.
 * @throws {TypeError} When it is neither a string nor a `Uint8Array`, or is a
 * string with a lone surrogate.
 * @throws {RangeError} When it is empty or longer than 127 bytes.
 */
export function blobNameBytes<B extends ArrayBufferLike = ArrayBuffer>(
  name: Uint8Array<B> | string,
): Uint8Array<B | ArrayBuffer> {
  let bytes: Uint8Array<B | ArrayBuffer>;
  if (typeof name === "string") {
    // More than 127 UTF-16 units is more than 127 UTF-8 bytes: no need to encode it.
    if (name.length > MAX_BLOB_NAME) throw tooLong(name.length, "UTF-16 units");
    if (LONE_SURROGATE.test(name)) {
      throw new TypeError("blob name must be well-formed UTF-16 (it has a lone surrogate)");
    }
    bytes = encoder.encode(name);
  } else if (name instanceof Uint8Array) bytes = name;
  else throw new TypeError(`blob name must be a string or Uint8Array, got ${typeof name}`);
  if (bytes.length === 0) throw new RangeError("blob name must not be empty");
  if (bytes.length > MAX_BLOB_NAME) throw tooLong(bytes.length, "bytes");
  return bytes;
}

function tooLong(length: number, unit: string): RangeError {
  return new RangeError(`blob name must be at most ${MAX_BLOB_NAME} bytes, got ${length} ${unit}`);
}

/**
 * Lowercase hex of `bytes`, two digits a byte.
 *
 * @example
 * ```ts
 * import { toHex } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toHex(new Uint8Array([0, 15, 255])), "000fff");
 * ```
 *
 * @param bytes The bytes.
 * @returns The hex string.
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  // A byte is 0..255, and HEX_DIGITS has 256 entries.
  for (let i = 0; i < bytes.length; i++) out += HEX_DIGITS[bytes[i]!];
  return out;
}

const HEX_DIGITS: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/**
 * Parses canonical lowercase hex (non-empty, even length); anything else gives
 * `undefined`, so `scan` can tell a foreign file from a blob.
 *
 * @example
 * ```ts
 * import { fromHex } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(fromHex("0aff"), new Uint8Array([10, 255]));
 * assert.equal(fromHex("0AFF"), undefined);
 * assert.equal(fromHex("abc"), undefined);
 * ```
 *
 * @param hex The string to parse.
 * @returns The bytes, or `undefined` when it is not canonical lowercase hex.
 */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!HEX.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Bytewise comparison of two byte strings, for sorting blob names.
 *
 * @example
 * ```ts
 * import { compareBytes } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * const names = [new Uint8Array([2]), new Uint8Array([1, 0]), new Uint8Array([1])];
 * assert.deepEqual(names.sort(compareBytes), [new Uint8Array([1]), new Uint8Array([1, 0]), new Uint8Array([2])]);
 * ```
 *
 * @param a One name.
 * @param b The other.
 * @returns Negative, zero or positive, as for `Array.prototype.sort`.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!; // i < n <= both lengths
  return a.length - b.length;
}
