/**
 * One process per storage directory: the lock a filesystem storage takes at
 * its first operation and holds until `storage.close()` or the process exits.
 *
 * - **Deno and Bun: an exclusive `flock` on the directory itself**, through
 *   its own descriptor (`flock` through FFI where the runtime has it: Bun, or
 *   Deno with `--allow-ffi`; otherwise Deno's `FsFile.tryLock` on the
 *   directory, which needs no permission beyond reading it). The kernel drops
 *   it when the process dies, SIGKILL included, and no file can be removed,
 *   renamed or replaced to get around it: the lock is on the directory's
 *   inode, not on a name in it.
 * - **Every owner writes a record** in `.blobrt-lock` (`fs/_lock_owner.ts`:
 *   pid, start time, PID namespace, boot id, and whether it holds the
 *   `flock`), opened without following a link and without blocking; a FIFO,
 *   link or anything but a regular file there is refused (`StorageLocked`,
 *   saying what is there). The record names the holder in errors and is what
 *   Node decides by.
 * - **Node has no `flock`**: its lock is the record alone, created with
 *   `O_EXCL`. A record whose owner is provably dead (gone, a zombie, a reused
 *   pid, an earlier boot) is removed and the creation retried. Node also reads
 *   `/proc/locks`, so a Deno or Bun holder keeps it out even when the record
 *   was removed. What Node cannot do: prove dead a process of **another PID
 *   namespace** (another container sharing the volume), whose pid means
 *   nothing here. Such a record is never broken: the directory stays
 *   `StorageLocked`, with a message saying to delete `.blobrt-lock` once no
 *   process uses the directory (Deno and Bun, holding the `flock`, break a
 *   stale record of another Deno or Bun process by themselves). And a Node
 *   holder checks, at each `open`, `remove` and `scan`, that its record is
 *   still the file at `.blobrt-lock` (same device and inode); if another
 *   process removed or replaced it, that operation is refused
 *   (`StorageLocked`): the holder stops creating and removing, although
 *   handles it already has keep working.
 * - **In one process**, storages on the same directory share the lock, by the
 *   directory's device and inode (whatever path reached it: a symbolic link,
 *   a bind mount). Each storage holds a share until its `close()`; the last
 *   share closes the lock and deletes the record. A clean exit deletes the
 *   records the process still holds.
 * - Every holder checks, at each `open`, `remove` and `scan`, that its path
 *   still reaches the locked directory; a directory renamed away and replaced
 *   is refused (`StorageLocked`).
 *
 * What is left: two Node processes breaking the same stale record at the
 * same instant can both win (a re-read narrows that to microseconds); a lock
 * on a network filesystem shared by two hosts is not detected.
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { type DirectoryLock, errorCode, LOCKED, portError } from "./port.ts";
import { loadLibc } from "./_libc.ts";
import {
  flockListed,
  format,
  locked,
  openRecord,
  type Owner,
  ownerState,
  parse,
  readRecord,
  self,
  settledOwner,
} from "./_lock_owner.ts";

/** The lock file's name inside a storage directory. */
export const LOCK_FILE = ".blobrt-lock";

/** What a storage holds: a share of its process's lock on a directory. */
export type LockShare = DirectoryLock;

/** A lock this process holds on one directory. */
interface Held {
  /** The directory's descriptor: its identity, and the `flock` where there is one. */
  readonly dirFd: number;
  readonly dev: bigint;
  readonly ino: bigint;
  /** Deno's handle holding the `flock`, where there is no FFI. */
  readonly denoDir?: { close(): void };
  /** The record's descriptor, device and inode. */
  readonly record: { fd: number; dev: bigint; ino: bigint };
  readonly flock: boolean;
  readonly path: string;
}

interface Entry {
  taking: Promise<Held>;
  shares: number;
}

/** Locks taken (or being taken) by this process, by `dev:ino`; shared by every copy of blobrt. */
const held: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for("@blobrt/storage.directoryLocks.v2")
] ??= new Map()) as Map<string, Entry>;

