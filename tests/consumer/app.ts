// A consumer app as `tsc` sees it: strict, noUncheckedIndexedAccess, Node's
// types and no Deno types. It imports every entry of deno.json "exports", so
// `npm run check:tsc` type-checks all of blobrt's sources the way a user's
// compiler does.
import { createStorage, MemoryStorage, type Storage } from "../../mod.ts";
import * as driver from "../../driver.ts";
import * as memory from "../../drivers/memory.ts";
import * as node from "../../drivers/node.ts";
import * as deno from "../../drivers/deno.ts";
import * as bun from "../../drivers/bun.ts";
import * as audited from "../../drivers/audited.ts";
import * as faulty from "../../drivers/faulty.ts";
import * as metered from "../../drivers/metered.ts";
import * as buffers from "../../core/buffers.ts";
import * as errors from "../../core/errors.ts";
import type * as types from "../../core/types.ts";
import * as cli from "../../cli/main.ts";
import * as buffer from "../../buffer/mod.ts";
import * as opfs from "../../opfs/mod.ts";
import * as browser from "../../browser.ts";

export async function roundTrip(storage: Storage): Promise<Uint8Array<ArrayBuffer>> {
  await using opened = await storage.open("p", "b");
  await opened.blob.writeAt(0, new Uint8Array([1, 2, 3]));
  const bytes = (await opened.blob.readAt(0, 3)).bytes();
  // Memory the storage hands over is a plain ArrayBuffer: WebCrypto and File take it.
  await crypto.subtle.digest("SHA-256", bytes);
  return bytes;
}

export const used: unknown[] = [
  createStorage,
  MemoryStorage,
  driver,
  memory,
  node,
  deno,
  bun,
  audited,
  faulty,
  metered,
  buffers,
  errors,
  cli,
  buffer,
  opfs,
  browser,
];

/** The buffer layer as a user types it: a paged log over any storage. */
export async function pagedLog(storage: Storage): Promise<Uint8Array> {
  const { blob, size } = await storage.open("log", "0");
  const cache = new buffer.PageCache({ pageSize: 4084, capacity: 8 });
  const writer = await buffer.PagedWriter.open(blob, size, { cache });
  const at: number = await writer.append(new Uint8Array([1, 2, 3]));
  await writer.sync();
  const back: Uint8Array = await writer.readAt(at, 3);
  await blob.close();
  return back;
}
export type Used = types.Blob;
