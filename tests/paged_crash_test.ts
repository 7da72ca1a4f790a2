/**
 * The paged layer under seeded crashes: thousands of random sequences of
 * appends, syncs, snapshots (unsynced flushes), shrinks and reads through a `PagedWriter` over
 * `FaultyStorage(MemoryStorage)` with injected write, sync and resize
 * failures (partial writes, partial resizes), each ending in a crash that
 * keeps a random, possibly torn, subset of the unsynced writes. Then the blob
 * is recovered with `PagedWriter.open` and checked:
 *
 * - every byte acknowledged by a successful `sync()` survives, readable and
 *   exact (a shrink acknowledged by a sync drops what it cut);
 * - recovery never returns a byte that was not appended: every recovered byte
 *   past the synced prefix is a byte some append (or zero-filling resize) put
 *   at that offset since the last sync, acknowledged or not;
 * - every byte in `[0, size)` of the recovered writer reads (an unsynced page
 *   lost while a later one survives, or a torn rewrite, is cut off by `open`),
 *   so `recoverablePrefixLen()` is the size;
 * - a replay of the recovered blob gives the bytes the reads gave;
 * - the recovered writer keeps working in the next round.
 *
 * The crash keeps unsynced writes in a random subset (`retention` 1/4 to 1:
 * a later write kept while an earlier one is lost), torn at a random byte
 * (`tearing`), or none (`retention` 0). Half the seeds run with the default
 * unsynced window, half with a window of 1 to 6 pages, so the writer's own
 * syncs at the window's end and `open`'s window scan both matter.
 *
 * A second property builds crash images FaultyStorage does not: a recording
 * blob keeps the unsynced writes, and the crash lands each run of 1 to 8 of
 * their bytes (and each resize) on its own, as a disk that writes the
 * sectors of one write in any order. The same checks follow.
 *
 * Seeds: `BLOBRT_SEEDS` (default 400, and 200 for the second property),
 * `BLOBRT_ONLY_SEED` replays one; a failure names its seed.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { FaultyStorage, isInjectedFault } from "../drivers/faulty.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { SeededRandom } from "../core/random.ts";
import { StorageError } from "../core/errors.ts";
import { PageCache } from "../buffer/page_cache.ts";
import { PagedWriter } from "../buffer/paged_writer.ts";
import type { IoBufsMut } from "../core/io_bufs_mut.ts";
import type { Blob, ReadTarget, Storage, WriteData, WriteOptions } from "../core/types.ts";
import { backends } from "./fs_fixture.ts";
import { pattern } from "./util.ts";
import { chunks, seedsToRun } from "./seeds.ts";
import { setWindowForTesting } from "../buffer/_recover.ts";

/** Sequences run by default; `BLOBRT_SEEDS` sets another count. */
const SEQUENCES = 400;
const PARTITION = "crash";
const NAME = "journal";

class Failure extends Error {
  override name = "PropertyFailure";
}

function fail(message: string): never {
  throw new Failure(message);
}

/** An error a mutation may legitimately fail with under injected faults. */
function expectedFault(err: unknown): boolean {
  return isInjectedFault(err) || (err instanceof StorageError && err.code === "Closed");
}

/** What the model knows between crashes. */
interface Model {
  /** The content at the last successful sync (or recovery). */
  durable: Uint8Array;
  /** The content as appended (what reads must return). */
  current: number[];
  /** The smallest shrink target since the last sync (bytes below it never changed). */
  shrunkTo: number;
  /** Per offset: every value written there since the last sync, acknowledged or not. */
  candidates: number[][];
}

/** Writes `value` at `offset` of the model's content. */
function place(model: Model, offset: number, value: number): void {
  model.current[offset] = value;
  (model.candidates[offset] ??= []).push(value);
}

/** A successful sync: `content` is durable. */
function acknowledge(model: Model, content: Uint8Array): void {
  model.durable = content;
  model.shrunkTo = Infinity;
  model.candidates = [];
}

async function openFaulty(storage: FaultyStorage, rng: SeededRandom, cache: PageCache) {
  for (let attempt = 0;; attempt++) {
    try {
      const { blob, size } = await storage.open(PARTITION, NAME);
      return await PagedWriter.open(blob, size, {
        cache,
        bufferSize: 1 + rng.below(4 * cache.pageSize),
      });
    } catch (err) {
      if (!expectedFault(err) || attempt > 50) throw err;
    }
  }
}

