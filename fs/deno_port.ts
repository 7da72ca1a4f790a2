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
 * It reaches `Deno` through `globalThis` and declares the slice of the API it
 * uses, so that the sources type-check without Deno's types (under `tsc` or
 * Bun) and importing it on a runtime without `Deno` is harmless: the first
 * call fails instead.
 *
 * @module
 */

import type { FilePort, FileSystemPort } from "./port.ts";

/** The slice of `Deno.FsFile` this port uses. */
interface DenoFile {
  statSync(): { size: number };
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
    options: { read: boolean; write?: boolean; create?: boolean; mode?: number },
  ): Promise<DenoFile>;
  remove(path: string, options?: { recursive: boolean }): Promise<void>;
  lstat(path: string): Promise<{ isDirectory: boolean }>;
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

/** The `Deno.FsFile` port. */
export const denoFileSystem: FileSystemPort = {
  name: "Deno.FsFile",
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
  removeFile: async (path) => await deno().remove(path),
  removeDir: async (path) => {
    if (!(await deno().lstat(path)).isDirectory) {
      throw Object.assign(new Error(`not a directory: ${path}`), { code: "ENOTDIR" });
    }
    await deno().remove(path, { recursive: true });
  },
  open: async (path) =>
    filePort(await deno().open(path, { read: true, write: true, create: true, mode: 0o644 })),
};
