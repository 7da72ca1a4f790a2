/**
 * A first blobrt program: an append-only journal that survives a crash.
 *
 * It appends records (u32 big-endian length + bytes) to a blob, syncs some of
 * them, "crashes" the in-memory storage, and recovers: every synced record is
 * there, every unsynced one is gone, and a torn tail is cut off.
 *
 * Run: `npm run example` (Deno) or `bun examples/journal.ts`.
 */

import { type Blob, MemoryStorage, type Storage } from "../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Appends one framed record at `offset`; returns the next offset. */
async function append(blob: Blob, offset: number, text: string, sync: boolean): Promise<number> {
  const body = enc.encode(text);
  const frame = new Uint8Array(4);
  new DataView(frame.buffer).setUint32(0, body.length);
  await blob.writeAt(offset, [frame, body], { sync });
  return offset + 4 + body.length;
}

/** Reads every complete record; cuts off (and syncs away) a torn tail. */
async function recover(storage: Storage): Promise<string[]> {
  await using opened = await storage.open("journal", "segment-0", { versions: { min: 1, max: 1 } });
  const { blob, size } = opened;
  const records: string[] = [];
  let at = 0;
  while (at + 4 <= size) {
    const head = (await blob.readAt(at, 4)).bytes();
    const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
    if (at + 4 + len > size) break;
    records.push(dec.decode((await blob.readAt(at + 4, len)).bytes()));
    at += 4 + len;
  }
  if (at < size) {
    await blob.resize(at);
    await blob.sync();
  }
  return records;
}

const storage = new MemoryStorage();
{
  const { blob } = await storage.open("journal", "segment-0", { versions: { min: 1, max: 1 } });
  let at = 0;
  at = await append(blob, at, "deposit 100", true);
  at = await append(blob, at, "withdraw 30", true);
  at = await append(blob, at, "deposit 5 (never synced)", false);
  console.log(`wrote 3 records (${at} bytes), synced 2`);
}
storage.crash();
console.log("crash!");
const records = await recover(storage);
console.log(`recovered ${records.length} records:`);
for (const r of records) console.log(`  ${r}`);
if (records.join("|") !== "deposit 100|withdraw 30") throw new Error("recovery lost data");
