/**
 * Open-time recovery of a paged blob, and the bound on unsynced bytes it
 * relies on (private).
 *
 * **The window.** Between two syncs a crash may keep the unsynced writes in
 * any subset and order, each possibly torn, so a page can be lost while a
 * later one survives. A scan backwards from the end (commonware's
 * `Writer::new`) cannot see such a hole; a scan of the whole blob would make
 * every open cost the blob's size. So a `PagedWriter` never has more than
 * {@linkcode windowPages} physical pages written past the first page that is
 * not yet full and durable (the *anchor*): before a write would end further
 * out, it syncs. Every page before the anchor is full and durable, and no
 * write ends more than the window past the anchor, so in any crash image the
 * pages before `ceil((size - window) / physical)` are intact, and only the
 * last window's pages need checking.
 *
 * **Recovery** ({@linkcode recover}) checks the window's pages from its start
 * and keeps them up to the first page that fails its checks, or up to and
 * including the first partial page; everything after (and a trailing
 * fragment of a page) is cut off.
 *
 * @module
 */

import type { Blob } from "../core/types.ts";
import { type ActiveChecksum, RECORD_SIZE, validatePage } from "./_page_format.ts";

/**
 * The most bytes of whole physical pages a writer leaves unsynced past its
 * anchor, and so the most bytes `open` reads and checks: 1 MiB.
 */
export const UNSYNCED_WINDOW = 1 << 20;
/** The window is never fewer pages than this (large pages). */
export const MIN_WINDOW_PAGES = 4;
/** Bytes per blob read while recovering. */
const SCAN_BYTES = 1 << 18;

let testPages: number | undefined;

/**
 * Pages in the window for `physical`-byte physical pages: as many as fit in
 * {@linkcode UNSYNCED_WINDOW}, at least {@linkcode MIN_WINDOW_PAGES}.
 */
export function windowPages(physical: number): number {
  return testPages ?? Math.max(MIN_WINDOW_PAGES, Math.floor(UNSYNCED_WINDOW / physical));
}

/**
 * For tests only: sets the window to `pages` pages (a small window makes
 * writers sync often, so the crash tests reach the bound, and leaves earlier
 * pages unchecked at open), or back to the default. A writer and the `open`
 * that recovers its blob must use the same window.
 */
export function setWindowForTesting(pages?: number): void {
  if (pages !== undefined && !(Number.isSafeInteger(pages) && pages >= 1)) {
    throw new RangeError(`window must be a positive number of pages, got ${pages}`);
  }
  testPages = pages;
}

/** What recovery found. */
export interface Recovered {
  /** Physical pages kept: every one full but the last. */
  pages: number;
  /** The last kept page's bytes and checksum, when it is partial. */
  partial?: { bytes: Uint8Array; checksum: ActiveChecksum };
  /** Whether any bytes follow the kept pages (they are to be cut off). */
  invalid: boolean;
}

/**
 * Checks the pages of `blob` (of `size` bytes) in the last window, from the
 * window's start: keeps them up to the first invalid page, or up to and
 * including the first partial one. Pages before the window are not read.
 */
export async function recover(blob: Blob, size: number, pageSize: number): Promise<Recovered> {
  const physical = pageSize + RECORD_SIZE;
  const whole = Math.floor(size / physical);
  const fragment = size - whole * physical;
  // ceil((size - window) / physical): the first page a crash may have touched.
  const start = Math.max(0, whole - windowPages(physical) + (fragment > 0 ? 1 : 0));
  const batch = Math.max(1, Math.floor(SCAN_BYTES / physical));
  for (let first = start; first < whole; first += batch) {
    const count = Math.min(batch, whole - first);
    const buf = (await blob.readAt(first * physical, count * physical)).bytes();
    for (let i = 0; i < count; i++) {
      const checksum = validatePage(buf, i * physical, pageSize);
      if (checksum === undefined) return { pages: first + i, invalid: true };
      if (checksum.len === pageSize) continue;
      const pages = first + i + 1;
      const at = i * physical;
      return {
        pages,
        partial: { bytes: buf.slice(at, at + checksum.len), checksum },
        invalid: pages < whole || fragment > 0,
      };
    }
  }
  return { pages: whole, invalid: fragment > 0 };
}