interface DenoDirLock {
  open(path: string, o: { read: boolean }): Promise<DenoDir>;
}
interface DenoDir {
  statSync(): { dev: number; ino: number | null };
  tryLock(exclusive: boolean): Promise<boolean>;
  close(): void;
}

const { O_RDONLY, O_DIRECTORY, O_NONBLOCK } = fs.constants;

/**
 * Takes (a share of) this process's lock on `directory`, which must exist.
 * Resolves at once when this process already holds it; rejects with an error
 * of code {@linkcode LOCKED} naming the holder when another process does.
 */
export async function lockDirectory(directory: string): Promise<LockShare> {
  const libc = await loadLibc();
  const dirFd = fs.openSync(directory, O_RDONLY | (O_DIRECTORY ?? 0) | (O_NONBLOCK ?? 0));
  let st;
  try {
    st = fs.fstatSync(dirFd, { bigint: true });
  } catch (err) {
    fs.closeSync(dirFd);
    throw err;
  }
  const key = `${st.dev}:${st.ino}`;
  let entry = held.get(key);
  if (entry !== undefined) {
    fs.closeSync(dirFd);
  } else {
    const taking = acquire(directory, dirFd, st.dev, st.ino, libc?.flockExclusive);
    held.set(key, entry = { taking, shares: 0 });
    taking.catch(() => {
      if (held.get(key)?.taking === taking) held.delete(key);
    });
  }
  entry.shares++; // counted before any await, so a release meanwhile cannot reach 0
  let lock: Held;
  try {
    lock = await entry.taking;
  } catch (err) {
    entry.shares--;
    throw err;
  }
  return share(key, entry, lock, directory);
}

function share(key: string, entry: Entry, lock: Held, directory: string): LockShare {
  let released = false;
  return {
    check: () => {
      if (!released) verify(lock, directory);
    },
    release: () => {
      if (released) return;
      released = true;
      if (--entry.shares > 0) return;
      held.delete(key);
      release(lock);
    },
  };
}

/** Throws when `directory` is no longer the locked directory, or the Node record not ours. */
function verify(lock: Held, directory: string): void {
  const dir = statOr(() => fs.statSync(directory, { bigint: true }));
  if (dir?.dev !== lock.dev || dir.ino !== lock.ino) {
    throw portError(LOCKED, "the storage directory was replaced since it was locked", directory);
  }
  if (lock.flock) return;
  const file = statOr(() => fs.lstatSync(lock.path, { bigint: true }));
  if (file?.dev !== lock.record.dev || file.ino !== lock.record.ino) {
    const other = peek(lock.path); // never a blocking read: it may be a FIFO now
    throw portError(
      LOCKED,
      `the lock file was removed or replaced by another process` +
        (other ? ` (now naming process ${other.pid})` : ""),
      lock.path,
    );
  }
}

function statOr<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Deletes the record (if it is still ours) and drops the lock. */
function release(lock: Held): void {
  try {
    if (samePath(lock.record.fd, lock.path)) fs.unlinkSync(lock.path);
  } catch {
    // already gone
  }
  fs.closeSync(lock.record.fd);
  lock.denoDir?.close();
  fs.closeSync(lock.dirFd); // drops the flock taken through it
  live.delete(lock);
}

/** Locks held, for the clean-exit hook. */
const live = new Set<Held>();
let hooked = false;

function remember(lock: Held): Held {
  live.add(lock);
  if (!hooked) {
    hooked = true;
    process.on?.("exit", () => {
      for (const l of live) {
        if (samePath(l.record.fd, l.path)) statOr(() => fs.unlinkSync(l.path));
      }
    });
  }
  return lock;
}

