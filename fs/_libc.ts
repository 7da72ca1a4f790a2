/**
 * `posix_fadvise(DONTNEED)` through the runtime's FFI, where it is allowed, to
 * evict a file's pages for cold-cache benchmarks. (A `preadv2(RWF_NOWAIT)`
 * binding was tried as the engine's way to spot page-cache misses: it made
 * page-cached reads slower on both runtimes, so the engine times reads
 * instead; bench/RESULTS.md.)
 *
 * The same binding gives {@linkcode Beneath}: `openat2` (through `syscall`, as
 * glibc 2.36 has no wrapper), `mkdirat`, `unlinkat`, `statx` and `close`, with
 * which `fs/_beneath.ts` resolves every path below a storage root without
 * following a symbolic link at any component.
 *
 * Bun always has `bun:ffi`; Deno has `Deno.dlopen` when the process was given
 * `--allow-ffi` (checked without prompting); Node has no FFI. On anything but
 * Linux with glibc or musl, or without permission, {@linkcode loadLibc}
 * resolves `undefined` and the caller uses its fallback.
 *
 * @module
 */

/** The calls blobrt makes. */
export interface Libc {
  /** Drops the file's clean pages from the page cache; 0 on success. */
  fadviseDontNeed(fd: number): number;
  /** `flock(fd, LOCK_EX | LOCK_NB)`: 0 when taken, -1 when another open file holds it. */
  flockExclusive(fd: number): number;
  /** The `*at` calls, each returning its result or `-errno`: see {@linkcode Beneath}. */
  beneath: Beneath;
}

/**
 * Path calls relative to a directory descriptor. Each returns what the system
 * call returns on success (a descriptor, or 0) and `-errno` on failure.
 * Strings are passed as UTF-8 with a terminating NUL.
 */
export interface Beneath {
  /** `openat2(dirfd, path, {flags, mode, resolve})` (Linux ≥ 5.6; `-ENOSYS` before). */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** `mkdirat(dirfd, path, mode)`. */
  mkdirat(dirfd: number, path: string, mode: number): number;
  /** `unlinkat(dirfd, path, flags)`. */
  unlinkat(dirfd: number, path: string, flags: number): number;
  /** The file type bits (`st_mode & S_IFMT`) of `statx(dirfd, path, flags, STATX_TYPE)`. */
  statxType(dirfd: number, path: string, flags: number): number;
  /** `close(fd)`. */
  close(fd: number): number;
}

const LOCK_EX_NB = 2 | 4;

const POSIX_FADV_DONTNEED = 4;
const LIBC_NAMES = ["libc.so.6", "libc.so"];

interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  permissions: { querySync(d: { name: string }): { state: string } };
  UnsafePointerView: new (pointer: unknown) => { getInt32(offset: number): number };
  build: { os: string };
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  read: { i32(pointer: unknown, offset: number): number };
}

type Symbols = Record<string, (...args: unknown[]) => unknown>;

/**
 * The libc calls used: name, parameter types, result type (Deno's names;
 * Bun's differ only in `"pointer"`, its `"ptr"`). `syscall` is variadic: the
 * arguments go in the registers a fixed-argument call uses (x86_64, aarch64).
 */
const SIGNATURES: [string, string[], string][] = [
  ["posix_fadvise", ["i32", "i64", "i64", "i32"], "i32"],
  ["flock", ["i32", "i32"], "i32"],
  ["syscall", ["i64", "i32", "buffer", "buffer", "u64"], "i64"],
  ["mkdirat", ["i32", "buffer", "u32"], "i32"],
  ["unlinkat", ["i32", "buffer", "i32"], "i32"],
  ["statx", ["i32", "buffer", "i32", "u32", "buffer"], "i32"],
  ["close", ["i32"], "i32"],
  ["__errno_location", [], "pointer"],
];

/** `openat2`'s number in the generic syscall table every Linux architecture shares since 5.1. */
const SYS_OPENAT2 = 437;
const STATX_TYPE = 1;
const S_IFMT = 0o170000;
const encoder = new TextEncoder();