/** Runs random operations until the writer fails or the budget ends. */
async function runOps(writer: PagedWriter, rng: SeededRandom, model: Model, pageSize: number) {
  const ops = 5 + rng.below(30);
  // Some sequences sync rarely and snapshot often: rewrites of a partial page
  // pile up between syncs.
  const syncs = rng.chance(0.5) ? 13 : 3;
  const snapshots = syncs === 3 ? 25 : 12;
  for (let i = 0; i < ops; i++) {
    const pick = rng.below(100);
    try {
      if (pick < 55) {
        const n = rng.below(pageSize * (rng.chance(0.2) ? 8 : 2));
        const data = new Uint8Array(n);
        for (let j = 0; j < n; j++) data[j] = rng.below(256);
        // Into the model first: a failed append may still leave its bytes behind.
        const expected = model.current.length;
        for (const b of data) place(model, model.current.length, b);
        const at = await writer.append(data);
        if (at !== expected) fail(`append at ${at}, expected ${expected}`);
      } else if (pick < 55 + syncs) {
        await writer.sync();
        acknowledge(model, Uint8Array.from(model.current));
      } else if (pick < 55 + syncs + snapshots) {
        // Flushes the partial page too, without a sync: a rewrite of the page
        // that the next snapshot or sync rewrites again.
        const snapshot = await writer.snapshot();
        if (snapshot.size !== model.current.length) fail(`snapshot of ${snapshot.size} bytes`);
      } else if (pick < 88 + (syncs === 3 ? 5 : 0)) {
        const n = rng.below(model.current.length + 1);
        model.shrunkTo = Math.min(model.shrunkTo, n);
        model.current.length = Math.min(model.current.length, n);
        for (let j = model.current.length; j < n; j++) place(model, j, 0);
        await writer.resize(n);
      } else {
        const size = model.current.length;
        if (size === 0) continue;
        const offset = rng.below(size);
        const length = 1 + rng.below(Math.min(size - offset, pageSize * 3));
        let got: Uint8Array;
        try {
          got = await writer.readAt(offset, length);
        } catch (err) {
          if (isInjectedFault(err)) continue;
          throw err;
        }
        for (let j = 0; j < length; j++) {
          if (got[j] !== model.current[offset + j]) fail(`read at ${offset + j} before crash`);
        }
      }
    } catch (err) {
      if (err instanceof Failure || !expectedFault(err)) throw err;
      return; // the writer is now unusable: crash
    }
  }
}

/**
 * Reads `[from, to)` page by page and checks each byte against the model:
 * synced bytes exactly, later ones against what was appended there.
 */
async function checkBytes(
  writer: PagedWriter,
  model: Model,
  d: Uint8Array,
  floor: number,
  from: number,
  to: number,
  pageSize: number,
): Promise<Uint8Array> {
  const known = new Uint8Array(to - from);
  for (let at = from; at < to;) {
    const n = Math.min(pageSize - (at % pageSize), to - at);
    let bytes: Uint8Array;
    try {
      bytes = await writer.readAt(at, n);
    } catch (err) {
      throw new Failure(`offset ${at} (synced ${floor}) unreadable: ${err}`);
    }
    for (let j = 0; j < n; j++) {
      const i = at + j;
      const b = bytes[j]!;
      if (i < floor) {
        if (b !== d[i]) fail(`synced byte ${i} is ${b}, expected ${d[i]}`);
      } else {
        const ok = (i < d.length && b === d[i]) || model.candidates[i]?.includes(b) === true;
        if (!ok) fail(`recovered byte ${i} is ${b}, never appended there`);
      }
    }
    known.set(bytes, at - from);
    at += n;
  }
  return known;
}

