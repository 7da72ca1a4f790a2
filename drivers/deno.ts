/**
 * {@linkcode DenoStorage}: blobs as files through `Deno.FsFile`.
 *
 * `Deno.FsFile` has no `pread`/`pwrite`, and its asynchronous `seek` then
 * `read`/`write` pairs interleave under concurrent use and corrupt data. This
 * driver pairs `seekSync` with `readSync`/`writeSync`: two synchronous calls in
 * a row cannot be interleaved on one thread. Vectored writes are copied into
 * one buffer (there is no `writev`). `sync` is `FsFile.syncData()`, which runs
 * off the event loop.
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

import { FileStorage, type FileStorageOptions } from "../core/file_storage.ts";
import type { FilePort, FileSystemPort } from "../core/file_port.ts";

function filePort(file: Deno.FsFile): FilePort {
  return {
    size: () => file.statSync().size,
    read: (buf, position) => {
      file.seekSync(position, Deno.SeekMode.Start);
      return file.readSync(buf) ?? 0;
    },
    write: (buf, position) => {
      file.seekSync(position, Deno.SeekMode.Start);
      return file.writeSync(buf);
    },
    truncate: (length) => file.truncateSync(length),
    datasync: () => file.syncData(),
    fsync: () => file.sync(),
    close: () => file.close(),
  };
}

const denoFileSystem: FileSystemPort = {
  name: "Deno.FsFile",
  mkdir: (path) => Deno.mkdir(path, { recursive: true }),
  readDir: async (path) => {
    const entries = [];
    for await (const e of Deno.readDir(path)) entries.push({ name: e.name, isFile: e.isFile });
    return entries;
  },
  syncDir: async (path) => {
    const dir = await Deno.open(path, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  },
  removeFile: (path) => Deno.remove(path),
  removeDir: async (path) => {
    if (!(await Deno.lstat(path)).isDirectory) {
      throw Object.assign(new Error(`not a directory: ${path}`), { code: "ENOTDIR" });
    }
    await Deno.remove(path, { recursive: true });
  },
  open: async (path) =>
    filePort(await Deno.open(path, { read: true, write: true, create: true, mode: 0o644 })),
};

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
   * @param options `{ directory }`: the root, created on first use.
   */
  constructor(options: FileStorageOptions) {
    super(options, denoFileSystem);
  }
}
