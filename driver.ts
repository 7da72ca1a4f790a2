/**
 * Helpers for driver and wrapper authors (`@blobrt/storage/driver`): what the
 * drivers of blobrt are built from, so that a new one keeps the contract the
 * same way.
 *
 * - **Argument checks** (`check*`): every driver runs them first, so bad input
 *   is rejected the same way and in the same order everywhere.
 * - **The filesystem engine**: {@linkcode FileStorage} holds the whole on-disk
 *   contract over a {@linkcode FileSystemPort}; a filesystem driver is a port
 *   plus this class. {@linkcode errorCode} reads the POSIX code of an OS error.
 * - **The header codec**: {@linkcode encodeHeader}, {@linkcode createHeader},
 *   {@linkcode decodeHeader}, {@linkcode validateHeader},
 *   {@linkcode classifyHeader}, {@linkcode resolveHeader} (what `open` does with
 *   a file's first bytes, healing torn V1 creations as commonware main does),
 *   {@linkcode isTornCreation}, and {@linkcode crc32c}.
 * - **Names**: partition checks, blob names as bytes and lowercase hex.
 * - {@linkcode openedBlob} builds what `open` returns; {@linkcode SeededRandom}
 *   is the deterministic generator behind `FaultyStorage`.
 *
 * @example A read-only wrapper
 * ```ts
 * import { checkStorage, openedBlob } from "@blobrt/storage/driver";
 * import { MemoryStorage, type BlobName, type Storage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * class Renamed implements Storage {
 *   constructor(readonly inner: Storage) {
 *     checkStorage(inner, "Renamed");
 *   }
 *   async open(partition: string, name: BlobName) {
 *     const { blob, size, version } = await this.inner.open(`x-${partition}`, name);
 *     return openedBlob(blob, size, version);
 *   }
 *   remove(partition: string, name?: BlobName) {
 *     return this.inner.remove(`x-${partition}`, name);
 *   }
 *   scan(partition: string) {
 *     return this.inner.scan(`x-${partition}`);
 *   }
 *   close() {
 *     return this.inner.close();
 *   }
 *   [Symbol.asyncDispose]() {
 *     return this.close();
 *   }
 * }
 * const inner = new MemoryStorage();
 * await using _ = await new Renamed(inner).open("p", "b");
 * assert.equal((await inner.scan("x-p")).length, 1);
 * ```
 *
 * @module
 */

export {
  checkEnd,
  checkIndex,
  checkOpenArgs,
  checkRead,
  checkReadBuf,
  checkRemoveArgs,
  checkResize,
  checkStorage,
  checkSync,
  checkWrite,
  insufficientLength,
} from "./core/args.ts";
export { openedBlob } from "./core/opened.ts";
export {
  type BlobLayout,
  checkLayout,
  checkVersionRange,
  classifyHeader,
  createHeader,
  dataOffset,
  decodeHeader,
  encodeHeader,
  type Header,
  HEADER_SIZE,
  HEADER_SIZE_V1,
  type HeaderClass,
  isTornCreation,
  MAGIC,
  MAGIC_V1,
  type ResolvedHeader,
  resolveHeader,
  RUNTIME_VERSION,
  RUNTIME_VERSION_V1,
  validateHeader,
} from "./core/header.ts";
export { crc32c } from "./core/crc32c.ts";
export {
  blobNameBytes,
  compareBytes,
  fromHex,
  isPartitionName,
  toHex,
  validatePartitionName,
} from "./core/names.ts";
export { checkSeed, SeededRandom } from "./core/random.ts";
export { DEFAULT_READ_DEPTH, FileStorage, type FileStorageOptions } from "./fs/file_storage.ts";
export {
  type DirectoryLock,
  type DirEntry,
  errorCode,
  type FilePort,
  type FileSystemPort,
  LOCKED,
  NOT_REGULAR,
  type ReadOffload,
} from "./fs/port.ts";
export { nodeFileSystem } from "./fs/node_port.ts";
export { denoFileSystem } from "./fs/deno_port.ts";