async function acquire(
  directory: string,
  dirFd: number,
  dev: bigint,
  ino: bigint,
  flockFd: ((fd: number) => number) | undefined,
): Promise<Held> {
  const path = `${directory.replace(/\/+$/, "")}/${LOCK_FILE}`;
  try {
    const deno = (globalThis as { Deno?: DenoDirLock }).Deno;
    if (flockFd === undefined && deno === undefined) {
      return remember(await acquireRecord(path, dirFd, dev, ino));
    }
    let denoDir: DenoDir | undefined;
    if (flockFd !== undefined) {
      if (flockFd(dirFd) !== 0) throw locked(path, peek(path));
    } else {
      // Deno's handle on the same directory (checked by inode) is what tryLock locks.
      denoDir = await deno!.open(directory, { read: true });
      const st = denoDir.statSync();
      const same = BigInt(st.dev) === dev && (st.ino === null || BigInt(st.ino) === ino);
      if (!same || !(await denoDir.tryLock(true))) {
        denoDir.close();
        throw same
          ? locked(path, peek(path))
          : portError(LOCKED, "the storage directory was replaced while locking", path);
      }
    }
    try {
      const record = await claimRecord(path);
      return remember({ dirFd, dev, ino, denoDir, record, flock: true, path });
    } catch (err) {
      denoDir?.close();
      throw err;
    }
  } catch (err) {
    fs.closeSync(dirFd); // with it goes any flock taken through it
    throw err;
  }
}

/** The owner named by the lock file, for a message; undefined when it cannot be read. */
function peek(path: string): Owner | undefined {
  try {
    const fd = openRecord(path, "read")!;
    try {
      return parse(readRecord(fd));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * With the directory's `flock` held: writes this process's record, unless
 * the record names a live process that does not take the `flock` (Node).
 */
async function claimRecord(path: string): Promise<Held["record"]> {
  const me = self(true);
  for (let round = 0; round < 50; round++) {
    // A file this round created holds no record yet: nothing to wait for.
    const made = openRecord(path, "exclusive");
    const fd = made ?? openRecord(path, "create")!;
    let kept = false;
    try {
      if (made === undefined) {
        const owner = await settledOwner(fd);
        const state = ownerState(owner, me, { held: true });
        if (state !== "dead") throw locked(path, owner, state);
      }
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, format(me), 0);
      // A Node process may have replaced a stale file before our flock.
      if (!samePath(fd, path)) continue;
      const st = fs.fstatSync(fd, { bigint: true });
      kept = true;
      return { fd, dev: st.dev, ino: st.ino };
    } finally {
      if (!kept) fs.closeSync(fd);
    }
  }
  throw portError(LOCKED, "could not settle the lock file", path);
}

/** Node: the record is the lock. Creates it, or proves its owner dead and tries again. */
async function acquireRecord(path: string, dirFd: number, dev: bigint, ino: bigint): Promise<Held> {
  const me = self(false);
  for (let round = 0; round < 50; round++) {
    const fd = openRecord(path, "exclusive");
    if (fd !== undefined) {
      // A Deno or Bun holder whose record was removed still holds the flock.
      if (flockListed(dev, ino) === true) {
        if (samePath(fd, path)) statOr(() => fs.unlinkSync(path));
        fs.closeSync(fd);
        throw locked(path, undefined);
      }
      fs.writeSync(fd, format(me), 0);
      const st = fs.fstatSync(fd, { bigint: true });
      return { dirFd, dev, ino, record: { fd, dev: st.dev, ino: st.ino }, flock: false, path };
    }
    let rfd;
    try {
      rfd = openRecord(path, "read")!;
    } catch (err) {
      if (errorCode(err) === "ENOENT") continue; // removed meanwhile
      throw err;
    }
    try {
      const owner = await settledOwner(rfd);
      const state = ownerState(owner, me, { held: false, listed: flockListed(dev, ino) });
      if (state !== "dead") throw locked(path, owner, state);
      // Removed only if it is still the same file with the same record.
      if (samePath(rfd, path) && sameOwner(parse(readRecord(rfd)), owner)) {
        statOr(() => fs.unlinkSync(path));
      }
    } finally {
      fs.closeSync(rfd);
    }
  }
  throw portError(LOCKED, "could not settle the lock file", path);
}

function sameOwner(a: Owner | undefined, b: Owner | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && format(a) === format(b));
}

/** Whether `fd` is still the file at `path` (not unlinked or replaced). */
function samePath(fd: number, path: string): boolean {
  try {
    const a = fs.fstatSync(fd, { bigint: true });
    const b = fs.lstatSync(path, { bigint: true });
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
