/**
 * The example's dedicated worker: a journal of text entries in the Origin
 * Private File System through `OpfsStorage`, which survives a reload.
 *
 * Each entry is one record appended at the end of the blob `journal/0`:
 * its length (u32, big-endian), the CRC32C of its bytes (u32), then its UTF-8
 * bytes; every append is synced before the page hears back. On load, records
 * are read back in order; a torn last record (the tab closed mid-append) is
 * cut off, so the journal always ends at its last whole entry.
 *
 * The page talks to it with messages: `{ type: "load" }`, `{ type: "append",
 * text }`, `{ type: "clear" }`; each reply is `{ entries, bytes }` or
 * `{ error }`.
 *
 * @module
 */

import { crc32c, OpfsStorage } from "../../browser.ts";
import type { Blob } from "../../browser.ts";

declare const self: {
  onmessage: ((event: { data: Request }) => void) | null;
  postMessage(message: unknown): void;
};

type Request = { type: "load" } | { type: "append"; text: string } | { type: "clear" };

const storage = new OpfsStorage({ directory: "blobrt-example" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const RECORD_HEAD = 8;

let journal: { blob: Blob; size: number; entries: string[] } | undefined;

/** Opens the journal and reads every whole record; cuts off a torn tail. */
async function open(): Promise<NonNullable<typeof journal>> {
  if (journal !== undefined) return journal;
  const { blob, size } = await storage.open("journal", "0");
  const bytes = size === 0 ? new Uint8Array(0) : (await blob.readAt(0, size)).bytes();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: string[] = [];
  let at = 0;
  while (at + RECORD_HEAD <= bytes.length) {
    const length = view.getUint32(at);
    const end = at + RECORD_HEAD + length;
    if (end > bytes.length) break;
    const body = bytes.subarray(at + RECORD_HEAD, end);
    if (crc32c(body) !== view.getUint32(at + 4)) break;
    entries.push(decoder.decode(body));
    at = end;
  }
  if (at < size) {
    await blob.resize(at); // a torn last record: cut back to the last whole one
    await blob.sync();
  }
  return journal = { blob, size: at, entries };
}

async function append(text: string): Promise<void> {
  const j = await open();
  const body = encoder.encode(text);
  const record = new Uint8Array(RECORD_HEAD + body.length);
  const view = new DataView(record.buffer);
  view.setUint32(0, body.length);
  view.setUint32(4, crc32c(body));
  record.set(body, RECORD_HEAD);
  await j.blob.writeAt(j.size, record, { sync: true });
  j.size += record.length;
  j.entries.push(text);
}

async function clear(): Promise<void> {
  if (journal !== undefined) await journal.blob.close();
  journal = undefined;
  await storage.remove("journal").catch((err) => {
    if (err?.code !== "PartitionMissing") throw err;
  });
}

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "append") await append(data.text);
    else if (data.type === "clear") await clear();
    const j = await open();
    self.postMessage({ entries: j.entries, bytes: j.size });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
