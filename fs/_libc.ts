/**
 * Two libc calls through the runtime's FFI, where it is allowed: a `pread`
 * that never waits for the disk (`preadv2` with `RWF_NOWAIT`: it answers
 * `EAGAIN` at once when the data is not in the page cache, and costs nothing
 * extra when it is), and `posix_fadvise(DONTNEED)` to evict a file's pages
 * (for cold-cache benchmarks).
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
  /**
   * Reads into `buf` at `position` only from the page cache: the count read
   * (short when part of the range is not cached), or -1 when nothing could be
   * read without waiting (or any other error: the caller retries the ordinary
   * way, which reports it).
   */
  preadNowait(fd: number, buf: Uint8Array, position: number): number;
  /** Drops the file's clean pages from the page cache; 0 on success. */
  fadviseDontNeed(fd: number): number;
}

const RWF_NOWAIT = 8;
const POSIX_FADV_DONTNEED = 4;
const LIBC_NAMES = ["libc.so.6", "libc.so"];

interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  UnsafePointer: { of(buf: Uint8Array): unknown; value(ptr: unknown): bigint };
  permissions: { querySync(d: { name: string }): { state: string } };
  build: { os: string };
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  ptr(buf: Uint8Array): number;
}

/**
 * Reads of up to this many bytes go through one reused scratch buffer whose
 * address is taken once: taking a buffer's address per call (a pointer object
 * and two BigInts) costs more than copying 64 KiB out of the scratch.
 */
const SCRATCH_SIZE = 64 * 1024;
const scratch = new Uint8Array(SCRATCH_SIZE);
/** The scratch's iovec, and the one for larger reads; set without BigInts where possible. */
const scratchIov = new BigUint64Array(2);
const scratchLen = new Uint32Array(scratchIov.buffer);
const iov = new BigUint64Array(2);

/** `preadNowait` over a raw `preadv2(fd, iov, 1, position, RWF_NOWAIT)` and an address-of. */
function nowait(
  preadv2: (fd: number, iov: BigUint64Array, n: number, position: bigint, flags: number) => unknown,
  address: (buf: Uint8Array) => bigint,
): Libc["preadNowait"] {
  scratchIov[0] = address(scratch);
  return (fd, buf, position) => {
    const length = buf.length;
    if (length <= SCRATCH_SIZE) {
      scratchLen[2] = length; // the low half of iov_len (little-endian; Linux targets are)
      // A BigInt position: Deno converts a number to i64 through a slow path.
      const n = Number(preadv2(fd, scratchIov, 1, BigInt(position), RWF_NOWAIT));
      if (n > 0) buf.set(n === SCRATCH_SIZE ? scratch : scratch.subarray(0, n));
      return n;
    }
    iov[0] = address(buf);
    iov[1] = BigInt(length);
    return Number(preadv2(fd, iov, 1, BigInt(position), RWF_NOWAIT));
  };
}

function fromDeno(deno: DenoFfi): Libc | undefined {
  if (deno.build.os !== "linux") return undefined;
  if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  for (const name of LIBC_NAMES) {
    try {
      const { symbols } = deno.dlopen(name, {
        preadv2: { parameters: ["i32", "buffer", "i32", "i64", "i32"], result: "isize" },
        posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
      });
      const fadvise = symbols.posix_fadvise!;
      const { UnsafePointer } = deno;
      return {
        preadNowait: nowait(symbols.preadv2!, (b) => UnsafePointer.value(UnsafePointer.of(b))),
        fadviseDontNeed: (fd) => Number(fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)),
      };
    } catch {
      // try the next name
    }
  }
  return undefined;
}

function fromBun(ffi: BunFfi): Libc | undefined {
  for (const name of LIBC_NAMES) {
    try {
      const { symbols } = ffi.dlopen(name, {
        preadv2: { args: ["i32", "ptr", "i32", "i64", "i32"], returns: "i64" },
        posix_fadvise: { args: ["i32", "i64", "i64", "i32"], returns: "i32" },
      });
      const fadvise = symbols.posix_fadvise!;
      return {
        preadNowait: nowait(symbols.preadv2!, (b) => BigInt(ffi.ptr(b))),
        fadviseDontNeed: (fd) => Number(fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)),
      };
    } catch {
      // try the next name
    }
  }
  return undefined;
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

/**
 * Replaces what {@linkcode loadLibc} resolves, for storages created from now
 * on (tests use a `preadNowait` that always answers "not cached", to send
 * every read to the worker threads); `undefined` restores the real one.
 */
export function overrideLibc(libc: Libc | undefined | null): void {
  loaded = libc === null ? undefined : Promise.resolve(libc);
}
