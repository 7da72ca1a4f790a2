/**
 * {@linkcode NodeStorage}: blobs as files through portable `node:fs`, on Deno,
 * Bun and Node alike.
 *
 * Reads and writes are `fs.readSync`/`fs.writeSync` with an explicit position
 * (real `pread`/`pwrite`); `sync` is the asynchronous `fs.fdatasync`, off the
 * event loop. See `drivers/node_fs.ts` for the details.
 *
 * @example
 * ```ts
 * import { NodeStorage } from "@blobrt/storage/node";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * const storage = new NodeStorage({ directory });
 * await using opened = await storage.open("p", "blob");
 * await opened.blob.writeAt(0, new TextEncoder().encode("on disk"), { sync: true });
 * assert.equal(opened.size, 0);
 * assert.deepEqual(await storage.scan("p"), [new TextEncoder().encode("blob")]);
 * await Deno.remove(directory, { recursive: true });
 * ```
 *
 * @module
 */

import { FileStorage, type FileStorageOptions } from "../fs/file_storage.ts";
import { nodeFileSystem } from "../fs/node_port.ts";

/**
 * Blobs as files through `node:fs`; see the module docs.
 *
 * @example
 * ```ts
 * import { NodeStorage } from "@blobrt/storage/node";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * const storage = new NodeStorage({ directory });
 * assert.equal(storage.directory, directory);
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export class NodeStorage extends FileStorage {
  /**
   * Creates the storage; nothing touches the disk until the first operation.
   *
   * @param options `directory`: the root, created on first use; `layout`: the
   * header of the blobs `open` creates or resets, `"v0"` (default) or `"v1"`.
   */
  constructor(options: FileStorageOptions) {
    super(options, nodeFileSystem);
  }
}
