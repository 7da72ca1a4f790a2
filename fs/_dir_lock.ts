/**
 * One process per storage directory: the lock a filesystem storage takes at
 * its first operation and holds until the process exits.
 *
 * The lock is the file `.blobrt-lock` in the storage directory (commonware
 * never lists the root, and no partition name can start with a dot). It holds
 * the owner's `pid` and the kernel's start time of that process, so staleness
 * is provable: a pid that is gone, a zombie, or a pid reused by a process that
 * started at another time does not hold the lock.
 *
 * - Where the runtime can `flock` (Deno's `FsFile.tryLock`, needing no
 *   permission beyond the file; `flock` through `bun:ffi` on Bun), the owner
 *   also holds an exclusive `flock` on the file, which the kernel drops when
 *   the process dies (SIGKILL included). Holding it proves every earlier
 *   flock owner dead, so a stale record is simply overwritten.
 * - Without `flock` (Node), the file is created with `O_EXCL`; a record whose
 *   owner is provably dead is removed (after re-reading it unchanged) and the
 *   creation retried.
 *
 * Both kinds of process exclude each other: each reads the other's record.
 * What is left: two Node processes breaking the same stale record at the same
 * instant can both win (the re-read narrows that to microseconds); a lock on a
 * network filesystem shared by two hosts is not detected.
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { errorCode, LOCKED, portError } from "./port.ts";
import { loadLibc } from "./_libc.ts";

/** The lock file's name inside a storage directory. */
export const LOCK_FILE = ".blobrt-lock";

interface Owner {
  pid: number;
  start: string;
}

interface DenoLock {
  open(
    path: string,
    o: { read: boolean; write: boolean },
  ): Promise<{ tryLock(exclusive: boolean): Promise<boolean>; close(): void }>;
}

/** Locks taken (or being taken) by this process, by real path; shared by every copy of blobrt. */
const held: Map<string, Promise<void>> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for("@blobrt/storage.directoryLocks")
] ??= new Map()) as Map<string, Promise<void>>;

/** Keeps what holds a flock reachable for the life of the process. */
const keep: unknown[] = [];

/**
 * Takes this process's lock on `directory`, which must exist. Resolves at once
 * when this process already holds it; rejects with an error of code
 * {@linkcode LOCKED} naming the holder when another live process does.
 */
export async function lockDirectory(directory: string): Promise<void> {
  const real = await fs.promises.realpath(directory);
  const pending = held.get(real);
  if (pending !== undefined) return pending;
  const taking = acquire(`${real}/${LOCK_FILE}`);
  held.set(real, taking);
  taking.catch(() => held.delete(real));
  return taking;
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

async function acquire(path: string): Promise<void> {
  const me: Owner = { pid: process.pid, start: startTime(process.pid) ?? "" };
  const record = `${me.pid} ${me.start}\n`;
  const flock = await flocker();
  for (let round = 0; round < 50; round++) {
    if (flock === undefined) {
      // No flock here: the record is the lock. Create it, or prove its owner dead and retry.
      const fd = create(path, true);
      if (fd !== undefined) {
        fs.writeSync(fd, record, 0);
        keep.push(fd);
        return;
      }
      const owner = await settledOwner(path);
      if (owner?.pid === me.pid && owner.start === me.start) return;
      if (owner !== undefined && alive(owner, false)) throw locked(path, owner);
      breakStale(path, owner);
      continue;
    }
    // A file this round created holds no record yet: nothing to wait for.
    const made = create(path, true);
    const fd = made ?? create(path, false)!;
    let hold: { close(): void } | undefined;
    let kept = false;
    try {
      hold = await flock(path, fd);
      if (hold === undefined) throw locked(path, await settledOwner(path));
      const owner = made === undefined ? await settledOwner(path) : undefined;
      if (owner !== undefined && owner.pid !== me.pid && alive(owner, true)) {
        throw locked(path, owner);
      }
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, record, 0);
      // A process without flock may have replaced a stale file before our flock.
      if (!samePath(fd, path)) continue;
      keep.push(fd, hold);
      kept = true;
      return;
    } finally {
      if (!kept) {
        hold?.close();
        fs.closeSync(fd);
      }
    }
  }
  throw portError(LOCKED, "could not settle the lock file", path);
}

