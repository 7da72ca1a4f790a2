/**
 * `posix_fadvise(DONTNEED)` through the runtime's FFI, where it is allowed, to
 * evict a file's pages for cold-cache benchmarks. (A `preadv2(RWF_NOWAIT)`
 * binding was tried as the engine's way to spot page-cache misses: it made
 * page-cached reads slower on both runtimes, so the engine times reads
 * instead; bench/RESULTS.md.)
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
  build: { os: string };
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
}

type Symbols = Record<string, (...args: unknown[]) => unknown>;

/** The libc calls used: name, parameter types, result type (the same in both FFIs). */
const SIGNATURES: [string, string[], string][] = [
  ["posix_fadvise", ["i32", "i64", "i64", "i32"], "i32"],
  ["flock", ["i32", "i32"], "i32"],
];

/** Binds the calls from the first libc name `dlopen` can open. */
function bind(dlopen: (name: string) => Symbols): Libc | undefined {
  for (const name of LIBC_NAMES) {
    try {
      const symbols = dlopen(name);
      const fadvise = symbols.posix_fadvise!;
      const flock = symbols.flock!;
      return {
        fadviseDontNeed: (fd) => Number(fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)),
        flockExclusive: (fd) => Number(flock(fd, LOCK_EX_NB)),
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
  return bind((name) => deno.dlopen(name, spec).symbols);
}

function fromBun(ffi: BunFfi): Libc | undefined {
  const spec = Object.fromEntries(
    SIGNATURES.map(([name, args, returns]) => [name, { args, returns }]),
  );
  return bind((name) => ffi.dlopen(name, spec).symbols);
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
