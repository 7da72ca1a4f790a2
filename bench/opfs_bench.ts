/**
 * `OpfsStorage` against raw `FileSystemSyncAccessHandle` calls in the same
 * dedicated worker of headless Chromium: 4 KiB random reads (`readAt`, which
 * returns a fresh buffer, and `readAtBuf` into one reused buffer), random
 * writes, and writes with `{ sync: true }` (raw: `write` then `flush`) over a
 * 16 MiB file, offsets from {@linkcode randomOffsets} (SeededRandom, seed 1),
 * for both layouts; the raw handle does the same I/O at the same physical
 * positions.
 *
 * Browser-only: run it with `node tests/browser/run.mjs --bench`, which
 * bundles it into the test worker and prints the tables. Each cell is the
 * median of {@linkcode ROUNDS} rounds of {@linkcode ROUND_MS}, the order of
 * the contenders rotating each round. The baselines:
 *
 * - "raw": a plain synchronous loop, the upper bound, which never lets the
 *   worker's event loop run;
 * - "raw+turns": awaited calls that also yield one macrotask every 3 ms, as
 *   the engine does (SPEC §5, "Event loop"). Chromium does its deferred
 *   garbage collection of `ArrayBuffer`s in those turns: with a fresh 4 KiB
 *   buffer per read, each turn costs ~0.5 ms, which is most of what separates
 *   "raw" from "raw+turns" and `readAt` from `readAtBuf`.
 *
 * @example
 * ```ts ignore
 * import { runOpfsBench } from "./opfs_bench.ts";
 * await runOpfsBench((line) => console.log(line));
 * ```
 *
 * @module
 */

import { OpfsStorage } from "../opfs/mod.ts";
import { randomOffsets } from "./_offsets.ts";
import type { OpfsAccessHandle, OpfsDirectoryHandle } from "../opfs/_dom.ts";
import { opfsRoot } from "../opfs/_dom.ts";
import { Sha256 } from "../core/_sha256.ts";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

const SIZE = 4096;
const FILE = 16 * 1024 * 1024;
const SLOTS = FILE / SIZE;
/** Alternating rounds per cell. */
const ROUNDS = 11;
/** Milliseconds per round. */
const ROUND_MS = 150;

type Op = () => unknown;

/** Operations per second of `op` run for `ms`, checking the clock every 64 calls. */
async function rate(op: Op, ms: number, awaited: boolean): Promise<number> {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) {
      if (awaited) await op();
      else op();
    }
    n += 64;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Runs the benchmark and reports lines of a Markdown table through `log`.
 *
 * @param log Receives each line.
 */
export async function runOpfsBench(log: (line: string) => void): Promise<void> {
  log(
    "| layout | operation | raw (ops/s) | raw+turns (ops/s) | OpfsStorage (ops/s) | ÷ raw | ÷ raw+turns |",
  );
  log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const layout of ["v0", "v1"] as const) await layoutBench(layout, log);
  await shaBench(log);
  await turnBench(log);
}

/** Wraps `op` to await each call and yield one macrotask per 3 ms, as the engine does. */
function withTurns(op: Op): Op {
  const channel = new MessageChannel();
  let resolve: (() => void) | undefined;
  channel.port1.onmessage = () => resolve?.();
  let since = performance.now();
  let calls = 0;
  return async () => {
    if (++calls % 8 === 0 && performance.now() - since > 3) {
      await new Promise<void>((r) => {
        resolve = r;
        channel.port2.postMessage(0);
      });
      since = performance.now();
    }
    return op();
  };
}

/**
 * One layout: the raw handle does the very I/O the blob does, at the same
 * physical positions (the logical offset plus the header: 8 bytes for V0, so
 * its 4 KiB records straddle two pages; 4096 for V1, page-aligned).
 */
