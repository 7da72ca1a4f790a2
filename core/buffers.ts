/**
 * The buffer types of blobrt, thin layers over `Uint8Array`:
 * {@linkcode IoBuf} (immutable view), {@linkcode IoBufMut} (fixed capacity,
 * writable), {@linkcode IoBufs} and {@linkcode IoBufsMut} (ordered chunks).
 * Slicing never copies; bad ranges throw `RangeError`.
 *
 * @example
 * ```ts
 * import { IoBuf, IoBufs } from "@blobrt/storage/buffers";
 * import assert from "node:assert/strict";
 *
 * const bufs = new IoBufs([new IoBuf(new Uint8Array([1])), new Uint8Array([2, 3])]);
 * assert.deepEqual([...bufs], [new Uint8Array([1]), new Uint8Array([2, 3])]);
 * ```
 *
 * @module
 */

export { IoBuf } from "./io_buf.ts";
export { IoBufMut } from "./io_buf_mut.ts";
export { IoBufs } from "./io_bufs.ts";
export { IoBufsMut } from "./io_bufs_mut.ts";
