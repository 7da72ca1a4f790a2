/**
 * The record in a storage directory's `.blobrt-lock` and what it proves about
 * its writer: one line, `<pid> <start> <pidns> <boot> <kind>\n`.
 *
 * - `pid`: the writer's process id, as its own PID namespace numbers it;
 * - `start`: the kernel's start time of that process (`/proc/<pid>/stat`
 *   field 22), so a reused pid is told apart;
 * - `pidns`: the inode of the writer's `/proc/self/ns/pid`: a pid means
 *   something only inside its namespace;
 * - `boot`: the kernel's boot id: a record from an earlier boot is stale;
 * - `kind`: `flock` when the writer holds an exclusive `flock` on the
 *   directory itself (Deno, Bun), `pid` when the record is its only lock
 *   (Node).
 *
 * A field that could not be read is `-`. The record of earlier blobrt
 * versions, `<pid> <start>\n`, is still read (same namespace assumed).
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { errorCode, LOCKED, portError } from "./port.ts";

/** A parsed record. */
export interface Owner {
  pid: number;
  /** Start time, or `""` when unknown. */
  start: string;
  /** PID namespace inode, or undefined when unknown (or a record of an earlier version). */
  ns?: string;
  /** Boot id, or undefined when unknown. */
  boot?: string;
  /** Whether the writer holds a `flock` on the directory; undefined in an earlier version's record. */
  flock?: boolean;
}

/** The PID namespace of the first process (`PROC_PID_INIT_INO`): it sees every process. */
const INIT_PID_NS = "4026531836";

/** What this process writes and compares with. */
export function self(flock: boolean): Owner {
  return {
    pid: process.pid,
    start: procStat(process.pid)?.start ?? "",
    ns: readOr(() => /\[(\d+)\]/.exec(fs.readlinkSync("/proc/self/ns/pid"))?.[1]),
    boot: readOr(() => fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()),
    flock,
  };
}

function readOr(read: () => string | undefined): string | undefined {
  try {
    const value = read();
    return value === "" ? undefined : value;
  } catch {
    return undefined; // no /proc, or (Deno) no permission to read it
  }
}

/** The record line of `owner`. */
export function format(owner: Owner): string {
  const f = (s: string | undefined) => s === undefined || s === "" ? "-" : s;
  const kind = owner.flock ? "flock" : "pid";
  return `${owner.pid} ${f(owner.start)} ${f(owner.ns)} ${f(owner.boot)} ${kind}\n`;
}

/** Parses a record; undefined when it is empty or malformed. */
export function parse(text: string): Owner | undefined {
  const m = /^(\d+) (\d+|-) (\d+|-) ([0-9a-f-]+) (flock|pid)\n$/.exec(text);
  if (m !== null) {
    const known = (s: string) => s === "-" ? undefined : s;
    return {
      pid: Number(m[1]),
      start: known(m[2]!) ?? "",
      ns: known(m[3]!),
      boot: known(m[4]!),
      flock: m[5] === "flock",
    };
  }
  const old = /^(\d+) (\d*)\n$/.exec(text);
  return old ? { pid: Number(old[1]), start: old[2]! } : undefined;
}

/** What the taker knows about the directory's `flock`. */
export interface FlockView {
  /** This process holds it: every other `flock` owner is dead or gone. */
  held: boolean;
  /** Someone holds it (`/proc/locks`); undefined when that cannot be read. */
  listed?: boolean;
}

/**
 * Whether `owner` still holds the directory: `dead` (provably), `alive`, or
 * `foreign` (a process of another PID namespace that this one cannot see, so
 * it cannot be proven dead).
 */
export function ownerState(
  owner: Owner | undefined,
  me: Owner,
  flock: FlockView,
): "dead" | "alive" | "foreign" {
  if (owner === undefined) return "dead"; // its writer died before writing it
  if (owner.boot !== undefined && me.boot !== undefined && owner.boot !== me.boot) return "dead";
  const otherNs = owner.ns !== undefined && me.ns !== undefined && owner.ns !== me.ns;
  const sameNs = owner.ns !== undefined && owner.ns === me.ns;
  if (owner.flock === true) {
    if (flock.held) return "dead";
    if (flock.listed === true) return "alive";
    // /proc/locks shows the flocks of processes this namespace can see: all of them from the first.
    if (flock.listed === false && (sameNs || me.ns === INIT_PID_NS)) return "dead";
    // A pid of an unknown namespace proves nothing.
    if (!sameNs) return "foreign";
  }
  if (otherNs || (owner.ns !== undefined && me.ns === undefined)) return "foreign";
  if (owner.pid === me.pid && owner.start === me.start) return "dead"; // ours, left by a release
  return alive(owner) ? "alive" : "dead";
}

