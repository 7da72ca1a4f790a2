/**
 * The buffer layer, ported from commonware-runtime's `utils/buffer`: a
 * buffered sequential reader, a buffered writer with a tip buffer, and the
 * checksummed paged format (a shared page cache and a single-owner paged
 * writer) that commonware's journals and archives store on disk. Everything
 * here works over any `Blob` of `@blobrt/storage`.
 *
 * @example Append checksummed pages, sync, read back
 * ```ts
 * import { MemoryStorage } from "@blobrt/storage";
 * import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * const { blob, size } = await storage.open("log", "segment-0");
 * const cache = new PageCache({ pageSize: 4096, capacity: 16 });
 * const writer = await PagedWriter.open(blob, size, { cache });
 * const at = await writer.append(new TextEncoder().encode("hello"));
 * await writer.sync();
 * assert.equal(new TextDecoder().decode(await writer.readAt(at, 5)), "hello");
 * await blob.close();
 * ```
 *
 * @module
 */

// The buffer types that `BufferedWriter.writeAt` takes (as `WriteData`).
export type { IoBuf, IoBufMut, IoBufs } from "../core/buffers.ts";
export { crc32c } from "../core/crc32c.ts";
// BufferedReader and BufferedWriter (buffered_reader.ts, buffered_writer.ts):
// export lines below this comment belong to their author.
export { BufferedReader, type BufferedReaderOptions } from "./buffered_reader.ts";
export { BufferedWriter, type BufferedWriterOptions, type WriteData } from "./buffered_writer.ts";

// PageCache and PagedWriter (page_cache.ts, paged_writer.ts and their private files):
// export lines below this comment belong to their author.
export { PageCache, type PageCacheOptions } from "./page_cache.ts";
export { PagedWriter, type PagedWriterOptions, Replay, Sealed } from "./paged_writer.ts";
