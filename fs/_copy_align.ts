/**
 * Steering page-cache copies clear of a CPU flaw: on CPUs whose `rep movsb`
 * slows down 5–20× when the destination sits 1–31 bytes past the source,
 * modulo 4096 (measured on this project's AMD EPYC machines, which have FSRM),
 * a read or write whose buffer sits at such a distance from its file position
 * is that much slower, for no reason the caller can see.
 *
 * - The kernel copies between user memory and the page cache with `rep movsb`,
 *   and the page-cache side sits at the file position's offset in its page. A
 *   read is slow when (buffer address − file position) mod 4096 is in 1..31;
 *   a write when (file position − buffer address) mod 4096 is. A V0 blob's
 *   data starts at file byte 8, so Bun's page-aligned buffers make every V0
 *   write slow, and glibc's large (mmap) buffers, 16 bytes into a page (Deno,
 *   Node), every V0 and V1 read into them.
 * - glibc's `memcpy`, behind `TypedArray.set`, uses `rep movsb` from a few KiB
 *   to a few hundred KiB and has the same flaw.
 *
 * So a read or write that would copy at a bad distance goes through a scratch
 * buffer whose address is known (WebAssembly memory is page-aligned), placed
 * 32 bytes past the file position: both copies, the kernel's and `set`'s, then
 * run at a good distance. That needs the buffer's address:
 *
 * - Bun gives it cheaply (`bun:ffi` `ptr`, ~70 ns): writes of 4 KiB and more
 *   are checked, reads of 32 KiB and more. Bun's own allocations are
 *   page-aligned, so its V0 writes always bounce and its fresh read buffers
 *   never need to.
 * - Deno gives it with `--allow-ffi` at ~0.5–1 µs, so only buffers of 128 KiB
 *   and more are checked: glibc puts smaller ones at a random 16-byte offset
 *   (bad 2 times in 256), larger ones fresh from `mmap` 16 bytes into a page
 *   (bad for every read) until frees make it reuse its heap.
 * - Node gives none. Bouncing blind does not pay: after a few garbage
 *   collections glibc serves even 1 MiB buffers from its heap at random
 *   offsets, so the extra copy would be paid on every read for the few bad
 *   ones.
 *
 * Writes coalesced from small chunks are copied into the scratch memory at
 * the file position's own offset, on every runtime (distance 0).
 *
 * Whether the CPU has the flaw is measured once, on first use, by timing
 * `TypedArray.set` of 64 KiB at distances 8 and 40 (1–2 ms); where it does
 * not, nothing here runs but that check. Numbers: bench/RESULTS.md, "Copy
 * distance".
 *
 * @module
 */

import type { FilePort } from "./port.ts";

/**
 * Deno's address lookup costs ~0.5–1 µs, so there only buffers this large
 * are checked (glibc's smaller ones are rarely at a bad distance).
 */
export const LOOKUP_ALWAYS_FROM = 128 * 1024;
/**
 * Bun's smallest checked write: its own buffers are page-aligned, so every
 * V0 write from one bounces (4 KiB: 1.2× faster).
 */
const BUN_WRITE_FROM = 4 * 1024;
/**
 * Bun's smallest checked read: page-aligned buffers read at a good distance,
 * so below this the lookup (~70 ns) costs more than the rare bad view saves.
 */
const BUN_READ_FROM = 32 * 1024;
/** The most bytes one bounce moves; larger buffers go through in pieces of this size. */
export const SCRATCH_SIZE = 1 << 20;

/** The smallest buffers checked, per direction: 0 before the measurement, Infinity for never. */
let readFrom = 0;
let writeFrom = 0;
let addressOf: (buf: Uint8Array) => number = () => 0;
let scratch: Uint8Array<ArrayBuffer> | undefined;
/**
 * The scratch memory holds a bounce in progress. Only a port that calls back
 * into a storage from inside its own `read` or `write` could see this; such a
 * call then goes direct (or coalesces into fresh memory).
 */
let busy = false;

/** The slice of the WebAssembly API used (declared here: the build's libraries leave it out). */
interface Wasm {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}

/** Page-aligned memory of `pages` × 64 KiB, or plain memory where WebAssembly is missing. */
function pageAligned(pages: number): Uint8Array<ArrayBuffer> {
  const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
  return new Uint8Array(
    wasm === undefined
      ? new ArrayBuffer(pages * 65536)
      : new wasm.Memory({ initial: pages }).buffer,
  );
}

/** Page-aligned scratch memory: {@linkcode SCRATCH_SIZE} plus a page to place it in. */
function scratchMemory(): Uint8Array<ArrayBuffer> {
  return scratch ??= pageAligned(SCRATCH_SIZE / 65536 + 1);
}

