/**
 * blobrt: named partitions of named blobs, with positional reads, vectored
 * writes, an 8-byte versioned header on every blob and explicit durability.
 * The on-disk format is that of commonware-runtime's storage.
 *
 * Start with {@linkcode createStorage}, which picks the fastest driver for the
 * running runtime, then use the {@linkcode Storage} and {@linkcode Blob}
 * interfaces: their docs carry the whole contract. Every driver
 * ({@linkcode MemoryStorage}, {@linkcode NodeStorage}, {@linkcode DenoStorage},
 * {@linkcode BunStorage}) and wrapper ({@linkcode AuditedStorage},
 * {@linkcode FaultyStorage}, {@linkcode MeteredStorage}) keeps it. Failures are
 * {@linkcode StorageError}s with a `code`. Writing a driver of your own? The
 * helpers are on `@blobrt/storage/driver`.
 *
 * @example A first blob
 * ```ts
 * import { createStorage } from "@blobrt/storage";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const directory = await mkdtemp(join(tmpdir(), "blobrt-"));
 * const storage = createStorage({ directory });
 * {
 *   await using opened = await storage.open("journal", "segment-0");
 *   const { blob } = opened;
 *   await blob.writeAt(0, [new TextEncoder().encode("hello "), new TextEncoder().encode("world")]);
 *   await blob.sync();
 *   const read = await blob.readAt(6, 5);
 *   assert.equal(new TextDecoder().decode(read.bytes()), "world");
 * }
 * await rm(directory, { recursive: true });
 * ```
 *
 * @module
 */

export {
  createStorage,
  type CreateStorageOptions,
  DEFAULT_DRIVER,
  type DriverName,
} from "./drivers/select.ts";
export type {
  Blob,
  BlobName,
  OpenedBlob,
  OpenOptions,
  ReadTarget,
  Storage,
  VersionRange,
  WriteData,
  WriteOptions,
} from "./core/types.ts";
export { DEFAULT_BLOB_VERSION } from "./core/types.ts";
export {
  isStorageError,
  StorageError,
  type StorageErrorCode,
  type StorageErrorDetails,
} from "./core/errors.ts";
export { IoBuf, IoBufMut, IoBufs, IoBufsMut } from "./core/buffers.ts";
export { MemoryStorage, type MemoryStorageOptions } from "./drivers/memory.ts";
export { NodeStorage } from "./drivers/node.ts";
export { DenoStorage } from "./drivers/deno.ts";
export { BunStorage } from "./drivers/bun.ts";
export type { FileStorageOptions } from "./fs/file_storage.ts";
export type { BlobLayout } from "./core/header.ts";
export { crc32c } from "./core/crc32c.ts";
export { AuditedStorage, Auditor } from "./drivers/audited.ts";
export {
  type FaultRates,
  type FaultyConfig,
  FaultyStorage,
  INJECTED_FAULT_REASON,
  isInjectedFault,
  type PartialWriteMode,
} from "./drivers/faulty.ts";
export {
  type Meter,
  MeteredStorage,
  type MeteredStorageOptions,
  type MeterInstrument,
  type MeterInstrumentOptions,
} from "./drivers/metered.ts";
