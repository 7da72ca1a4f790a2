/**
 * blobrt: named partitions of named blobs, with positional reads, vectored
 * writes, an 8-byte versioned header on every blob and explicit durability.
 * The on-disk format is that of commonware-runtime's storage.
 *
 * @example A first blob
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * await using opened = await storage.open("journal", "segment-0");
 * const { blob } = opened;
 * await blob.writeAt(0, [new TextEncoder().encode("hello "), new TextEncoder().encode("world")]);
 * await blob.sync();
 * const read = await blob.readAt(6, 5);
 * assert.equal(new TextDecoder().decode(read.bytes()), "world");
 * ```
 *
 * @module
 */

export * from "./core/buffers.ts";
export * from "./core/errors.ts";
export * from "./core/header.ts";
export * from "./core/names.ts";
export * from "./core/types.ts";
export * from "./core/args.ts";
export * from "./core/runtime.ts";
export * from "./core/random.ts";
export * from "./core/file_storage.ts";
export { MemoryStorage } from "./drivers/memory.ts";
export { DenoStorage } from "./drivers/deno.ts";
export { BunStorage } from "./drivers/bun.ts";
export { NodeStorage } from "./drivers/node.ts";
export * from "./drivers/select.ts";
export { AuditedStorage, Auditor } from "./drivers/audited.ts";
export { MeteredStorage, type MeteredStorageOptions } from "./drivers/metered.ts";
export * from "./drivers/faulty.ts";
