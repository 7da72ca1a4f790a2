/**
 * Open-time recovery of a paged blob (private): find the last valid page by
 * scanning backwards from the end, as commonware's `Writer::new` does.
 *
 * @module
 */

import type { Blob } from "../core/types.ts";
import { type ActiveChecksum, RECORD_SIZE, validatePage } from "./_page_format.ts";

/** What the backward scan found. */
export interface Recovered {
  /** Physical pages up to and including the last valid one. */
  pages: number;
  /** The last valid page's bytes and checksum, when it is partial. */
  partial?: { bytes: Uint8Array; checksum: ActiveChecksum };
  /** Whether any bytes follow the last valid page (they are to be cut off). */
  invalid: boolean;
}

/** Pages read per blob read while scanning backwards. */
const SCAN_BATCH = 16;

/**
 * Scans `blob` (of `size` bytes) backwards for its last valid page. A
 * trailing fragment shorter than a physical page is invalid; so is every
 * page after the last valid one. Earlier pages are not checked here.
 */
export async function findLastValidPage(
  blob: Blob,
  size: number,
  pageSize: number,
): Promise<Recovered> {
  const physical = pageSize + RECORD_SIZE;
  const fragment = size % physical;
  let end = size - fragment;
  let invalid = fragment !== 0;
  while (end > 0) {
    const count = Math.min(end / physical, SCAN_BATCH);
    const start = end - count * physical;
    const buf = (await blob.readAt(start, count * physical)).bytes();
    for (let i = count - 1; i >= 0; i--) {
      const checksum = validatePage(buf, i * physical, pageSize);
      if (checksum === undefined) {
        invalid = true;
        continue;
      }
      const pages = start / physical + i + 1;
      if (checksum.len === pageSize) return { pages, invalid };
      const at = i * physical;
      return { pages, partial: { bytes: buf.slice(at, at + checksum.len), checksum }, invalid };
    }
    end = start;
  }
  return { pages: 0, invalid };
}
