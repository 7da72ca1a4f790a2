/**
 * {@linkcode AsyncReads}: reads of data not in the page cache on the
 * runtime's own asynchronous file API (`node:fs/promises`), which each
 * runtime runs on its own thread pool, so up to `depth` reads wait on the
 * disk at once and nothing blocks the loop. It replaced a pool of
 * `worker_threads` running `readSync`: starting workers stalled the loop
 * (120–210 ms on Bun and Node, over a second on Deno with 32 of them), and the
 * asynchronous API served more reads on Deno and Bun (bench/RESULTS.md).
 *
 * Each read in flight has a handle of its own (one shared handle would
 * serialise them): opened by the file's path and checked to reach the
 * caller's very file (same device and inode), then kept for a second after
 * the read for the next reads of that file. When the path no longer names
 * that file (removed or replaced), the read comes back with `done: -1` and
 * the caller reads on its own thread. So a removed file's space comes back
 * up to a second after its last read here.
 *
 * @module
 */

import { fstatSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { clearTimeout, setTimeout } from "node:timers";
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

/** How long an idle read handle is kept for the next read of its file. */
const IDLE_MS = 1000;
/** The most idle handles kept per file. */
const IDLE_PER_FILE = 16;

/** Idle read handles by file identity (`dev:ino`), each file's closed together after {@linkcode IDLE_MS}. */
const idle = new Map<
  string,
  { handles: fsp.FileHandle[]; timer?: ReturnType<typeof setTimeout> }
>();

function noop(): void {}

/**
 * A read handle on `fd`'s very file: an idle one, or a new one opened by
 * `path` and checked to be the same file; undefined when `path` no longer
 * names it.
 */
async function takeHandle(
  fd: number,
  path: string,
): Promise<{ handle: fsp.FileHandle; key: string } | undefined> {
  let key: string;
  let handle: fsp.FileHandle;
  try {
    const st = fstatSync(fd);
    key = `${st.dev}:${st.ino}`;
    const kept = idle.get(key)?.handles.pop();
    if (kept !== undefined) return { handle: kept, key };
    handle = await fsp.open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (`${st.dev}:${st.ino}` === key) return { handle, key };
  } catch {
    // fall through: not usable
  }
  await handle.close().catch(noop);
  return undefined;
}

/** Keeps `handle` for the next read of its file, closing the file's idle handles after a second. */
function keepHandle(key: string, handle: fsp.FileHandle): void {
  let entry = idle.get(key);
  if (entry === undefined) idle.set(key, entry = { handles: [] });
  if (entry.handles.length >= IDLE_PER_FILE) {
    void handle.close().catch(noop);
    return;
  }
  entry.handles.push(handle);
  const file = entry;
  clearTimeout(file.timer);
  file.timer = setTimeout(() => {
    if (idle.get(key) === file) idle.delete(key);
    for (const h of file.handles.splice(0)) void h.close().catch(noop);
  }, IDLE_MS);
  file.timer.unref?.(); // idle handles never keep the process alive
}

/**
 * Reads into `bytes` through a handle on `fd`'s file (kept for a second after,
 * for the next reads: opening one per read cost a third of the throughput);
 * -1 when `path` no longer names that file.
 */
export async function readByPath(
  fd: number,
  path: string,
  bytes: Uint8Array,
  position: number,
): Promise<number> {
  const taken = await takeHandle(fd, path);
  if (taken === undefined) return -1;
  const { handle, key } = taken;
  let done = 0;
  try {
    while (done < bytes.length) {
      const length = Math.min(bytes.length - done, 1 << 30);
      const { bytesRead } = await handle.read(bytes, done, length, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (err) {
    await handle.close().catch(noop);
    throw err;
  }
  keepHandle(key, handle);
  return done;
}

const shared = new Map<number, AsyncReads>();

/** The process's asynchronous readers of `depth`, made on first request. */
export function sharedAsyncReads(depth: number): AsyncReads {
  let reads = shared.get(depth);
  if (reads === undefined) shared.set(depth, reads = new AsyncReads(depth));
  return reads;
}
