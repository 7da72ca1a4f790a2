/**
 * {@linkcode StorageError}: the one error type every storage failure uses.
 *
 * Programming errors (a bad argument type, a negative offset, a read target that
 * is too small) are `TypeError`/`RangeError` instead, never `StorageError`.
 *
 * @example Telling failures apart by `code`
 * ```ts
 * import { StorageError } from "@blobrt/storage/errors";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * try {
 *   await storage.scan("missing");
 * } catch (err) {
 *   assert.ok(err instanceof StorageError);
 *   assert.equal(err.code, "PartitionMissing");
 *   assert.equal(err.message, "partition missing: missing");
 * }
 * ```
 *
 * @module
 */

import type { VersionRange } from "./types.ts";

/** Every `code` a {@linkcode StorageError} can carry. */
export type StorageErrorCode =
  | "PartitionNameInvalid"
  | "PartitionCreationFailed"
  | "PartitionMissing"
  | "PartitionCorrupt"
  | "BlobOpenFailed"
  | "BlobMissing"
  | "BlobResizeFailed"
  | "BlobSyncFailed"
  | "BlobInsufficientLength"
  | "BlobCorrupt"
  | "BlobVersionMismatch"
  | "OffsetOverflow"
  | "ReadFailed"
  | "WriteFailed"
  | "Closed"
  | "Io"
  | "StorageLocked";

/** The fields a {@linkcode StorageError} carries, where they apply. */
export interface StorageErrorDetails {
  /** The partition involved. */
  partition?: string;
  /** The lowercase hex of the blob name involved. */
  blob?: string;
  /** The accepted version range (for `BlobVersionMismatch`). */
  expected?: VersionRange;
  /** The version found on disk (for `BlobVersionMismatch`). */
  found?: number;
  /** A human-readable reason (for `BlobCorrupt`, `PartitionCorrupt`, `Io`). */
  reason?: string;
  /** The underlying error, usually the operating system's. */
  cause?: unknown;
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return cause === undefined ? "unknown error" : String(cause);
}

function render(code: StorageErrorCode, d: StorageErrorDetails): string {
  const where = `${d.partition ?? ""}/${d.blob ?? ""}`;
  const io = d.reason ?? describe(d.cause);
  switch (code) {
    case "PartitionNameInvalid":
      return "partition name invalid, must only contain alphanumeric, dash ('-'), or underscore ('_') characters: " +
        (d.partition ?? "");
    case "PartitionCreationFailed":
      return `partition creation failed: ${d.partition ?? ""}`;
    case "PartitionMissing":
      return `partition missing: ${d.partition ?? ""}`;
    case "PartitionCorrupt":
      return `partition corrupt: ${d.partition ?? ""}` + (d.reason ? ` reason: ${d.reason}` : "");
    case "BlobOpenFailed":
      return `blob open failed: ${where} error: ${io}`;
    case "BlobMissing":
      return `blob missing: ${where}`;
    case "BlobResizeFailed":
      return `blob resize failed: ${where} error: ${io}`;
    case "BlobSyncFailed":
      return `blob sync failed: ${where} error: ${io}`;
    case "BlobInsufficientLength":
      if (d.reason === undefined) return "blob insufficient length";
      return d.partition === undefined && d.blob === undefined
        ? `blob insufficient length: ${d.reason}`
        : `blob insufficient length: ${where} reason: ${d.reason}`;
    case "BlobCorrupt":
      return `blob corrupt: ${where} reason: ${d.reason ?? ""}`;
    case "BlobVersionMismatch":
      return `blob version mismatch: expected one of ${d.expected?.min}..=${d.expected?.max}, found ${d.found}`;
    case "OffsetOverflow":
      return "offset overflow";
    case "ReadFailed":
      return "read failed";
    case "WriteFailed":
      return "write failed";
    case "Closed":
      return "closed";
    case "Io":
      return `io error: ${io}`;
    case "StorageLocked":
      return `storage locked: ${d.reason ?? "another process holds the directory"}`;
  }
}

/**
 * A storage failure. `code` says which; the other fields say where and why, and
 * `message` reads like the Display text of commonware-runtime's `Error`. Every
 * error of an operation on a blob carries `partition` and `blob` (the
 * lowercase hex of the name), `Closed`, `OffsetOverflow`,
 * `BlobInsufficientLength` and `BlobVersionMismatch` included; an I/O failure
 * carries the operating system's error as `cause`.
 *
 * @example
 * ```ts
 * import { StorageError } from "@blobrt/storage/errors";
 * import assert from "node:assert/strict";
 *
 * const err = new StorageError("BlobVersionMismatch", { expected: { min: 2, max: 3 }, found: 1 });
 * assert.equal(err.message, "blob version mismatch: expected one of 2..=3, found 1");
 * assert.equal(err.name, "StorageError");
 * assert.ok(err instanceof Error);
 * ```
 */
export class StorageError extends Error {
  /** Which failure this is. */
  readonly code: StorageErrorCode;
  /** The partition involved, when there is one. */
  declare readonly partition?: string;
  /** The lowercase hex of the blob name involved, when there is one. */
  declare readonly blob?: string;
  /** The accepted version range, for `BlobVersionMismatch`. */
  declare readonly expected?: VersionRange;
  /** The version found, for `BlobVersionMismatch`. */
  declare readonly found?: number;
  /** Why, in words, when there is more to say than the code. */
  declare readonly reason?: string;

  /**
   * Builds an error; the message is derived from `code` and `details`.
   *
   * @param code Which failure this is.
   * @param details Where and why.
   */
  constructor(code: StorageErrorCode, details: StorageErrorDetails = {}) {
    super(
      render(code, details),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = "StorageError";
    this.code = code;
    if (details.partition !== undefined) this.partition = details.partition;
    if (details.blob !== undefined) this.blob = details.blob;
    if (details.expected !== undefined) {
      this.expected = { min: details.expected.min, max: details.expected.max };
    }
    if (details.found !== undefined) this.found = details.found;
    if (details.reason !== undefined) this.reason = details.reason;
  }
}

/**
 * Whether `err` is a {@linkcode StorageError}, optionally with the given `code`.
 *
 * @example
 * ```ts
 * import { isStorageError, StorageError } from "@blobrt/storage/errors";
 * import assert from "node:assert/strict";
 *
 * const err = new StorageError("Closed");
 * assert.ok(isStorageError(err, "Closed"));
 * assert.ok(!isStorageError(err, "Io"));
 * assert.ok(!isStorageError(new Error("x")));
 * ```
 *
 * @param err The value to test.
 * @param code The code it must have, if given.
 * @returns `true` when it matches.
 */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
