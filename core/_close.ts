/**
 * {@linkcode closeInner}: how a wrapper closes the storage it wraps.
 *
 * @module
 */

import type { Storage } from "./types.ts";

/**
 * Closes `inner`; an inner storage written before `Storage.close` existed
 * (no `close` method) has nothing to close.
 *
 * @param inner The wrapped storage.
 * @returns A promise that resolves once it is closed.
 */
export async function closeInner(inner: Storage): Promise<void> {
  const close = (inner as Partial<Storage>).close;
  if (typeof close === "function") await close.call(inner);
}
