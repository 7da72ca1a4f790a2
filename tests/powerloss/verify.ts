/**
 * The verifier of the power-loss suite (`run.ts`): after the power loss,
 * replays the writer's log (`_model.ts`), reads every blob the log names back
 * through the mount (the raw header bytes first, then through the storage and,
 * for a paged blob, `PagedWriter.open`), and prints one JSON line: acknowledged
 * bytes compared, bytes lost, garbage, and what went wrong.
 *
 * ```sh
 * deno run -A tests/powerloss/verify.ts <directory> <log> [driver] [layout]
 * ```
 *
 * @module
 */

import * as fs from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createStorage, type DriverName } from "../../drivers/select.ts";
import { createHeader } from "../../core/header.ts";
import type { Storage } from "../../core/types.ts";
import { PageCache, PagedWriter } from "../../buffer/mod.ts";
import { type BlobModel, checkBytes, replay } from "./_model.ts";

/** What the verifier prints. */
export interface Verdict {
  /** Blobs the log names. */
  blobs: number;
  /** Acknowledged bytes compared (headers included). */
  acked: number;
  /** Acknowledged bytes missing or wrong. */
  lost: number;
  /** Other bytes no operation could have left. */
  garbage: number;
  /** What went wrong, briefly. */
  problems: string[];
}

function hex(name: string): string {
  return Array.from(new TextEncoder().encode(name), (x) => x.toString(16).padStart(2, "0")).join(
    "",
  );
}

async function listed(storage: Storage, p: string): Promise<Set<string>> {
  try {
    return new Set((await storage.scan(p)).map((n) => new TextDecoder().decode(n)));
  } catch (err) {
    if ((err as { code?: string }).code === "PartitionMissing") return new Set();
    throw err;
  }
}

async function content(storage: Storage, p: string, b: string, m: BlobModel): Promise<Uint8Array> {
  const { blob, size } = await storage.open(p, b);
  try {
    if (m.kind !== "paged") {
      return size === 0 ? new Uint8Array(0) : (await blob.readAt(0, size)).bytes();
    }
    const cache = new PageCache({ pageSize: m.page, capacity: 16 });
    const w = await PagedWriter.open(blob, size, { cache });
    return await w.readAt(0, w.size);
  } finally {
    await blob.close();
  }
}

async function verifyBlob(
  v: Verdict,
  storage: Storage,
  directory: string,
  key: string,
  m: BlobModel,
  header: Uint8Array,
): Promise<void> {
  const slash = key.indexOf("/");
  const [p, b] = [key.slice(0, slash), key.slice(slash + 1)];
  const present = (await listed(storage, p)).has(b);
  if (m.exists === "no") {
    if (present) v.problems.push(`${key}: removed (acknowledged), but back after the power loss`);
    return;
  }
  if (!present) {
    if (m.exists === "yes") {
      v.problems.push(`${key}: created (acknowledged), missing after the power loss`);
      v.lost += header.length;
      v.acked += header.length;
    }
    return;
  }
  if (m.exists === "yes") {
    // Before the storage opens it (an open heals a short or torn header).
    const raw = fs.readFileSync(join(directory, p, hex(b))).subarray(0, header.length);
    v.acked += header.length;
    let bad = header.length - raw.length;
    for (let i = 0; i < raw.length; i++) if (raw[i] !== header[i]) bad++;
    if (bad > 0) {
      v.lost += bad;
      v.problems.push(
        `${key}: ${bad} header bytes lost (file is ${raw.length} of ${header.length})`,
      );
    }
  }
  let got: Uint8Array;
  try {
    got = await content(storage, p, b, m);
  } catch (err) {
    const c = checkBytes(m, new Uint8Array(0));
    if (c.acked === 0 && m.exists !== "yes" && tornHeaderOnly(directory, p, b, header, err)) {
      // An unacknowledged creation whose header write was torn with a hole before
      // persisted bytes (LazyFS tears even an 8-byte V0 header; a disk cannot tear
      // inside a sector). commonware's healing rule (SPEC §3b) resets only prefix
      // tears, so this stays BlobCorrupt by design; no acknowledged byte is involved.
      return;
    }
    v.acked += c.acked;
    v.lost += c.acked;
    const e = err as { code?: string; message?: string };
    v.problems.push(`${key} (${m.kind}): unreadable: ${e.code ?? ""} ${e.message ?? String(err)}`);
    return;
  }
  const c = checkBytes(m, got);
  v.acked += c.acked;
  v.lost += c.lost;
  v.garbage += c.garbage;
  if (c.lost + c.garbage > 0) {
    v.problems.push(`${key} (${m.kind}${m.page ? ` page ${m.page}` : ""}): ${c.first.join("; ")}`);
  }
}

/**
 * Whether the blob file holds no more than `header`'s length, every byte either
 * zero or the header's own, and opening it failed with `BlobCorrupt`: a torn
 * header write and nothing else.
 */
function tornHeaderOnly(
  directory: string,
  p: string,
  b: string,
  header: Uint8Array,
  err: unknown,
): boolean {
  if ((err as { code?: string }).code !== "BlobCorrupt") return false;
  const raw = fs.readFileSync(join(directory, p, hex(b)));
  if (raw.length > header.length) return false;
  return raw.every((x, i) => x === 0 || x === header[i]);
}

async function main(args: string[]): Promise<void> {
  const [directory, log, driver, layout] = args;
  if (directory === undefined || log === undefined) {
    throw new TypeError("usage: verify.ts <directory> <log> [driver] [v0|v1]");
  }
  const blobs = replay(fs.readFileSync(log, "utf8").split("\n"));
  const storage = createStorage({
    directory,
    driver: driver as DriverName | undefined,
    layout: layout === "v0" ? "v0" : "v1",
  });
  const header = createHeader(layout === "v0" ? "v0" : "v1", 0);
  const v: Verdict = { blobs: blobs.size, acked: 0, lost: 0, garbage: 0, problems: [] };
  for (const [key, m] of blobs) {
    try {
      await verifyBlob(v, storage, directory, key, m, header);
    } catch (err) {
      v.problems.push(`${key}: verifier failed: ${String(err)}`);
    }
  }
  process.stdout.write(JSON.stringify(v) + "\n");
  process.exit(0);
}

await main(process.argv.slice(2));
