/**
 * {@linkcode AsyncReads}: reads of data not in the page cache on the
 * runtime's own asynchronous file API (`node:fs/promises`), which each
 * runtime runs on its own thread pool, so up to `depth` reads wait on the
 * disk at once and nothing blocks the loop. It replaced a pool of
 * `worker_threads` running `readSync`: starting workers stalled the loop
 * (120–210 ms on Bun and Node, over a second on Deno with 32 of them), and the
 * asynchronous API served more reads on Deno and Bun (bench/RESULTS.md).
 *
 * Each read opens the file by its path (one handle per read in flight: one
 * shared handle would serialise them), checks that it reached the caller's
 * very file (same inode), reads, and closes. When the path no longer names
 * that file (removed or replaced), the read comes back with `done: -1` and
 * the caller reads on its own thread.
 *
 * @module
 */

import { fstatSync } from "node:fs";
import * as fsp from "node:fs/promises";
import type { ReadOffload } from "./port.ts";

/** Reads on the runtime's asynchronous file API, at most `depth` at once. */
export class AsyncReads implements ReadOffload {
  readonly #depth: number;
  readonly #readOne: typeof readByPath;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  /**
   * @param depth Most reads in flight at once.
   * @param readOne How one read is done (tests count with their own).
   */
  constructor(depth: number, readOne: typeof readByPath = readByPath) {
    this.#depth = depth;
    this.#readOne = readOne;
  }

  /**
   * Reads up to `buffer.byteLength` bytes at `position` of the file at `path`
   * (which must be the file open as `fd`); resolves with the count (short only
   * at end of file; -1 when `path` no longer names that file) and `buffer`.
   */
  async read(
    fd: number,
    path: string,
    buffer: ArrayBuffer,
    position: number,
  ): Promise<{ done: number; buffer: ArrayBuffer }> {
    if (this.#running < this.#depth) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // its slot handed over
    try {
      return { done: await this.#readOne(fd, path, new Uint8Array(buffer), position), buffer };
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next(); // the slot goes straight to the next read
      else this.#running--;
    }
  }
}

/** Reads into `bytes` through a fresh handle on `path`; -1 when it is not `fd`'s file. */
export async function readByPath(
  fd: number,
  path: string,
  bytes: Uint8Array,
  position: number,
): Promise<number> {
  let ino: number;
  let handle: fsp.FileHandle;
  try {
    ino = fstatSync(fd).ino;
    handle = await fsp.open(path, "r");
  } catch {
    return -1;
  }
  try {
    if ((await handle.stat()).ino !== ino) return -1;
    let done = 0;
    while (done < bytes.length) {
      const length = Math.min(bytes.length - done, 1 << 30);
      const { bytesRead } = await handle.read(bytes, done, length, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  } finally {
    await handle.close();
  }
}

const shared = new Map<number, AsyncReads>();

/** The process's asynchronous readers of `depth`, made on first request. */
export function sharedAsyncReads(depth: number): AsyncReads {
  let reads = shared.get(depth);
  if (reads === undefined) shared.set(depth, reads = new AsyncReads(depth));
  return reads;
}