/** Recovers after a crash, checks the properties, and returns the recovered content. */
async function recoverAndCheck(
  inner: MemoryStorage,
  model: Model,
  pageSize: number,
): Promise<Uint8Array> {
  const cache = new PageCache({ pageSize, capacity: 4 });
  const { blob, size } = await inner.open(PARTITION, NAME);
  const writer = await PagedWriter.open(blob, size, { cache });
  const r = writer.size;
  const d = model.durable;
  const floor = Math.min(d.length, model.shrunkTo);
  if (r < floor) fail(`recovered ${r} bytes, fewer than the ${floor} synced`);
  const longest = Math.max(d.length, model.candidates.length);
  if (r > longest) fail(`recovered ${r} bytes, more than ever appended (${longest})`);
  // Every recovered byte reads: no hole, no torn page, anywhere in [0, size).
  const known = await checkBytes(writer, model, d, floor, 0, r, pageSize);
  // The scan a journal would make agrees.
  const prefix = await writer.recoverablePrefixLen();
  if (prefix !== r) fail(`recoverable prefix ${prefix}, size ${r}`);

  // A replay sees exactly what the reads saw.
  const replay = await writer.replay(1 + Math.floor(pageSize * 2.5));
  if (!(await replay.ensure(r))) fail("replay ended early");
  const replayed = replay.copyToBytes(r);
  for (let i = 0; i < r; i++) if (replayed[i] !== known[i]) fail(`replay byte ${i} differs`);
  if (await replay.ensure(1)) fail("replay went past the size");
  await blob.close();
  return known;
}

async function runSeed(seed: number): Promise<void> {
  const rng = new SeededRandom(seed);
  const pageSize = 8 + rng.below(57);
  const inner = new MemoryStorage({ layout: rng.chance(0.5) ? "v1" : "v0" });
  const storage = new FaultyStorage(inner, {
    seed,
    rates: {
      write: rng.chance(0.5) ? 0.02 + rng.below(8) / 100 : 0,
      sync: rng.chance(0.5) ? 0.05 : 0,
      resize: rng.chance(0.3) ? 0.2 : 0,
      read: rng.chance(0.2) ? 0.05 : 0,
      open: rng.chance(0.2) ? 0.1 : 0,
    },
    partialWrites: (["none", "prefix", "subset"] as const)[rng.below(3)],
    partialResizes: rng.chance(0.5),
    retention: rng.chance(0.1) ? 0 : (1 + rng.below(4)) / 4,
    tearing: rng.below(3) / 2,
  });
  setWindowForTesting(rng.chance(0.5) ? undefined : 1 + rng.below(6));
  const model: Model = {
    durable: new Uint8Array(0),
    current: [],
    shrunkTo: Infinity,
    candidates: [],
  };
  const rounds = 1 + rng.below(3);
  for (let round = 0; round < rounds; round++) {
    const cache = new PageCache({ pageSize, capacity: 1 + rng.below(8) });
    const writer = await openFaulty(storage, rng, cache);
    if (writer.size !== model.current.length) {
      fail(`round ${round} opened at ${writer.size}, expected ${model.current.length}`);
    }
    await runOps(writer, rng, model, pageSize);
    await storage.crash();
    const recovered = await recoverAndCheck(inner, model, pageSize);
    stats.recoveries++;
    stats.syncedBytes += Math.min(model.durable.length, model.shrunkTo);
    model.current = Array.from(recovered);
    acknowledge(model, recovered);
  }
}

/** Seeds per test; each test has an explicit timeout (never the runner's default). */
const CHUNK = 250;
const stats = { seeds: 0, recoveries: 0, syncedBytes: 0 };

async function runSeeds(seeds: number[]): Promise<void> {
  for (const seed of seeds) {
    try {
      await runSeed(seed);
      stats.seeds++;
    } catch (err) {
      throw new Error(
        `seed ${seed} (BLOBRT_ONLY_SEED=${seed} replays it): ${
          err instanceof Error ? err.stack : err
        }`,
      );
    } finally {
      setWindowForTesting();
    }
  }
}