/** `path` as a NUL-terminated C string. */
function cString(path: string): Uint8Array {
  return encoder.encode(path + "\0");
}

/** The `Beneath` calls over bound symbols; `errno` reads the calling thread's errno. */
function beneathCalls(symbols: Symbols, errno: () => number): Beneath {
  const { syscall, mkdirat, unlinkat, statx, close } = symbols as Record<
    string,
    (...args: unknown[]) => number | bigint
  >;
  const how = new BigUint64Array(3); // struct open_how: flags, mode, resolve
  const howBytes = new Uint8Array(how.buffer);
  const stx = new Uint8Array(256); // struct statx
  const result = (r: number | bigint) => (Number(r) < 0 ? -errno() : Number(r));
  return {
    openat2: (dirfd, path, flags, mode, resolve) => {
      how[0] = BigInt(flags);
      how[1] = BigInt(mode);
      how[2] = BigInt(resolve);
      return result(syscall!(SYS_OPENAT2, dirfd, cString(path), howBytes, howBytes.length));
    },
    mkdirat: (dirfd, path, mode) => result(mkdirat!(dirfd, cString(path), mode)),
    unlinkat: (dirfd, path, flags) => result(unlinkat!(dirfd, cString(path), flags)),
    statxType: (dirfd, path, flags) => {
      const r = result(statx!(dirfd, cString(path), flags, STATX_TYPE, stx));
      return r < 0 ? r : (stx[0x1c]! | (stx[0x1d]! << 8)) & S_IFMT; // stx_mode, little-endian
    },
    close: (fd) => result(close!(fd)),
  };
}

/** Binds the calls from the first libc name `dlopen` can open. */
function bind(
  dlopen: (name: string) => Symbols,
  readI32: (pointer: unknown) => number,
): Libc | undefined {
  for (const name of LIBC_NAMES) {
    try {
      const symbols = dlopen(name);
      const fadvise = symbols.posix_fadvise!;
      const flock = symbols.flock!;
      return {
        fadviseDontNeed: (fd) => Number(fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)),
        flockExclusive: (fd) => Number(flock(fd, LOCK_EX_NB)),
        beneath: beneathCalls(symbols, () => readI32(symbols.__errno_location!())),
      };
    } catch {
      // try the next name
    }
  }
  return undefined;
}

function fromDeno(deno: DenoFfi): Libc | undefined {
  if (deno.build.os !== "linux") return undefined;
  if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  const spec = Object.fromEntries(
    SIGNATURES.map(([name, parameters, result]) => [name, { parameters, result }]),
  );
  return bind(
    (name) => deno.dlopen(name, spec).symbols,
    (pointer) => new deno.UnsafePointerView(pointer).getInt32(0),
  );
}

function fromBun(ffi: BunFfi): Libc | undefined {
  const bunType = (type: string) => type === "pointer" ? "ptr" : type;
  const spec = Object.fromEntries(
    SIGNATURES.map(([name, args, returns]) => [name, {
      args: args.map(bunType),
      returns: bunType(returns),
    }]),
  );
  return bind((name) => ffi.dlopen(name, spec).symbols, (pointer) => ffi.read.i32(pointer, 0));
}

let loaded: Promise<Libc | undefined> | undefined;

/** The libc calls, or `undefined` where FFI is missing or not allowed. Loaded once. */
export function loadLibc(): Promise<Libc | undefined> {
  return loaded ??= (async () => {
    try {
      const g = globalThis as { Deno?: DenoFfi; Bun?: unknown; process?: { platform?: string } };
      if (g.Deno !== undefined) return fromDeno(g.Deno);
      if (g.Bun !== undefined && g.process?.platform === "linux") {
        const specifier = "bun:ffi"; // a variable, so other runtimes' tools leave it alone
        return fromBun(await import(specifier) as BunFfi);
      }
    } catch {
      // no FFI here
    }
    return undefined;
  })();
}
