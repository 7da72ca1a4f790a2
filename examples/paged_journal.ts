/**
 * A journal on the checksummed paged format: length-prefixed records appended
 * through a `PagedWriter`, a crash that loses what was not synced, and
 * recovery by replaying every record (each page verified on the way).
 *
 * Run: `deno run examples/paged_journal.ts` or `bun examples/paged_journal.ts`.
 *
 * @module
 */

import { MemoryStorage } from "../mod.ts";
import { PageCache, PagedWriter } from "../buffer/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Appends one record: a u32 big-endian length, then the bytes. */
async function appendRecord(journal: PagedWriter, text: string): Promise<number> {
  const body = enc.encode(text);
  const record = new Uint8Array(4 + body.length);
  new DataView(record.buffer).setUint32(0, body.length);
  record.set(body, 4);
  return await journal.append(record);
}

/** Replays every complete record; cuts a torn last record off. */
async function replayRecords(journal: PagedWriter): Promise<string[]> {
  const replay = await journal.replay();
  const records: string[] = [];
  let end = 0;
  while (await replay.ensure(4)) {
    const length = new DataView(replay.copyToBytes(4).buffer).getUint32(0);
    if (!(await replay.ensure(length))) break; // a record cut short by the crash
    records.push(dec.decode(replay.copyToBytes(length)));
    end += 4 + length;
  }
  if (end < journal.size) await journal.resize(end);
  return records;
}

/** Runs the example, printing with `log`. */
export async function main(log: (line: string) => void = console.log): Promise<void> {
  const storage = new MemoryStorage();
  const cache = new PageCache({ pageSize: PageCache.pageSizeFor(4096), capacity: 64 });

  let { blob, size } = await storage.open("journal", "segment-0");
  const journal = await PagedWriter.open(blob, size, { cache });
  for (const text of ["first", "second", "third"]) await appendRecord(journal, text);
  await journal.sync();
  await appendRecord(journal, "never synced");
  storage.crash(); // the process dies: the unsynced record is gone

  ({ blob, size } = await storage.open("journal", "segment-0"));
  const recovered = await PagedWriter.open(blob, size, { cache });
  const records = await replayRecords(recovered);
  log(`recovered ${records.length} records: ${records.join(", ")}`);
  await appendRecord(recovered, "fourth");
  await recovered.sync();
  log(`journal now holds ${recovered.size} bytes`);
  await blob.close();
}

if ((import.meta as { main?: boolean }).main) await main();
