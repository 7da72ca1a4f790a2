/**
 * The `Deno.FsFile` {@linkcode FileSystemPort} behind `DenoStorage`. Not a
 * driver itself.
 *
 * `Deno.FsFile` has no `pread`/`pwrite`, and its asynchronous `seek` then
 * `read`/`write` pairs interleave under concurrent use and corrupt data. This
 * port pairs `seekSync` with `readSync`/`writeSync`: two synchronous calls in
 * a row cannot be interleaved on one thread. There is no `writev`, so the
 * engine coalesces vectored writes. `datasync` is `FsFile.syncData()`, which
 * runs off the event loop.
 *
 * `Deno.open` has no `O_NOFOLLOW`, so a blob is opened in two steps. `lstat`
 * first: a symbolic link is refused (`ELOOP`), and so is anything but a
 * regular file. A missing file is created with `createNew` (`O_CREAT|O_EXCL`,
 * which never follows a symbolic link, dangling or not: one created since the
 * `lstat` fails with `EEXIST`, and the steps start again). An existing file is
 * opened without `create`, then its `fstat` must be the `lstat`'s regular file
 * (same device and inode), or it is closed and refused. What remains is a
 * window between the `lstat` and the `open` of an existing file: an entry
 * swapped for a symbolic link there is opened (the `open` itself follows it),
 * found to be another file and closed, with nothing read, written or created.
 * With `--allow-ffi` on Linux, a call given the storage root resolves its path
 * beneath it instead (`fs/_beneath.ts`), and the blob's descriptor is
 * reopened as a `Deno.FsFile` through `/proc/self/fd`.
 *
 * It reaches `Deno` through `globalThis` and declares the slice of the API it
 * uses, so that the sources type-check without Deno's types (under `tsc` or
 * Bun) and importing it on a runtime without `Deno` is harmless: the first
 * call fails instead.
 *
 * @module
 */

import { errorCode, type FilePort, type FileSystemPort, NOT_REGULAR, portError } from "./port.ts";
import { lockDirectory } from "./_dir_lock.ts";
import { type BeneathHost, beneathOr } from "./_beneath.ts";

/** The slice of `Deno.FsFile` this port uses. */
interface DenoFile {
  statSync(): { size: number; isFile: boolean; ino: number | null; dev: number };
  seekSync(offset: number, whence: number): number;
  readSync(buf: Uint8Array): number | null;
  writeSync(buf: Uint8Array): number;
  truncateSync(length: number): void;
  syncData(): Promise<void>;
  sync(): Promise<void>;
  close(): void;
}

/** The slice of the `Deno` namespace this port uses. */
interface DenoApi {
  mkdir(path: string, options: { recursive: boolean; mode: number }): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string; isFile: boolean }>;
  open(
    path: string,
    options: { read: boolean; write?: boolean; createNew?: boolean; mode?: number },
  ): Promise<DenoFile>;
  remove(path: string, options?: { recursive: boolean }): Promise<void>;
  lstat(path: string): Promise<DenoStat>;
}

/** The slice of `Deno.FileInfo` this port uses. */
interface DenoStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  ino: number | null;
  dev: number;
}

/** `lstat`, or `undefined` when nothing is there (or a parent is not a directory). */
async function lstat(path: string): Promise<DenoStat | undefined> {
  try {
    return await deno().lstat(path);
  } catch (err) {
    const code = errorCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** How many times `open` starts again when the entry changes under it. */
const OPEN_ATTEMPTS = 4;

/** Opens or creates a regular file without following a symbolic link (see the module doc). */
async function openRegular(path: string): Promise<DenoFile> {
  for (let attempt = 1;; attempt++) {
    const before = await lstat(path);
    if (before === undefined) {
      try {
        return await deno().open(path, { read: true, write: true, createNew: true, mode: 0o644 });
      } catch (err) {
        if (errorCode(err) === "EEXIST" && attempt < OPEN_ATTEMPTS) continue;
        throw err;
      }
    }
    if (before.isSymlink) throw portError("ELOOP", "a symbolic link", path);
    if (before.isDirectory) throw portError("EISDIR", "a directory", path);
    if (!before.isFile) throw portError(NOT_REGULAR, "not a regular file", path);
    let file: DenoFile;
    try {
      file = await deno().open(path, { read: true, write: true });
    } catch (err) {
      if (errorCode(err) === "ENOENT" && attempt < OPEN_ATTEMPTS) continue;
      throw err;
    }
    let same = false;
    try {
      const after = file.statSync();
      same = after.isFile && after.dev === before.dev &&
        (after.ino === null || before.ino === null || after.ino === before.ino);
    } finally {
      if (!same) file.close();
    }
    if (!same) throw portError("ELOOP", "replaced while opening", path);
    return file;
  }
}

/** `Deno.SeekMode.Start`. */
const SEEK_START = 0;

function deno(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (api === undefined) throw new TypeError("DenoStorage needs the Deno runtime");
  return api;
}

function filePort(file: DenoFile): FilePort {
  return {
    size: () => file.statSync().size,
    read: (buf, position) => {
      file.seekSync(position, SEEK_START);
      return file.readSync(buf) ?? 0;
    },
    write: (buf, position) => {
      file.seekSync(position, SEEK_START);
      return file.writeSync(buf);
    },
    truncate: (length) => file.truncateSync(length),
    datasync: () => file.syncData(),
    fsync: () => file.sync(),
    close: () => file.close(),
  };
}

/** The path-based calls `fs/_beneath.ts` builds on, on `/proc/self/fd/<fd>` paths. */
const host: BeneathHost = {
  mkdir: async (path) => await deno().mkdir(path, { recursive: true, mode: 0o755 }),
  readDir: async (path) => {
    const entries = [];
    for await (const e of deno().readDir(path)) entries.push({ name: e.name, isFile: e.isFile });
    return entries;
  },
  syncDir: async (path) => {
    const dir = await deno().open(path, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  },
  adopt: async (fd, path, close) => {
    // Reopened through the descriptor's /proc entry, which names this very file.
    let file: DenoFile;
    try {
      file = await deno().open(`/proc/self/fd/${fd}`, { read: true, write: true });
    } finally {
      close(fd);
    }
    let regular = false;
    try {
      regular = file.statSync().isFile;
    } finally {
      if (!regular) file.close();
    }
    if (!regular) throw portError(NOT_REGULAR, "not a regular file", path);
    return filePort(file);
  },
};

/** The `Deno.FsFile` port. */
export const denoFileSystem: FileSystemPort = {
  name: "Deno.FsFile",
  mkdir: beneathOr(host, "mkdir", (path) => host.mkdir(path)),
  readDir: beneathOr(host, "readDir", (path) => host.readDir(path)),
  syncDir: beneathOr(host, "syncDir", (path) => host.syncDir(path)),
  removeFile: beneathOr(host, "removeFile", (path) => deno().remove(path)),
  lock: lockDirectory,
  kind: beneathOr(host, "kind", async (path) => {
    const st = await lstat(path);
    if (st === undefined) return "missing";
    if (st.isSymlink) return "symlink";
    if (st.isDirectory) return "dir";
    return st.isFile ? "file" : "other";
  }),
  removeDir: beneathOr(host, "removeDir", async (path) => {
    if (!(await deno().lstat(path)).isDirectory) {
      throw Object.assign(new Error(`not a directory: ${path}`), { code: "ENOTDIR" });
    }
    await deno().remove(path, { recursive: true });
  }),
  open: beneathOr(host, "open", async (path) => filePort(await openRegular(path))),
};