const SEEDS = seedsToRun(SEQUENCES, 1);
for (const seeds of chunks(SEEDS, CHUNK)) {
  const name = seeds.length === 1
    ? `seed ${seeds[0]}`
    : `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
  test(
    `paged writer crash recovery, reordered and torn: ${name}`,
    { timeout: 600_000 },
    () => runSeeds(seeds),
  );
}

test("paged writer crash recovery: summary", () => {
  // For the long runs (BLOBRT_SEEDS=5000): a failed seed fails its test above.
  console.log(
    `paged crash property: ${stats.seeds} of ${SEEDS.length} seeds passed, ` +
      `${stats.recoveries} recoveries, ${stats.syncedBytes} synced bytes read back`,
  );
});

// ------------------------------------------------ issue 20.1: the minimal reproducers

/**
 * Appends `first` bytes and syncs, appends `more` and lets the flush reach the
 * blob unsynced, then builds the crash image in which physical pages listed in
 * `lost` went back to their synced bytes (the rewrite never landed) and the
 * later pages did land. Returns the recovered writer.
 */
async function crashImage(
  storage: Storage,
  pageSize: number,
  first: number,
  more: number,
  lost: number[],
): Promise<{ writer: PagedWriter; synced: Uint8Array }> {
  const physical = pageSize + 12;
  const cache = new PageCache({ pageSize, capacity: 8 });
  let { blob, size } = await storage.open("p", "b");
  const writer = await PagedWriter.open(blob, size, { cache });
  const data = pattern(first + more, pageSize);
  await writer.append(data.subarray(0, first));
  await writer.sync();
  const before = (await blob.readAt(0, physical)).bytes().slice(); // page 0 as synced
  await writer.append(data.subarray(first));
  await writer.snapshot(); // every byte on the blob, nothing synced since
  // The crash: the listed pages keep their synced bytes (zeros past the old end).
  for (const page of lost) {
    const old = new Uint8Array(physical);
    old.set(before.subarray(page * physical, (page + 1) * physical));
    await blob.writeAt(page * physical, old);
  }
  await blob.sync();
  await blob.close();
  ({ blob, size } = await storage.open("p", "b"));
  const recovered = await PagedWriter.open(blob, size, {
    cache: new PageCache({ pageSize, capacity: 8 }),
  });
  return { writer: recovered, synced: data.subarray(0, first) };
}

/** Every byte in `[0, size)` reads, and the synced ones are exact. */
async function checkReadable(writer: PagedWriter, synced: Uint8Array): Promise<void> {
  assert.ok(writer.size >= synced.length, `size ${writer.size} < ${synced.length} synced`);
  const all = await writer.readAt(0, writer.size);
  assert.deepEqual(all.subarray(0, synced.length), synced);
  const replay = await writer.replay();
  assert.equal(await replay.ensure(writer.size), true);
  assert.deepEqual(replay.copyToBytes(writer.size), all);
}

for (const backend of backends) {
  for (const pageSize of [64, 4084]) {
    const more = pageSize === 64 ? 300 : Math.round(pageSize * 4.7);
    test(
      `issue 20: ${backend.name}, page ${pageSize}: the rewrite of a synced partial page lost, later pages kept`,
      { timeout: 60_000 },
      async () => {
        const { storage, cleanup } = await backend.make();
        try {
          const { writer, synced } = await crashImage(storage, pageSize, 10, more, [0]);
          await checkReadable(writer, synced);
          assert.equal(writer.size, 10);
        } finally {
          await cleanup();
        }
      },
    );
    test(
      `issue 20: ${backend.name}, page ${pageSize}: a lost full page between kept ones`,
      { timeout: 60_000 },
      async () => {
        const { storage, cleanup } = await backend.make();
        try {
          const { writer, synced } = await crashImage(storage, pageSize, 10, more, [2]);
          await checkReadable(writer, synced);
          assert.equal(writer.size, 2 * pageSize);
        } finally {
          await cleanup();
        }
      },
    );
  }
}

test(
  "issue 20: a second unsynced rewrite of a synced partial page, torn at any byte, keeps the synced bytes",
  { timeout: 60_000 },
  async () => {
    const pageSize = 64;
    const physical = pageSize + 12;
    const data = pattern(30, 5);
    for (let tear = 0; tear <= physical; tear++) {
      const storage = new MemoryStorage();
      let { blob, size } = await storage.open("p", "b");
      const writer = await PagedWriter.open(blob, size, {
        cache: new PageCache({ pageSize, capacity: 4 }),
      });
      await writer.append(data.subarray(0, 10));
      await writer.sync();
      const synced = (await blob.readAt(0, physical)).bytes().slice();
      await writer.append(data.subarray(10, 20));
      await writer.snapshot(); // first rewrite, unsynced
      await writer.append(data.subarray(20, 30));
      await writer.snapshot(); // second rewrite, unsynced
      const latest = (await blob.readAt(0, physical)).bytes().slice();
      // The crash: the first rewrite lost, the second torn after `tear` bytes.
      const image = synced.slice();
      image.set(latest.subarray(0, tear));
      await blob.writeAt(0, image, { sync: true });
      await blob.close();
      ({ blob, size } = await storage.open("p", "b"));
      const recovered = await PagedWriter.open(blob, size, {
        cache: new PageCache({ pageSize, capacity: 4 }),
      });
      assert.ok(recovered.size >= 10, `tear at ${tear}: size ${recovered.size}`);
      assert.deepEqual(
        await recovered.readAt(0, recovered.size),
        data.subarray(0, recovered.size),
        `tear at ${tear}`,
      );
    }
  },
);

// ------------------------------------------ crash images beyond FaultyStorage's

/**
 * A blob that records the writes and resizes since the last sync, so a test
 * can build crash images FaultyStorage does not make: every unsynced byte
 * kept or lost on its own (a disk writing sectors of one write in any order).
 */
class SubsetBlob implements Blob {
  log: ({ offset: number; data: Uint8Array } | { length: number })[] = [];
  constructor(readonly inner: Blob) {}
  readAt(offset: number, length: number): Promise<IoBufsMut> {
    return this.inner.readAt(offset, length);
  }
  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    return this.inner.readAtBuf(offset, length, target);
  }
  async writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    const parts = data instanceof Uint8Array ? [data] : (data as Uint8Array[]);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    await this.inner.writeAt(offset, bytes, options);
    if (options?.sync) this.log = [];
    else this.log.push({ offset, data: bytes });
  }
  async resize(length: number): Promise<void> {
    await this.inner.resize(length);
    this.log.push({ length });
  }
  async sync(): Promise<void> {
    await this.inner.sync();
    this.log = [];
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Crashes `storage` and lands each unsynced byte (and resize) of `log` with probability 1/2. */
async function subsetCrash(storage: MemoryStorage, log: SubsetBlob["log"], rng: SeededRandom) {
  storage.crash();
  const { blob } = await storage.open(PARTITION, NAME);
  for (const op of log) {
    if (!("data" in op)) {
      if (rng.chance(0.5)) await blob.resize(op.length);
      continue;
    }
    // Runs of 1 to 8 bytes, each kept or not: later bytes kept, earlier ones lost.
    for (let i = 0; i < op.data.length;) {
      const n = Math.min(1 + rng.below(8), op.data.length - i);
      if (rng.chance(0.5)) await blob.writeAt(op.offset + i, op.data.subarray(i, i + n));
      i += n;
    }
  }
  await blob.sync();
  await blob.close();
}

async function runSubsetSeed(seed: number): Promise<void> {
  const rng = new SeededRandom(seed);
  const pageSize = 8 + rng.below(57);
  const inner = new MemoryStorage();
  const model: Model = {
    durable: new Uint8Array(0),
    current: [],
    shrunkTo: Infinity,
    candidates: [],
  };
  setWindowForTesting(rng.chance(0.5) ? undefined : 1 + rng.below(6));
  for (let round = 0, rounds = 1 + rng.below(3); round < rounds; round++) {
    const { blob, size } = await inner.open(PARTITION, NAME);
    const recorder = new SubsetBlob(blob);
    const writer = await PagedWriter.open(recorder, size, {
      cache: new PageCache({ pageSize, capacity: 1 + rng.below(8) }),
      bufferSize: 1 + rng.below(4 * pageSize),
    });
    if (writer.size !== model.current.length) fail(`round ${round} opened at ${writer.size}`);
    await runOps(writer, rng, model, pageSize);
    await subsetCrash(inner, recorder.log, rng);
    const recovered = await recoverAndCheck(inner, model, pageSize);
    model.current = Array.from(recovered);
    acknowledge(model, recovered);
  }
}

for (const seeds of chunks(seedsToRun(Math.ceil(SEQUENCES / 2), 1), CHUNK)) {
  test(
    `paged writer crash recovery, unsynced bytes kept in any subset: seeds ${seeds[0]}..${
      seeds[seeds.length - 1]
    }`,
    { timeout: 600_000 },
    async () => {
      for (const seed of seeds) {
        try {
          await runSubsetSeed(seed);
        } catch (err) {
          throw new Error(
            `seed ${seed} (BLOBRT_ONLY_SEED=${seed}): ${err instanceof Error ? err.stack : err}`,
          );
        } finally {
          setWindowForTesting();
        }
      }
    },
  );
}
