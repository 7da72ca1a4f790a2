/**
 * The on-disk page format of commonware-runtime's `utils/buffer/paged`
 * (private): each physical page is `pageSize` logical bytes followed by a
 * 12-byte CRC record of two slots, `len1 u16 | crc1 u32 | len2 u16 | crc2 u32`,
 * all big-endian. A slot `(len, crc)` is valid when `1 <= len <= pageSize` and
 * `crc` is the CRC32C of the page's first `len` bytes. The slot with the larger
 * `len` is authoritative (slot 0 wins ties); when it is invalid the other slot
 * is the fallback; when neither is valid the page is invalid.
 *
 * @module
 */

import { crc32c } from "../core/crc32c.ts";

/** Bytes of the CRC record at the end of every physical page. */
export const RECORD_SIZE = 12;
/** Bytes of one slot (`len u16 | crc u32`). */
export const SLOT_SIZE = 6;
/** Bytes of a slot's `len` field. */
export const SLOT_LEN_SIZE = 2;

/** Which slot of a record: 0 (bytes 0–5) or 1 (bytes 6–11). */
export type Slot = 0 | 1;

/** The checksum that covers a page's committed bytes, and the slot holding it. */
export interface ActiveChecksum {
  /** The slot the checksum is stored in. */
  readonly slot: Slot;
  /** How many logical bytes it covers. */
  readonly len: number;
  /** CRC32C of those bytes. */
  readonly crc: number;
}

/** The reason of the `BlobCorrupt` a page that fails its checks gives (commonware's text). */
export const INVALID_CHECKSUM = "invalid or missing checksum";

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Writes `(len, crc)` big-endian at `at`. */
export function putSlot(dst: Uint8Array, at: number, len: number, crc: number): void {
  dst[at] = len >>> 8;
  dst[at + 1] = len;
  dst[at + 2] = crc >>> 24;
  dst[at + 3] = crc >>> 16;
  dst[at + 4] = crc >>> 8;
  dst[at + 5] = crc;
}

/** Writes a whole record `(len1, crc1, len2, crc2)` at `at`. */
export function putRecord(
  dst: Uint8Array,
  at: number,
  len1: number,
  crc1: number,
  len2: number,
  crc2: number,
): void {
  putSlot(dst, at, len1, crc1);
  putSlot(dst, at + SLOT_SIZE, len2, crc2);
}

/**
 * Writes the record of a page whose bytes now have checksum `(len, crc)`, at
 * `at`. With no `old` committed partial checksum the record is
 * `(len, crc, 0, 0)` and the new checksum is in slot 0; otherwise `old` stays
 * byte-identical in its own slot and the new checksum goes to the other one.
 *
 * @returns The new active checksum.
 */
export function putNewRecord(
  dst: Uint8Array,
  at: number,
  len: number,
  crc: number,
  old: ActiveChecksum | undefined,
): ActiveChecksum {
  if (old === undefined) {
    putRecord(dst, at, len, crc, 0, 0);
    return { slot: 0, len, crc };
  }
  if (old.slot === 0) {
    putRecord(dst, at, old.len, old.crc, len, crc);
    return { slot: 1, len, crc };
  }
  putRecord(dst, at, len, crc, old.len, old.crc);
  return { slot: 0, len, crc };
}

function validSlot(
  page: Uint8Array,
  start: number,
  pageSize: number,
  slot: Slot,
  len: number,
  crc: number,
): ActiveChecksum | undefined {
  if (len === 0 || len > pageSize) return undefined;
  if (crc32c(page.subarray(start, start + len)) !== crc) return undefined;
  return { slot, len, crc };
}

/**
 * Checks the physical page at `page[start, start + pageSize + 12)`.
 *
 * @returns Its active checksum, or `undefined` if the page is invalid.
 */
export function validatePage(
  page: Uint8Array,
  start: number,
  pageSize: number,
): ActiveChecksum | undefined {
  const at = start + pageSize;
  const len1 = u16(page, at);
  const crc1 = u32(page, at + 2);
  const len2 = u16(page, at + SLOT_SIZE);
  const crc2 = u32(page, at + SLOT_SIZE + 2);
  if (len1 >= len2) {
    return validSlot(page, start, pageSize, 0, len1, crc1) ??
      validSlot(page, start, pageSize, 1, len2, crc2);
  }
  return validSlot(page, start, pageSize, 1, len2, crc2) ??
    validSlot(page, start, pageSize, 0, len1, crc1);
}

/** A decoded record, for tests and tools. */
export interface CrcRecord {
  /** Slot 0 length. */
  len1: number;
  /** Slot 0 CRC. */
  crc1: number;
  /** Slot 1 length. */
  len2: number;
  /** Slot 1 CRC. */
  crc2: number;
}

/** Decodes the 12-byte record at `at`. */
export function readRecord(src: Uint8Array, at: number): CrcRecord {
  return {
    len1: u16(src, at),
    crc1: u32(src, at + 2),
    len2: u16(src, at + SLOT_SIZE),
    crc2: u32(src, at + SLOT_SIZE + 2),
  };
}