/** The fastest of a few `set` copies of `n` bytes (a multiple of 4096) at `distance` (dst − src), in ms. */
function timeCopy(mem: Uint8Array, n: number, distance: number): number {
  const src = mem.subarray(0, n);
  const dst = mem.subarray(n + distance, 2 * n + distance);
  dst.set(src); // fault the pages in
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** Whether the CPU has the flaw (see the module docs), measured on each call. */
export function measureCopyFlaw(): boolean {
  if ((globalThis as { WebAssembly?: Wasm }).WebAssembly === undefined) return false; // no known addresses
  const mem = pageAligned(3); // 192 KiB
  return timeCopy(mem, 64 * 1024, 8) > 3 * timeCopy(mem, 64 * 1024, 40);
}

/**
 * Decides what is checked: with `flawed` (measured when `undefined`), what
 * this runtime can tell the address of; without, nothing. Tests pass `true` to
 * reach the bounce paths on any CPU.
 */
export function setCopyFlawed(flawed: boolean | undefined): void {
  readFrom = writeFrom = Infinity;
  if (!(flawed ?? measureCopyFlaw())) return;
  const g = globalThis as {
    Deno?: DenoPointers;
    Bun?: unknown;
    process?: { getBuiltinModule?(id: string): unknown };
  };
  try {
    if (g.Bun !== undefined) {
      const ffi = g.process?.getBuiltinModule?.("bun:ffi") as
        | { ptr(b: Uint8Array): number }
        | undefined;
      if (ffi === undefined) return;
      addressOf = (buf) => ffi.ptr(buf);
      readFrom = BUN_READ_FROM;
      writeFrom = BUN_WRITE_FROM;
      return;
    }
    const deno = g.Deno;
    if (deno !== undefined && deno.permissions.querySync({ name: "ffi" }).state === "granted") {
      addressOf = (buf) => Number(deno.UnsafePointer.value(deno.UnsafePointer.of(buf)));
      readFrom = writeFrom = LOOKUP_ALWAYS_FROM;
    }
  } catch {
    // no pointers here
  }
}

interface DenoPointers {
  permissions: { querySync(d: { name: string }): { state: string } };
  UnsafePointer: { of(b: Uint8Array): unknown; value(p: unknown): number | bigint };
}

/**
 * Where in the scratch memory a copy of `buf` to or from `position` should go
 * (0..4095), or -1 to use `buf` directly. `write`: the kernel copies from `buf`.
 * The first call measures the CPU (1–2 ms).
 */
export function bounceOffset(buf: Uint8Array, position: number, write: boolean): number {
  if (buf.length < (write ? writeFrom : readFrom) || busy) return -1; // the common case
  if (readFrom === 0) {
    setCopyFlawed(undefined);
    return bounceOffset(buf, position, write);
  }
  const address = addressOf(buf);
  const distance = (write ? position - address : address - position) & 4095;
  return distance >= 1 && distance <= 31 ? (position + 32) & 4095 : -1;
}

/**
 * Reads `buf.length` bytes at `position` through the scratch memory at
 * `offset` (from {@linkcode bounceOffset}); returns the count read (short at
 * the end of the file).
 */
export function readBounced(
  file: FilePort,
  buf: Uint8Array,
  position: number,
  offset: number,
): number {
  const mem = scratchMemory();
  const skew = (offset - position) & 4095; // kept for every piece, also after a short read
  let done = 0;
  busy = true;
  try {
    while (done < buf.length) {
      const at = (position + done + skew) & 4095;
      const piece = Math.min(SCRATCH_SIZE, buf.length - done);
      const n = file.read(mem.subarray(at, at + piece), position + done);
      if (n === 0) break;
      buf.set(mem.subarray(at, at + n), done);
      done += n;
    }
  } finally {
    busy = false;
  }
  return done;
}

/**
 * Writes all of `buf` at `position` through the scratch memory at `offset`,
 * with `write` (which retries short writes and reports progress).
 */
export function writeBounced(
  buf: Uint8Array,
  position: number,
  offset: number,
  write: (piece: Uint8Array, position: number) => void,
): void {
  const mem = scratchMemory();
  busy = true;
  try {
    for (let done = 0; done < buf.length; done += SCRATCH_SIZE) {
      const piece = buf.subarray(done, done + SCRATCH_SIZE);
      const view = mem.subarray(offset, offset + piece.length);
      view.set(piece);
      write(view, position + done); // SCRATCH_SIZE is a multiple of 4096: the placement holds
    }
  } finally {
    busy = false;
  }
}

/**
 * Copies `chunks` (`length` bytes in all) into scratch memory whose address
 * is `position` mod 4096, so that writing them from there copies at distance
 * 0, and calls `write` with that memory. Fresh memory instead while the
 * scratch memory is in use or for more than {@linkcode SCRATCH_SIZE} bytes.
 */
export function writeCoalesced(
  chunks: readonly Uint8Array[],
  length: number,
  position: number,
  write: (joined: Uint8Array) => void,
): void {
  const offset = position & 4095;
  const out = busy || length > SCRATCH_SIZE
    ? new Uint8Array(length)
    : scratchMemory().subarray(offset, offset + length);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    out.set(c, at);
    at += c.length;
  }
  if (out.buffer !== scratch?.buffer) return write(out);
  busy = true;
  try {
    write(out);
  } finally {
    busy = false;
  }
}
