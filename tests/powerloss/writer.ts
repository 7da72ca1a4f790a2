/**
 * The writer of the power-loss suite (`run.ts`): runs one seeded workload on a
 * directory under a LazyFS mount and logs each operation to `log` (a file
 * outside the mount) before it issues it, and `{"t":"ok"}` once it resolved.
 * The parent kills it (or LazyFS dies under it) at some point; `verify.ts`
 * replays the log and checks every acknowledged byte.
 *
 * ```sh
 * deno run -A tests/powerloss/writer.ts <workload> <directory> <log> <seed> [driver] [layout]
 * bun tests/powerloss/writer.ts ...   # node: bundled by run.ts first
 * ```
 *
 * Workloads: `raw` (Blob writes, `{ sync: true }` and vectored writes, resize,
 * sync, remove and recreate), `buffered` (BufferedWriter), `paged` (PagedWriter),
 * `create` (opens of new partitions and blobs, removes).
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { createStorage, type DriverName } from "../../drivers/select.ts";
import type { Blob, Storage } from "../../core/types.ts";
import { BufferedWriter, PageCache, PagedWriter } from "../../buffer/mod.ts";
import { dataFor, type LogOp } from "./_model.ts";

/** A small seeded generator (mulberry32). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

/** Everything a workload needs. */
interface Ctx {
  storage: Storage;
  rand: (n: number) => number;
  /** Logs `op`, runs `fn`, logs `ok`. */
  step<T>(op: Exclude<LogOp, { t: "ok" }>, fn: () => Promise<T>): Promise<T>;
  nextId(): number;
}

/** Operations before the writer idles (the parent kills it long before, as a rule). */
const OPS = 4000;
/** Blobs are cut back when they grow past this, to keep the verifier's model small. */
const CAP = 1 << 19;

async function raw(c: Ctx): Promise<void> {
  const names = ["a", "b"];
  const blobs: Blob[] = [];
  const lens = [0, 0];
  for (const b of names) {
    blobs.push(
      (await c.step({ t: "open", p: "raw", b, kind: "raw" }, () => c.storage.open("raw", b))).blob,
    );
  }
  for (let i = 0; i < OPS; i++) {
    const k = c.rand(2);
    const b = names[k]!;
    const blob = blobs[k]!;
    const r = lens[k]! > CAP ? 50 : c.rand(100);
    if (r < 45 || (r >= 80 && r < 96)) {
      const len = 1 + c.rand(r < 10 ? 40_000 : 6000);
      const off = c.rand(lens[k]! + 2048);
      const sync = c.rand(3) === 0;
      const id = c.nextId();
      const data = dataFor(id, len);
      // Vectored: the same bytes in up to four chunks.
      const parts = r % 3 === 0 ? split(data, 1 + c.rand(4), c.rand) : data;
      await c.step(
        { t: "write", p: "raw", b, off, len, id, sync },
        () => blob.writeAt(off, parts, { sync }),
      );
      lens[k] = Math.max(lens[k]!, off + len);
    } else if (r < 55) {
      const n = c.rand(lens[k]! > CAP ? CAP : lens[k]! + 4096);
      await c.step({ t: "resize", p: "raw", b, n }, () => blob.resize(n));
      lens[k] = n;
    } else if (r < 80) {
      await c.step({ t: "sync", p: "raw", b }, () => blob.sync());
    } else {
      await blob.close();
      await c.step({ t: "remove", p: "raw", b }, () => c.storage.remove("raw", b));
      blobs[k] = (await c.step({ t: "open", p: "raw", b, kind: "raw" }, () =>
        c.storage.open("raw", b))).blob;
      lens[k] = 0;
    }
  }
}

function split(data: Uint8Array, n: number, rand: (n: number) => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 1; i < n; i++) {
    const cut = at + rand(data.length - at + 1);
    out.push(data.subarray(at, cut));
    at = cut;
  }
  out.push(data.subarray(at));
  return out;
}

