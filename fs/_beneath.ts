/**
 * Paths below a storage root resolved without following a symbolic link at
 * any component, for the ports of `fs/node_port.ts` and `fs/deno_port.ts`
 * (SPEC §4 "Nothing outside the directory, even under a race").
 *
 * Where the runtime has FFI on Linux x86_64 or aarch64 (Bun; Deno with
 * `--allow-ffi` and read and write access to `/proc/self/fd`), kernel ≥ 5.6
 * and `/proc` ({@linkcode loadBeneath} checks all of it once, with a probe),
 * every call opens the root
 * (following links: the root is the user's choice), then reaches the entry
 * below it with `openat2(…, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, and
 * creates, removes or inspects the last component with `mkdirat`, `unlinkat`
 * or `statx(AT_SYMLINK_NOFOLLOW)` on the descriptor of the directory that
 * holds it. A partition swapped for a link by another process mid-operation
 * makes the call fail (`ELOOP`, or `ENOTDIR` for a directory); it never
 * redirects a create, a remove or a listing. Listings and directory fsyncs go
 * through the runtime's own asynchronous calls on `/proc/self/fd/<fd>`, which
 * names the very directory the descriptor holds. A blob's descriptor is
 * handed to the port (`adopt`), which checks it is a regular file.
 *
 * The calls are synchronous FFI calls: a create or an unlink waits on the
 * disk's metadata on the calling thread (the opens are `O_NONBLOCK`, so a
 * FIFO never blocks), where the path-based calls ran on the runtime's pool.
 *
 * @module
 */

import { type Beneath, loadLibc } from "./_libc.ts";
import type { DirEntry, FilePort } from "./port.ts";
import { portError } from "./port.ts";

/** What a port supplies: its path-based calls, used on `/proc/self/fd/<fd>` paths. */
export interface BeneathHost {
  /** Creates a directory and its parents (for a root that does not exist yet). */
  mkdir(path: string): Promise<void>;
  /** Lists a directory. */
  readDir(path: string): Promise<DirEntry[]>;
  /** fsyncs a directory. */
  syncDir(path: string): Promise<void>;
  /**
   * Turns a descriptor opened read-write into the port's file, taking it
   * over (closed on failure); refuses anything but a regular file.
   */
  adopt(fd: number, path: string, close: (fd: number) => void): Promise<FilePort>;
}

/** The calls of a port for paths below `root`; each `path` is `root` joined with names. */
export interface BeneathOps {
  mkdir(root: string, path: string): Promise<void>;
  readDir(root: string, path: string): Promise<DirEntry[]>;
  syncDir(root: string, path: string): Promise<void>;
  removeFile(root: string, path: string): Promise<void>;
  removeDir(root: string, path: string): Promise<void>;
  kind(root: string, path: string): Promise<"file" | "dir" | "symlink" | "other" | "missing">;
  open(root: string, path: string): Promise<FilePort>;
}

/** Open flags that differ between architectures (asm-generic vs x86). */
const ARCH_FLAGS: Record<string, { directory: number; nofollow: number }> = {
  x64: { directory: 0o200000, nofollow: 0o400000 },
  x86_64: { directory: 0o200000, nofollow: 0o400000 },
  arm64: { directory: 0o40000, nofollow: 0o100000 },
  aarch64: { directory: 0o40000, nofollow: 0o100000 },
};
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_NO_AUTOMOUNT = 0x800;
const RESOLVE = 0x04 | 0x08; // RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** The errno values (Linux, every architecture but alpha, mips, parisc, sparc) that callers tell apart. */
const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  9: "EBADF",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  122: "EDQUOT",
};
const ENOENT = 2;
const EEXIST = 17;
const ENOTDIR = 20;
const EISDIR = 21;
const ELOOP = 40;

function fail(errno: number, what: string, path: string): Error {
  return portError(ERRNO[errno] ?? `errno ${errno}`, what, path);
}

/** The name of `path` relative to `root`, which it must lie below. */
function relative(root: string, path: string): string {
  const prefix = root.endsWith("/") ? root : root + "/";
  if (!path.startsWith(prefix) || path.length === prefix.length) {
    throw new TypeError(`${path} is not below ${root}`);
  }
  return path.slice(prefix.length);
}

/** `rel` split at its last `/`: the directory part ("" for none) and the name. */
function split(rel: string): [string, string] {
  const i = rel.lastIndexOf("/");
  return i < 0 ? ["", rel] : [rel.slice(0, i), rel.slice(i + 1)];
}

