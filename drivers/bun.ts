/**
 * {@linkcode BunStorage}: blobs as files on Bun, through the fastest correct
 * primitives Bun offers. Measured (bench/RESULTS.md), those are `node:fs`'s
 * positional synchronous calls: `fs.readSync`/`fs.writeSync` are real
 * `pread`/`pwrite` and `fs.writevSync` a real `pwritev`. Bun's own file API
 * has no positional write, and `Bun.file(fd).slice()` reads through the
 * shared file cursor, which returns wrong data under concurrent use.
 *
 * Importing this module is safe on any runtime; it only needs `node:fs`.
 *
 * @example
 * ```ts
 * import { BunStorage } from "@blobrt/storage/bun";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * await using opened = await new BunStorage({ directory }).open("p", "b");
 * assert.equal(opened.size, 0);
 * await Deno.remove(directory, { recursive: true });
 * ```
 *
 * @module
 */

import { FileStorage, type FileStorageOptions } from "../fs/file_storage.ts";
import { nodeFileSystem } from "../fs/node_port.ts";

/**
 * Blobs as files on Bun; see the module docs.
 *
 * @example
 * ```ts
 * import { BunStorage } from "@blobrt/storage/bun";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * assert.equal(new BunStorage({ directory }).directory, directory);
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export class BunStorage extends FileStorage {
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
