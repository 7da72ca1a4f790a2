/**
 * Partition and blob names: validation, and the lowercase hex that names blob
 * files on disk.
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

const PARTITION = /^[A-Za-z0-9_-]+$/;
const HEX = /^(?:[0-9a-f]{2})+$/;
const encoder = new TextEncoder();

/**
 * Whether `partition` is a valid partition name: a non-empty string of only
 * ASCII letters, digits, `-` and `_`.
 *
 * @example
 * ```ts
 * import { isPartitionName } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isPartitionName("logs-1"));
 * assert.ok(!isPartitionName("a/b"));
 * ```
 *
 * @param partition The value to test.
 * @returns `true` for a valid name.
 */
export function isPartitionName(partition: unknown): partition is string {
  return typeof partition === "string" && PARTITION.test(partition);
}

/**
 * Checks a partition name: non-empty, only ASCII letters, digits, `-` and `_`.
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
 * The bytes of a blob name: a `Uint8Array` as is, a string as its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { blobNameBytes } from "@blobrt/storage/driver";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(blobNameBytes("é"), new Uint8Array([0xc3, 0xa9]));
 * assert.throws(() => blobNameBytes(""), RangeError);
 * ```
 *
 * @param name The blob name.
 * @returns Its bytes.
 * @throws {TypeError} When it is neither a string nor a `Uint8Array`.
 * @throws {RangeError} When it is empty.
 */
export function blobNameBytes(name: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof name === "string") bytes = encoder.encode(name);
  else if (name instanceof Uint8Array) bytes = name;
  else throw new TypeError(`blob name must be a string or Uint8Array, got ${typeof name}`);
  if (bytes.length === 0) throw new RangeError("blob name must not be empty");
  return bytes;
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
  for (let i = 0; i < bytes.length; i++) out += HEX_DIGITS[bytes[i]];
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
export function fromHex(hex: string): Uint8Array | undefined {
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
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
