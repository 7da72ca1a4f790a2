/**
 * {@linkcode openedBlob}: builds the {@linkcode OpenedBlob} that `open` returns.
 *
 * @module
 */

import type { Blob, OpenedBlob } from "./types.ts";

/**
 * Builds an {@linkcode OpenedBlob}; disposing it (`await using`) closes the blob.
 *
 * @example
 * ```ts
 * import { openedBlob } from "@blobrt/storage/driver";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const { blob } = await new MemoryStorage().open("p", "b");
 * const opened = openedBlob(blob, 0, 0);
 * await opened[Symbol.asyncDispose]();
 * await assert.rejects(blob.sync(), { code: "Closed" });
 * ```
 *
 * @param blob The handle.
 * @param size Its logical size.
 * @param version Its blob version.
 * @returns The result of `open`.
 */
export function openedBlob(blob: Blob, size: number, version: number): OpenedBlob {
  return { blob, size, version, [Symbol.asyncDispose]: () => blob.close() };
}
