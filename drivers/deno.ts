/**
 * {@linkcode DenoStorage}: blobs as files through `Deno.FsFile`.
 *
 * `Deno.FsFile` has no `pread`/`pwrite`, so each positional call is a
 * `seekSync` then a `readSync`/`writeSync` (two synchronous calls in a row
 * cannot be interleaved on one thread); vectored writes are copied into one
 * buffer; `sync` is `FsFile.syncData()`, off the event loop. On Deno the
 * default driver is `NodeStorage`, whose `node:fs` calls are one syscall each.
 *
 * Importing this module touches no `Deno` global; constructing a storage on a
 * runtime without `Deno` works, and its first operation rejects.
 *
 * @example
 * ```ts
 * import { DenoStorage } from "@blobrt/storage/deno";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * const storage = new DenoStorage({ directory });
 * await using opened = await storage.open("p", "b");
 * await opened.blob.writeAt(0, new Uint8Array([1, 2]), { sync: true });
 * assert.deepEqual((await opened.blob.readAt(0, 2)).bytes(), new Uint8Array([1, 2]));
 * await Deno.remove(directory, { recursive: true });
 * ```
 *
 * @module
 */

import { FileStorage, type FileStorageOptions } from "../fs/file_storage.ts";
import { denoFileSystem } from "../fs/deno_port.ts";

/**
 * Blobs as files through `Deno.FsFile`; see the module docs.
 *
 * @example
 * ```ts
 * import { DenoStorage } from "@blobrt/storage/deno";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * assert.equal(new DenoStorage({ directory }).directory, directory);
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export class DenoStorage extends FileStorage {
  /**
   * Creates the storage; nothing touches the disk until the first operation.
   *
   * @param options `directory`: the root, created on first use; `layout`: the
   * header of the blobs `open` creates or resets, `"v0"` (default) or `"v1"`.
   */
  constructor(options: FileStorageOptions) {
    super(options, denoFileSystem);
  }
}