/** Whether `owner` (of this PID namespace) is a live process; unknowable counts as alive. */
function alive(owner: Owner): boolean {
  const stat = procStat(owner.pid);
  if (stat === null) return false;
  if (stat !== undefined) {
    if (stat.state === "Z" || stat.state === "X") return false;
    return owner.start === "" || stat.start === owner.start;
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) !== "ESRCH";
  }
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
 * Whether `/proc/locks` lists an exclusive `flock` on the file `dev`/`ino`
 * (held by a process this PID namespace can see); undefined where it cannot
 * be read.
 */
export function flockListed(dev: bigint, ino: bigint): boolean | undefined {
  let text;
  try {
    text = fs.readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const hex = (n: bigint) => n.toString(16).padStart(2, "0");
  const id = `${hex(major)}:${hex(minor)}:${ino}`;
  // "7: FLOCK  ADVISORY  WRITE 9129 fe:00:2146498 0 EOF"; waiters ("7: -> FLOCK …") hold nothing.
  return text.split("\n").some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === "FLOCK" && f[3] === "WRITE" && f[5] === id;
  });
}

/** The most bytes of a record that are read: a longer file is no record. */
const MAX_RECORD = 256;

/**
 * Opens the lock file without following a link and without blocking (a FIFO
 * opens at once), and refuses anything but a regular file with an error of
 * code {@linkcode LOCKED} that says what is there. `create` creates a missing
 * file; `exclusive` only creates (undefined when something is there).
 *
 * `O_NOFOLLOW` alone is not enough everywhere: Deno without `--allow-all`
 * opens the target of a link (its permission check resolves the path). So the
 * entry is `lstat`ed first, a missing one is created with `O_EXCL` (which
 * never follows a link), and an existing one must be, once open, the very
 * file the `lstat` saw (device and inode), or it is closed untouched.
 */
export function openRecord(
  path: string,
  mode: "read" | "create" | "exclusive",
): number | undefined {
  const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const base = (O_NOFOLLOW ?? 0) | (O_NONBLOCK ?? 0);
  for (let attempt = 0; attempt < 4; attempt++) {
    let before;
    try {
      before = fs.lstatSync(path, { bigint: true });
    } catch (err) {
      if (errorCode(err) !== "ENOENT" || mode === "read") throw err;
    }
    if (before === undefined) {
      try {
        return fs.openSync(path, O_RDWR | O_CREAT | O_EXCL | base, 0o644);
      } catch (err) {
        if (errorCode(err) === "EEXIST") continue; // made meanwhile: look again
        throw err;
      }
    }
    if (mode === "exclusive") return undefined;
    if (!before.isFile()) throw notRegular(path, kindOf(before));
    let fd;
    try {
      fd = fs.openSync(path, (mode === "read" ? O_RDONLY : O_RDWR) | base);
    } catch (err) {
      const code = errorCode(err);
      if (code === "ENOENT") continue; // removed meanwhile
      if (code === "ELOOP") throw notRegular(path, "a symbolic link");
      throw err;
    }
    let after;
    try {
      after = fs.fstatSync(fd, { bigint: true });
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    if (after.isFile() && after.dev === before.dev && after.ino === before.ino) return fd;
    fs.closeSync(fd);
    if (!after.isFile()) throw notRegular(path, kindOf(after));
  }
  throw portError(LOCKED, "the lock file keeps changing", path);
}

function kindOf(st: fs.BigIntStats): string {
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a FIFO";
  if (st.isDirectory()) return "a directory";
  return "a device or socket";
}

function notRegular(path: string, kind: string): Error {
  return portError(
    LOCKED,
    `the lock file is ${kind}, not a regular file; remove it to unlock`,
    path,
  );
}

/** The record in the open lock file `fd`: its text (at most {@linkcode MAX_RECORD} bytes). */
export function readRecord(fd: number): string {
  const buf = new Uint8Array(MAX_RECORD + 1);
  let n = 0;
  for (let got = -1; got !== 0 && n < buf.length; n += got) {
    got = fs.readSync(fd, buf, n, buf.length - n, n);
  }
  return n > MAX_RECORD ? "" : new TextDecoder().decode(buf.subarray(0, n));
}

/**
 * The owner recorded in `fd`, waiting up to 100 ms for a writer that has just
 * created the file; undefined when it stays empty or malformed (its creator died).
 */
export async function settledOwner(fd: number): Promise<Owner | undefined> {
  for (let i = 0; i < 10; i++) {
    const owner = parse(readRecord(fd));
    if (owner !== undefined) return owner;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

/** The error for a directory held by `owner` (`state` says how sure this is). */
export function locked(path: string, owner: Owner | undefined, state?: string): Error {
  if (state === "foreign") {
    const ns = owner!.ns === undefined
      ? "whose PID namespace is unknown"
      : `of another PID namespace (pid:[${owner!.ns}])`;
    return portError(
      LOCKED,
      `storage directory locked by process ${owner!.pid} ${ns}, which this process ` +
        `cannot prove dead; if no process uses the directory, delete the lock file`,
      path,
    );
  }
  const who = owner === undefined ? "another process" : `process ${owner.pid}`;
  return portError(LOCKED, `storage directory locked by ${who}`, path);
}
