/**
 * Small helpers shared by the test files: text to bytes, exact reads, and
 * deterministic byte patterns.
 *
 * @module
 */

import type { Blob } from "../core/types.ts";

const encoder = new TextEncoder();

/** The UTF-8 bytes of `s`. */
export const enc = (s: string): Uint8Array<ArrayBuffer> => encoder.encode(s);

/** Reads `[offset, offset + length)` of `blob` as one plain `Uint8Array`. */
export async function read(blob: Blob, offset: number, length: number): Promise<Uint8Array> {
  return (await blob.readAt(offset, length)).coalesce().bytes();
}

/** `length` bytes that differ by position and by `seed`, so misplaced bytes show. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}