/** Opens the lock file, never through a link; with `exclusive`, undefined when it exists. */
function create(path: string, exclusive: boolean): number | undefined {
  const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
  try {
    return fs.openSync(path, O_RDWR | O_CREAT | (exclusive ? O_EXCL : 0) | O_NOFOLLOW, 0o644);
  } catch (err) {
    const code = errorCode(err);
    if (exclusive && code === "EEXIST") return undefined;
    if (code === "ELOOP") throw portError("ELOOP", "lock file is a symbolic link", path);
    throw err;
  }
}

/** Removes the lock file if it still holds the stale `owner`'s record. */
function breakStale(path: string, owner: Owner | undefined): void {
  let now;
  try {
    now = parse(fs.readFileSync(path, "utf8"));
  } catch (err) {
    if (errorCode(err) === "ENOENT") return;
    throw err;
  }
  if (now?.pid !== owner?.pid || now?.start !== owner?.start) return;
  try {
    fs.unlinkSync(path);
  } catch (err) {
    if (errorCode(err) !== "ENOENT") throw err;
  }
}

/** Whether `fd` is still the file at `path` (not unlinked or replaced). */
function samePath(fd: number, path: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.lstatSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * The record in the lock file, waiting up to 100 ms for a writer that has just
 * created it; undefined when it stays empty or unreadable (its creator died).
 */
async function settledOwner(path: string): Promise<Owner | undefined> {
  for (let i = 0; i < 10; i++) {
    let text;
    try {
      text = fs.readFileSync(path, "utf8");
    } catch (err) {
      if (errorCode(err) === "ENOENT") return undefined;
      throw err;
    }
    const owner = parse(text);
    if (owner !== undefined) return owner;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

function parse(text: string): Owner | undefined {
  const m = /^(\d+) (\d*)\n$/.exec(text);
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}

function locked(path: string, owner: Owner | undefined): Error {
  const who = owner === undefined ? "another process" : `process ${owner.pid}`;
  return portError(LOCKED, `storage directory locked by ${who}`, path);
}

/**
 * Takes an exclusive flock on the open lock file without waiting: what holds
 * it (drop it by closing), or undefined when another holds it.
 */
type Flock = (path: string, fd: number) => Promise<{ close(): void } | undefined>;

/** The runtime's non-blocking exclusive `flock`, or undefined where there is none. */
async function flocker(): Promise<Flock | undefined> {
  const g = globalThis as { Deno?: DenoLock; Bun?: unknown };
  if (g.Deno !== undefined) {
    const deno = g.Deno;
    return async (path) => {
      const file = await deno.open(path, { read: true, write: true });
      if (await file.tryLock(true)) return file;
      file.close();
      return undefined;
    };
  }
  if (g.Bun !== undefined) {
    const libc = await loadLibc();
    // The flock belongs to `fd`'s open file: closing `fd` drops it.
    if (libc !== undefined) {
      return async (_path, fd) => libc.flockExclusive(fd) === 0 ? { close() {} } : undefined;
    }
  }
  return undefined;
}

/** The kernel's start time of `pid` (Linux), or undefined where it cannot be read. */
function startTime(pid: number): string | undefined {
  const stat = procStat(pid);
  return stat === null ? undefined : stat?.start;
}

/** `/proc/<pid>/stat`'s state and start time; null when the process is gone, undefined when unknowable. */
function procStat(pid: number): { state: string; start: string } | null | undefined {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    return errorCode(err) === "ENOENT" ? null : undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", start: fields[19] ?? "" };
}

/**
 * Whether `owner` is a live process. Unknowable counts as alive, except when
 * this process holds the flock: then every flock owner is dead, and the
 * record most likely one of theirs.
 */
function alive(owner: Owner, flocked: boolean): boolean {
  const stat = procStat(owner.pid);
  if (stat === null) return false;
  if (stat !== undefined) {
    if (stat.state === "Z" || stat.state === "X") return false;
    return owner.start === "" || stat.start === owner.start;
  }
  try {
    process.kill(owner.pid, 0);
    return !flocked;
  } catch (err) {
    return errorCode(err) === "EPERM" && !flocked;
  }
}