const proc = (fd: number) => `/proc/self/fd/${fd}`;

/**
 * The operations over `calls`, with the port's own calls in `host`. Longer
 * than 70 lines: seven small operations and their helpers share the flags of
 * this architecture and the bound calls through one closure.
 */
function beneathOps(calls: Beneath, host: BeneathHost, arch: string): BeneathOps {
  const { directory, nofollow } = ARCH_FLAGS[arch]!;
  const DIR_PATH = O_PATH | directory | O_CLOEXEC;
  const DIR_READ = O_RDONLY | directory | O_CLOEXEC;

  /** Runs `fn` on a descriptor of `root` (opened following links), closed after. */
  async function atRoot<T>(root: string, fn: (rfd: number) => T | Promise<T>): Promise<T> {
    const rfd = calls.openat2(AT_FDCWD, root, DIR_PATH, 0, 0);
    if (rfd < 0) throw fail(-rfd, "cannot open the storage directory", root);
    try {
      return await fn(rfd);
    } finally {
      calls.close(rfd);
    }
  }

  /** A directory below `rfd` (or `rfd` itself for ""); a link anywhere is `ENOTDIR`. */
  function dirAt(rfd: number, rel: string, flags: number, path: string): number {
    if (rel === "") return rfd;
    const fd = calls.openat2(rfd, rel, flags, 0, RESOLVE);
    if (fd === -ELOOP) throw portError("ENOTDIR", "a symbolic link", path);
    if (fd < 0) throw fail(-fd, "cannot open directory", path);
    return fd;
  }

  /** Runs `fn` on the directory holding the last component of `path`, and that name. */
  function inParent<T>(
    root: string,
    path: string,
    fn: (dfd: number, name: string) => T | Promise<T>,
  ): Promise<T> {
    const [dirRel, name] = split(relative(root, path));
    return atRoot(root, async (rfd) => {
      const dfd = dirAt(rfd, dirRel, DIR_PATH, path);
      try {
        return await fn(dfd, name);
      } finally {
        if (dfd !== rfd) calls.close(dfd);
      }
    });
  }

  /** Runs `fn` on a readable descriptor of the directory `path` names. */
  function inDir<T>(root: string, path: string, fn: (dfd: number) => Promise<T>): Promise<T> {
    const rel = relative(root, path);
    return atRoot(root, async (rfd) => {
      const dfd = dirAt(rfd, rel, DIR_READ, path);
      try {
        return await fn(dfd);
      } finally {
        calls.close(dfd);
      }
    });
  }

  /** Removes everything in the directory `dfd` holds, descending through descriptors only. */
  async function empty(dfd: number, path: string): Promise<void> {
    for (const entry of await host.readDir(proc(dfd))) {
      const r = calls.unlinkat(dfd, entry.name, 0);
      if (r === 0 || r === -ENOENT) continue;
      if (r !== -EISDIR) throw fail(-r, "cannot remove", `${path}/${entry.name}`);
      const sub = dirAt(dfd, entry.name, DIR_READ, `${path}/${entry.name}`);
      try {
        await empty(sub, `${path}/${entry.name}`);
      } finally {
        calls.close(sub);
      }
      const d = calls.unlinkat(dfd, entry.name, AT_REMOVEDIR);
      if (d < 0 && d !== -ENOENT) throw fail(-d, "cannot remove", `${path}/${entry.name}`);
    }
  }

  return {
    mkdir: async (root, path) => {
      const names = relative(root, path).split("/");
      const make = (rfd: number) => {
        for (let i = 0; i < names.length; i++) {
          const [parent, name] = [names.slice(0, i).join("/"), names[i]!];
          const dfd = dirAt(rfd, parent, DIR_PATH, path);
          const r = calls.mkdirat(dfd, name, 0o755);
          if (dfd !== rfd) calls.close(dfd);
          if (r < 0 && r !== -EEXIST) throw fail(-r, "cannot create directory", path);
        }
      };
      try {
        await atRoot(root, make);
      } catch (err) {
        if (
          (err as { code?: string }).code !== "ENOENT" || (err as { path?: string }).path !== root
        ) {
          throw err;
        }
        await host.mkdir(root);
        await atRoot(root, make);
      }
    },
    readDir: (root, path) => inDir(root, path, (dfd) => host.readDir(proc(dfd))),
    syncDir: (root, path) => inDir(root, path, (dfd) => host.syncDir(proc(dfd))),
    removeFile: (root, path) =>
      inParent(root, path, (dfd, name) => {
        const r = calls.unlinkat(dfd, name, 0);
        if (r < 0) throw fail(-r, "cannot remove", path);
      }),
    removeDir: (root, path) =>
      inParent(root, path, async (pfd, name) => {
        const dfd = dirAt(pfd, name, DIR_READ, path);
        try {
          await empty(dfd, path);
        } finally {
          calls.close(dfd);
        }
        const r = calls.unlinkat(pfd, name, AT_REMOVEDIR);
        if (r < 0) throw fail(-r, "cannot remove directory", path);
      }),
    kind: async (root, path) => {
      try {
        return await inParent(root, path, (dfd, name) => {
          const type = calls.statxType(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);
          if (type === -ENOENT || type === -ENOTDIR) return "missing";
          if (type < 0) throw fail(-type, "cannot stat", path);
          if (type === S_IFLNK) return "symlink";
          if (type === S_IFDIR) return "dir";
          return type === S_IFREG ? "file" : "other";
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOENT") return "missing";
        // A directory on the way that is a link: what the path names is reached through one.
        if (code === "ENOTDIR" && (err as Error).message.startsWith("a symbolic link")) {
          return "symlink";
        }
        if (code === "ENOTDIR") return "missing";
        throw err;
      }
    },
    open: (root, path) => {
      const rel = relative(root, path);
      return atRoot(root, (rfd) => {
        const flags = O_RDWR | O_CREAT | nofollow | O_CLOEXEC | O_NONBLOCK;
        const fd = calls.openat2(rfd, rel, flags, 0o644, RESOLVE);
        if (fd === -ELOOP) throw portError("ELOOP", "a symbolic link", path);
        if (fd < 0) throw fail(-fd, "cannot open", path);
        return host.adopt(fd, path, (fd) => calls.close(fd));
      });
    },
  };
}

/**
 * Whether `openat2` and `/proc/self/fd` work here (the probe opens the
 * latter), and on Deno whether this process may read and write there.
 */
function works(calls: Beneath, arch: string): boolean {
  const flags = ARCH_FLAGS[arch];
  if (flags === undefined) return false;
  const deno = (globalThis as {
    Deno?: { permissions: { querySync(d: { name: string; path: string }): { state: string } } };
  }).Deno;
  for (const name of deno === undefined ? [] : ["read", "write"]) {
    const state = deno!.permissions.querySync({ name, path: "/proc/self/fd" }).state;
    if (state !== "granted") return false;
  }
  const fd = calls.openat2(AT_FDCWD, "/proc/self/fd", O_PATH | flags.directory | O_CLOEXEC, 0, 0);
  if (fd < 0) return false;
  calls.close(fd);
  return true;
}

/** The machine's architecture, by the runtime's own name for it. */
function arch(): string {
  const g = globalThis as { Deno?: { build: { arch: string } }; process?: { arch?: string } };
  return g.Deno?.build.arch ?? g.process?.arch ?? "";
}

const loaded = new WeakMap<BeneathHost, Promise<BeneathOps | undefined>>();

/**
 * The beneath-the-root calls for `host`'s port, or `undefined` where the
 * runtime has no FFI, the kernel no `openat2`, or there is no `/proc`. Loaded
 * once per host.
 */
export function loadBeneath(host: BeneathHost): Promise<BeneathOps | undefined> {
  let ops = loaded.get(host);
  if (ops === undefined) {
    ops = loadLibc().then((libc) => {
      const a = arch();
      if (libc === undefined || !works(libc.beneath, a)) return undefined;
      return beneathOps(libc.beneath, host, a);
    });
    loaded.set(host, ops);
  }
  return ops;
}

/**
 * The port call `call` for a path that may lie below a root: beneath `root`
 * (no link followed at any component) where one is given and this process
 * has the calls, else `plain(path)`, the port's own path-based call.
 */
export function beneathOr<K extends keyof BeneathOps>(
  host: BeneathHost,
  call: K,
  plain: (path: string) => ReturnType<BeneathOps[K]>,
): (path: string, root?: string) => ReturnType<BeneathOps[K]> {
  type Call = (root: string, path: string) => ReturnType<BeneathOps[K]>;
  type Bound = (path: string, root?: string) => ReturnType<BeneathOps[K]>;
  return (async (path: string, root?: string) => {
    const ops = root === undefined ? undefined : await loadBeneath(host);
    return ops ? (ops[call] as Call).call(ops, root!, path) : plain(path);
  }) as unknown as Bound;
}