async function buffered(c: Ctx): Promise<void> {
  const p = "buf";
  const b = "w";
  const { blob, size } = await c.step(
    { t: "open", p, b, kind: "buffered" },
    () => c.storage.open(p, b),
  );
  const w = new BufferedWriter(blob, size, { capacity: 1024 + c.rand(16_384) });
  for (let i = 0; i < OPS; i++) {
    const r = w.size > CAP ? 75 : c.rand(100);
    if (r < 70) {
      const len = 1 + c.rand(8000);
      const off = r < 50 ? w.size : c.rand(w.size + 1024);
      const id = c.nextId();
      await c.step({ t: "write", p, b, off, len, id }, () => w.writeAt(off, dataFor(id, len)));
    } else if (r < 78) {
      const n = c.rand(w.size > CAP ? CAP : w.size + 2048);
      await c.step({ t: "resize", p, b, n }, () => w.resize(n));
    } else {
      await c.step({ t: "sync", p, b }, () => w.sync());
    }
  }
}

const PAGE_SIZES = [64, 256, 4084, 4096];

async function paged(c: Ctx): Promise<void> {
  const p = "paged";
  const b = "j";
  const pageSize = PAGE_SIZES[c.rand(PAGE_SIZES.length)]!;
  const cache = new PageCache({ pageSize, capacity: 64 });
  const { blob, size } = await c.step(
    { t: "open", p, b, kind: "paged", page: pageSize },
    () => c.storage.open(p, b),
  );
  const w = await PagedWriter.open(blob, size, { cache, bufferSize: pageSize * (1 + c.rand(4)) });
  for (let i = 0; i < OPS; i++) {
    const r = w.size > CAP ? 77 : c.rand(100);
    if (r < 65) {
      const len = 1 + c.rand(r < 10 ? 3 * pageSize : Math.max(40, pageSize >> 1));
      const id = c.nextId();
      const off = w.size;
      await c.step({ t: "write", p, b, off, len, id }, () => w.append(dataFor(id, len)));
    } else if (r < 75) {
      // snapshot() writes the buffered pages, the partial one too, without a sync.
      await c.step({ t: "flush", p, b }, () => w.snapshot());
    } else if (r < 80) {
      const n = c.rand(w.size + 1);
      await c.step({ t: "resize", p, b, n }, () => w.resize(n));
    } else {
      await c.step({ t: "sync", p, b }, () => w.sync());
    }
  }
}

async function create(c: Ctx): Promise<void> {
  for (let i = 0; i < OPS; i++) {
    const p = `p${c.rand(6)}`;
    const b = `n${c.rand(12)}`;
    const r = c.rand(100);
    if (r < 80) {
      const { blob } = await c.step({ t: "open", p, b, kind: "raw" }, () => c.storage.open(p, b));
      await blob.close();
    } else if (r < 95) {
      await c.step({ t: "remove", p, b }, () => c.storage.remove(p, b)).catch(ignoreMissing);
    } else {
      await c.step({ t: "remove", p }, () => c.storage.remove(p)).catch(ignoreMissing);
    }
  }
}

function ignoreMissing(err: unknown): void {
  const code = (err as { code?: string }).code;
  if (code !== "BlobMissing" && code !== "PartitionMissing") throw err;
}

const WORKLOADS: Record<string, (c: Ctx) => Promise<void>> = { raw, buffered, paged, create };

async function main(args: string[]): Promise<void> {
  const [workload, directory, log, seedText, driver, layout] = args;
  const run = WORKLOADS[workload ?? ""];
  if (run === undefined || directory === undefined || log === undefined) {
    throw new TypeError(
      "usage: writer.ts <raw|buffered|paged|create> <dir> <log> <seed> [driver] [v0|v1]",
    );
  }
  const fd = fs.openSync(log, "a");
  const storage = createStorage({
    directory,
    driver: driver as DriverName | undefined,
    layout: layout === "v0" ? "v0" : "v1",
  });
  let id = Number(seedText) * 100_000;
  const ctx: Ctx = {
    storage,
    rand: rng(Number(seedText)),
    nextId: () => id++,
    async step(op, fn) {
      fs.writeSync(fd, JSON.stringify(op) + "\n");
      const out = await fn();
      fs.writeSync(fd, '{"t":"ok"}\n');
      return out;
    },
  };
  await run(ctx);
  fs.writeSync(fd, '{"t":"done"}\n');
  // The parent kills us; never exit on our own while it may still want to.
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}

await main(process.argv.slice(2));
