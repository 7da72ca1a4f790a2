/**
 * {@linkcode ReadPool}: worker threads that run blocking `pread`s, so reads of
 * data that is not in the page cache leave the event loop free and run in
 * parallel, up to the pool's size (the disk's queue depth is what they use).
 *
 * Each worker takes one request at a time: `{ fd, position, buffer }`, reads
 * into the transferred `ArrayBuffer` and transfers it back, so a result costs
 * no copy. Deno's `node:fs` keeps a table of descriptors per thread, so on
 * Deno a worker reaches the caller's open file through `/proc/self/fd/N` (the
 * same inode, even when it was removed; Deno allows it only with `-A`), or
 * else by its path, checked to be the same inode. When it cannot reach that
 * very file (removed or replaced, or not permitted), the read comes back with
 * `done: -1` and the caller reads on its own thread. The caller keeps the
 * descriptor open until every read it sent has come back.
 *
 * Workers start on first use, one more each time every started one is busy,
 * and do not keep the process alive while they wait for work.
 *
 * @module
 */

import { fstatSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { detectRuntime } from "../core/_runtime.ts";
import type { ReadOffload } from "./port.ts";

const REOPEN = detectRuntime() === "deno";

/** The worker, as source: CommonJS, evaluated by `node:worker_threads`. */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
function reach(fd, path, ino) {
  try {
    return fs.openSync("/proc/self/fd/" + fd, "r");
  } catch {}
  try {
    const file = fs.openSync(path, "r");
    if (fs.fstatSync(file).ino === ino) return file;
    fs.closeSync(file);
  } catch {}
  return -1;
}
parentPort.on("message", ({ fd, position, buffer, reopen, path, ino }) => {
  const bytes = new Uint8Array(buffer);
  try {
    const file = reopen ? reach(fd, path, ino) : fd;
    if (file < 0) return parentPort.postMessage({ done: -1, buffer }, [buffer]);
    let done = 0;
    try {
      while (done < bytes.length) {
        const n = fs.readSync(file, bytes, done, Math.min(bytes.length - done, 1 << 30), position + done);
        if (n === 0) break;
        done += n;
      }
    } finally {
      if (reopen) fs.closeSync(file);
    }
    parentPort.postMessage({ done, buffer }, [buffer]);
  } catch (err) {
    parentPort.postMessage({ error: { message: String(err && err.message), code: err && err.code }, buffer }, [buffer]);
  }
});
`;

interface Request {
  fd: number;
  path: string;
  position: number;
  buffer: ArrayBuffer;
  resolve: (result: { done: number; buffer: ArrayBuffer }) => void;
  reject: (err: Error) => void;
}

interface Reply {
  done?: number;
  buffer: ArrayBuffer;
  error?: { message: string; code?: string };
}

/** Reader pools by depth, shared by every storage of the process. */
const pools = new Map<number, ReadPool>();

/** The process's pool of `depth` reader threads, made on first request. */
export function sharedReadPool(depth: number): ReadPool {
  let pool = pools.get(depth);
  if (pool === undefined) pools.set(depth, pool = new ReadPool(depth));
  return pool;
}

/** A pool of reader threads; see the module docs. */
export class ReadPool implements ReadOffload {
  readonly #size: number;
  readonly #idle: Worker[] = [];
  readonly #queue: Request[] = [];
  #started = 0;

  /** @param size Most reads in flight at once (worker threads). */
  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Reads up to `buffer.byteLength` bytes at `position` of `fd` (the file at
   * `path`) on a worker; resolves with the count read (short only at end of
   * file; -1 when the worker could not reach the file) and the buffer, which
   * was transferred away and comes back.
   */
  read(
    fd: number,
    path: string,
    buffer: ArrayBuffer,
    position: number,
  ): Promise<{ done: number; buffer: ArrayBuffer }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ fd, path, position, buffer, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined) {
        if (this.#started >= this.#size) return;
        worker = this.#spawn();
      }
      this.#run(worker, this.#queue.shift()!); // `!`: the queue is not empty
    }
  }

  #spawn(): Worker {
    this.#started++;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on("error", () => {
      // A dead worker is replaced on demand; its request failed through `exit`.
      this.#started--;
    });
    return worker;
  }

  #run(worker: Worker, request: Request): void {
    worker.ref(); // a read in flight keeps the process alive, as any I/O does
    const onExit = () => request.reject(new Error("read worker exited"));
    worker.once("exit", onExit);
    worker.once("message", (reply: Reply) => {
      worker.off("exit", onExit);
      worker.unref();
      this.#idle.push(worker);
      if (reply.error !== undefined) {
        request.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      } else request.resolve({ done: reply.done ?? 0, buffer: reply.buffer });
      this.#pump();
    });
    const { fd, path, position, buffer } = request;
    const ino = REOPEN ? fstatSync(fd).ino : 0; // the worker checks it reached this very file
    worker.postMessage({ fd, path, ino, position, buffer, reopen: REOPEN }, [buffer]);
  }
}