async function layoutBench(layout: "v0" | "v1", log: (line: string) => void): Promise<void> {
  const header = layout === "v0" ? 8 : 4096;
  const root: OpfsDirectoryHandle = await opfsRoot();
  await root.removeEntry("bench", { recursive: true }).catch(() => {});
  const dir = await root.getDirectoryHandle("bench", { create: true });
  const raw: OpfsAccessHandle = await (await dir.getFileHandle("raw", { create: true }))
    .createSyncAccessHandle();
  const fill = new Uint8Array(FILE).fill(7);
  raw.write(fill, { at: 0 });
  raw.write(new Uint8Array(header), { at: FILE });
  raw.flush();
  const storage = new OpfsStorage({ directory: "bench/blobrt", layout });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, fill, { sync: true });

  const data = new Uint8Array(SIZE).fill(42);
  const target = new Uint8Array(SIZE);
  const next = randomOffsets(1, SLOTS, SIZE);
  const cases: [string, { raw: Op; blobrt: Op }][] = [
    ["4 KiB random read (readAt, fresh buffer)", {
      raw: () => raw.read(new Uint8Array(SIZE), { at: next() + header }),
      blobrt: () => blob.readAt(next(), SIZE),
    }],
    ["4 KiB random read (readAtBuf, reused buffer)", {
      raw: () => raw.read(target, { at: next() + header }),
      blobrt: () => blob.readAtBuf(next(), SIZE, target),
    }],
    ["4 KiB random write", {
      raw: () => raw.write(data, { at: next() + header }),
      blobrt: () => blob.writeAt(next(), data),
    }],
    ["4 KiB random write + sync", {
      raw: () => {
        raw.write(data, { at: next() + header });
        raw.flush();
      },
      blobrt: () => blob.writeAt(next(), data, { sync: true }),
    }],
  ];
  for (const [label, c] of cases) {
    const r: number[] = [];
    const rt: number[] = [];
    const b: number[] = [];
    const turns = withTurns(c.raw);
    await rate(c.blobrt, 50, true); // warm-up
    await rate(c.raw, 50, false);
    // The order rotates each round, so no contender always runs after another (GC debts).
    const runs = [
      async () => r.push(await rate(c.raw, ROUND_MS, false)),
      async () => b.push(await rate(c.blobrt, ROUND_MS, true)),
      async () => rt.push(await rate(turns, ROUND_MS, true)),
    ];
    for (let i = 0; i < ROUNDS; i++) {
      for (let j = 0; j < runs.length; j++) await runs[(i + j) % runs.length]!();
    }
    const [mr, mrt, mb] = [median(r), median(rt), median(b)];
    const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
    log(
      `| ${layout} | ${label} | ${fmt(mr)} | ${fmt(mrt)} | ${fmt(mb)} | ${(mb / mr).toFixed(2)} | ${
        (mb / mrt).toFixed(2)
      } |`,
    );
  }
  await blob.close();
  raw.close();
  await root.removeEntry("bench", { recursive: true }).catch(() => {});
}

/**
 * The audit chain's hash here: blobrt's JavaScript SHA-256 against a
 * well-kept library's (`@noble/hashes`, a devDependency: blobrt takes no
 * runtime dependency) and WebCrypto's (awaited).
 */
async function shaBench(log: (line: string) => void): Promise<void> {
  const subtle = (globalThis as {
    crypto?: { subtle?: { digest(a: string, d: Uint8Array): Promise<ArrayBuffer> } };
  }).crypto?.subtle;
  log("");
  log(
    "| SHA-256 of | blobrt JS (hashes/s) | @noble/hashes (hashes/s) | WebCrypto digest, awaited (hashes/s) |",
  );
  log("| --- | ---: | ---: | ---: |");
  for (const size of [64, 4096]) {
    const data = new Uint8Array(size).fill(1);
    const js = await rate(() => new Sha256().update(data).digest(), ROUND_MS * 2, false);
    const noble = await rate(() => nobleSha256.create().update(data).digest(), ROUND_MS * 2, false);
    const web = subtle ? await rate(() => subtle.digest("SHA-256", data), ROUND_MS * 2, true) : NaN;
    const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
    log(`| ${size} B | ${fmt(js)} | ${fmt(noble)} | ${fmt(web)} |`);
  }
}

/** What one turn of the event loop costs here (the engine yields one every 3 ms of work). */
async function turnBench(log: (line: string) => void): Promise<void> {
  const channel = new MessageChannel();
  let resolve: (() => void) | undefined;
  channel.port1.onmessage = () => resolve?.();
  const turn = () =>
    new Promise<void>((r) => {
      resolve = r;
      channel.port2.postMessage(0);
    });
  for (let i = 0; i < 100; i++) await turn();
  const n = 2000;
  const start = performance.now();
  for (let i = 0; i < n; i++) await turn();
  const us = ((performance.now() - start) / n * 1000).toFixed(1);
  log("");
  log(`One MessageChannel turn (the engine yields one per 3 ms of work): ${us} µs`);
}
