/**
 * `@blobrt/storage/browser`: everything of blobrt that runs in a browser, in
 * one entry that bundles with `--platform=browser` and imports no `node:*`
 * module: the types, errors and buffers of the root, `crc32c`,
 * {@linkcode MemoryStorage} (any thread), {@linkcode OpfsStorage} (dedicated
 * workers), the wrappers ({@linkcode AuditedStorage}, {@linkcode FaultyStorage},
 * {@linkcode MeteredStorage}) and the buffer layer.
 *
 * There is no `createStorage` here: the root's picks a driver for Deno, Bun
 * or Node. In a browser, construct `new OpfsStorage({ directory })` in a
 * dedicated worker, or `new MemoryStorage()` anywhere.
 *
 * @example In a dedicated worker
 * ```ts ignore
 * import { AuditedStorage, Auditor, OpfsStorage } from "@blobrt/storage/browser";
 *
 * const auditor = new Auditor();
 * const storage = new AuditedStorage(new OpfsStorage({ directory: "app" }), auditor);
 * await using opened = await storage.open("journal", "0");
 * await opened.blob.writeAt(opened.size, new TextEncoder().encode("entry\n"), { sync: true });
 * console.log(auditor.state());
 * ```
 *
 * @module
 */

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
export type { BlobLayout } from "./core/header.ts";
export { crc32c } from "./core/crc32c.ts";
export { MemoryStorage, type MemoryStorageOptions } from "./drivers/memory.ts";
export { OpfsStorage, type OpfsStorageOptions } from "./opfs/mod.ts";
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
export * from "./buffer/mod.ts";
