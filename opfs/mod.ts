/**
 * {@linkcode OpfsStorage}: blobs in the browser's Origin Private File System,
 * with the layout, headers and contract of the filesystem drivers.
 *
 * It runs in a **dedicated worker** (the only place browsers offer
 * `FileSystemSyncAccessHandle`, the synchronous positional I/O that blobrt's
 * filesystem engine is built on). The storage directory is a path of OPFS
 * directory names under `navigator.storage.getDirectory()`, created on first
 * use; each partition is a directory in it and each blob a file named by the
 * lowercase hex of its name, starting with a V0 (8-byte) or V1 (4096-byte)
 * header: the commonware-runtime layout, as `NodeStorage` writes it.
 *
 * - **Reads and writes** are the access handle's synchronous `read`/`write`
 *   at a position; every handle of one file (also from other storages of the
 *   worker) shares one access handle, because OPFS allows only one per file.
 * - **`sync`** is the access handle's `flush()`, which makes the written bytes
 *   durable. OPFS has no asynchronous flush and no directory fsync: `sync`
 *   blocks the worker for as long as the flush takes, and directory entries
 *   (created or removed files and partitions) are as durable as the browser
 *   makes them.
 * - **Read-after-remove.** OPFS refuses to remove an open file, so a removed
 *   blob that is still open gets a tombstone, the name's next file a new
 *   generation (`<hex>.1`, …), and the last `close` deletes the old file. The
 *   first use of a partition by a worker heals what a crash in the middle of
 *   that left: removed files stay removed, `scan` never shows them, and a
 *   live generation goes back to its plain name. The details are in
 *   `opfs/_port.ts`. It never deletes or renames an entry it did not make:
 *   the generations, tombstones and marker it makes are listed first in the
 *   partition's `.blobrt-opfs-owned`; one that is not listed is a foreign
 *   entry, which `scan` refuses with `PartitionCorrupt` (as `NodeStorage`
 *   does) and nothing touches.
 * - **Dedicated workers only.** Where there are no sync access handles (a
 *   page's main thread, a shared or service worker), every operation rejects
 *   at once with a `StorageError` (`Io`) saying a dedicated worker is needed,
 *   before it takes the lock or creates anything.
 * - **One worker per directory.** The first operation takes a Web Lock named
 *   after the directory and holds it until `storage.close()` (of every storage
 *   of the worker on that directory) or the end of the worker. While another
 *   worker or tab of the origin holds it, an operation waits up to a second
 *   (time for the worker of a page being reloaded to end), then rejects with
 *   `StorageLocked`. Storages of one worker on the same directory share it.
 * - **Crashes.** A blob synced before the browser is closed, or killed,
 *   reads back after a restart (both are tested in headless Chromium and Firefox).
 *
 * @example In a dedicated worker
 * ```ts ignore
 * import { OpfsStorage } from "@blobrt/storage/opfs";
 *
 * const storage = new OpfsStorage({ directory: "blobrt/app" });
 * await using opened = await storage.open("journal", "0");
 * await opened.blob.writeAt(opened.size, new TextEncoder().encode("entry\n"), { sync: true });
 * console.log(await storage.scan("journal"));
 * ```
 *
 * @module
 */

import { FileStorage } from "../fs/file_storage.ts";
import type { BlobLayout } from "../core/header.ts";
import { opfsPort } from "./_port.ts";

/**
 * Options of {@linkcode OpfsStorage}.
 *
 * @example
 * ```ts ignore
 * import { OpfsStorage, type OpfsStorageOptions } from "@blobrt/storage/opfs";
 *
 * const options: OpfsStorageOptions = { directory: "blobrt/app", layout: "v1" };
 * const storage = new OpfsStorage(options);
 * ```
 */
export interface OpfsStorageOptions {
  /**
   * The storage directory: OPFS directory names separated by `/`, under
   * `navigator.storage.getDirectory()` (`"blobrt/app"`; `"/"` is the OPFS
   * root itself). Created on first use. No component may be `.` or `..`,
   * or contain a backslash.
   */
  directory: string;
  /**
   * The header of the blobs `open` creates or resets: `"v0"` (the default, 8
   * bytes) or `"v1"` (4096 bytes with a CRC32C). Existing blobs keep theirs.
   */
  layout?: BlobLayout;
}

/**
 * Blobs as files in the Origin Private File System, for dedicated workers;
 * see the module docs.
 *
 * @example Open, write durably, reopen
 * ```ts ignore
 * import { OpfsStorage } from "@blobrt/storage/opfs";
 *
 * const storage = new OpfsStorage({ directory: "blobrt/demo" });
 * const { blob } = await storage.open("p", "greeting");
 * await blob.writeAt(0, new TextEncoder().encode("hello"), { sync: true });
 * await blob.close();
 * const again = await storage.open("p", "greeting");
 * console.log(again.size); // 5, also after a reload
 * await again.blob.close();
 * ```
 */
export class OpfsStorage extends FileStorage {
  /**
   * Creates the storage; nothing touches OPFS until the first operation.
   *
   * @param options `directory`: the OPFS path of the root, created on first
   * use; `layout`: the header of new blobs, `"v0"` (default) or `"v1"`.
   * @throws {TypeError} When `directory` is not a non-empty string, or `layout` not a string.
   * @throws {RangeError} When a component of `directory` is `.` or `..` or has a
   * backslash, or `layout` is neither `"v0"` nor `"v1"`.
   */
  constructor(options: OpfsStorageOptions) {
    const directory = options?.directory;
    if (typeof directory === "string") checkDirectory(directory);
    super({ directory, layout: options?.layout, readDepth: 0 }, opfsPort(String(directory)));
  }
}

function checkDirectory(directory: string): void {
  for (const part of directory.split("/")) {
    if (part === "." || part === ".." || part.includes("\\")) {
      throw new RangeError(
        `options.directory must be OPFS directory names separated by "/", got ${
          JSON.stringify(directory)
        }`,
      );
    }
  }
}
