/**
 * The buffer types of blobrt, thin layers over `Uint8Array`:
 * {@linkcode IoBuf} (immutable view), {@linkcode IoBufMut} (fixed capacity,
 * writable), {@linkcode IoBufs} and {@linkcode IoBufsMut} (ordered chunks).
 * Slicing never copies; bad ranges throw `RangeError`.
 *
 * **Memory types.** Each type is generic over the memory it views,
 * `B extends ArrayBufferLike = ArrayBuffer`, and says no more than it knows:
 * - memory the library allocates (`readAt` results, `IoBufMut.withCapacity`,
 *   `IoBufMut.zeroed`, `IoBuf.copyFrom`, and the copy `bytes()`/`coalesce()`
 *   make of several chunks) is `ArrayBuffer`, so `bytes()` is a
 *   `Uint8Array<ArrayBuffer>`: what WebCrypto, `Blob` and `File` take, no cast;
 * - a buffer over the caller's memory keeps the caller's type: over a
 *   `Uint8Array<SharedArrayBuffer>` it is an `IoBuf<SharedArrayBuffer>`, over a
 *   loosely typed `Uint8Array` an `IoBuf<ArrayBufferLike>`, since its zero-copy
 *   views are of that memory. `writeAt` and `readAtBuf` accept any of them.
 *
 * @example
 * ```ts
 * import { IoBuf, IoBufs } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const bufs = new IoBufs([new IoBuf(new Uint8Array([1])), new Uint8Array([2, 3])]);
 * assert.deepEqual([...bufs], [new Uint8Array([1]), new Uint8Array([2, 3])]);
 * const copy: Uint8Array<ArrayBuffer> = bufs.bytes(); // two chunks: one copy
 * await crypto.subtle.digest("SHA-256", copy);
 *
 * const shared = new IoBuf(new Uint8Array(new SharedArrayBuffer(4)));
 * const view: Uint8Array<SharedArrayBuffer> = shared.bytes(); // zero-copy: the caller's memory
 * assert.equal(view.length, 4);
 * ```
 *
 * @module
 */

export { IoBuf } from "./io_buf.ts";
export { IoBufMut } from "./io_buf_mut.ts";
export { IoBufs } from "./io_bufs.ts";
export { IoBufsMut } from "./io_bufs_mut.ts";
