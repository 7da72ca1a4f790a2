/**
 * Crash recovery as a property: thousands of seeded random operation sequences
 * over `FaultyStorage(MemoryStorage)` with moderate fault rates, each crashed at
 * random points, checked against a reference model of what must survive.
 *
 * The properties:
 * - every byte acknowledged as durable (by a successful `sync()` or a successful
 *   `{ sync: true }` write, and not touched since by a write, resize or remove,
 *   successful or not) survives every crash exactly, and every reopen;
 * - blobs that were created exist after a crash, removed ones stay removed;
 * - reads return what the model knows, and fail past the end;
 * - every blob opens after a crash (or fails with an injected fault, retried);
 * - nothing throws anything but a `StorageError` whose code fits the call (or
 *   the `RangeError`/`PartitionNameInvalid` of deliberately bad calls), and
 *   every `Io` error is an injected one.
 *
 * The model knows each blob's bytes per index as a value or "unknown" (a failed
 * write may have kept any part of itself), and the live size as a range. It is
 * conservative: it never claims more than the storage contract promises.
 *
 * To copy this for your own format: keep the sequence generator and the crash
 * loop, replace the blob-level model with your format's invariants (say, "every
 * record acknowledged by a synced append is there after recovery").
 *
 * The second half runs the same crash model under a `BufferedWriter`: random
 * appends, overwrites, writes past the end, resizes, reads and syncs, each
 * sequence ending in a crash that keeps the unsynced writes in a random
 * subset (a later write kept while an earlier one is lost), torn at a random
 * byte, or none; every byte the last successful `sync()` acknowledged (and
 * that nothing touched since) must survive exactly.
 *
 * Seeds: `BLOBRT_SEEDS` (default 500 each), `BLOBRT_ONLY_SEED` replays one;
 * a failure names its seed.
 *
 * @module
 */

import { test } from "node:test";
import { type FaultyConfig, FaultyStorage, isInjectedFault } from "../drivers/faulty.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { SeededRandom } from "../core/random.ts";
import { StorageError, type StorageErrorCode } from "../core/errors.ts";
import { HEADER_SIZE } from "../core/header.ts";
import type { Blob } from "../core/types.ts";
import { BufferedWriter } from "../buffer/buffered_writer.ts";
import { chunks, seedsToRun } from "./seeds.ts";

/** Sequences run by default; `BLOBRT_SEEDS` sets another count. */
const SEQUENCES = 500;
/** Seeds per test; each test has an explicit timeout (never the runner's default). */
const CHUNK = 250;

const PARTITION = "prop";
const NAMES = ["a", "b", "c"];
const MAX = 1024; // every offset + length stays below this
const UNKNOWN = -1;

class Failure extends Error {
  override name = "PropertyFailure";
}

function fail(message: string): never {
  throw new Failure(message);
}

/** What the model knows of one blob. */
class BlobModel {
  exists = false;
  /** Per byte: the value guaranteed to survive a crash, or UNKNOWN. */
  durable = new Int16Array(MAX).fill(UNKNOWN);
  /** The open handle, if any (at most one per blob). */
  handle: Blob | undefined;
  /** Per byte: the value the handle reads, or UNKNOWN. Zero at and past `hi`. */
  live = new Int16Array(MAX);
  /** The handle's size is in [lo, hi]. */
  lo = 0;
  hi = 0;

  constructor(readonly name: string) {}

  /** A successful write (sync or not). */
  wrote(offset: number, data: Uint8Array, sync: boolean): void {
    const end = offset + data.length;
    for (let i = 0; i < data.length; i++) {
      this.live[offset + i] = data[i];
      this.durable[offset + i] = sync ? data[i] : UNKNOWN;
    }
    if (end >= this.hi) this.lo = this.hi = end;
    else this.lo = Math.max(this.lo, end);
  }

  /** A failed write: any part of it may have landed, none of it durably. */
  failedWrite(offset: number, length: number): void {
    const end = offset + length;
    for (let i = offset; i < end; i++) {
      this.live[i] = UNKNOWN;
      this.durable[i] = UNKNOWN;
    }
    this.hi = Math.max(this.hi, end);
  }

  resized(n: number): void {
    this.forgetDurableFrom(Math.min(n, this.lo));
    this.live.fill(0, n);
    this.lo = this.hi = n;
  }

  /** A failed resize: the size may be anything between the old one and `n`. */
  failedResize(n: number): void {
    const from = Math.min(this.lo, n);
    const to = Math.max(this.hi, n);
    this.forgetDurableFrom(from);
    this.live.fill(UNKNOWN, from, to);
    this.lo = from;
    this.hi = to;
  }

  synced(): void {
    for (let i = 0; i < MAX; i++) this.durable[i] = i < this.lo ? this.live[i] : UNKNOWN;
  }

  forgetDurableFrom(from: number): void {
    this.durable.fill(UNKNOWN, from);
  }

  /** A successful open: the handle starts from the durable image. */
  opened(blob: Blob, size: number): void {
    if (!this.exists && size !== 0) fail(`new blob ${this.name} opened with size ${size}`);
    this.checkDurableWithin(size, "open");
    this.exists = true;
    this.handle = blob;
    for (let i = 0; i < MAX; i++) this.live[i] = i < size ? this.durable[i] : 0;
    this.lo = this.hi = size;
  }

  checkDurableWithin(size: number, when: string): void {
    for (let i = size; i < MAX; i++) {
      if (this.durable[i] !== UNKNOWN) {
        fail(`${when}: blob ${this.name} has size ${size} but synced byte ${i} was acknowledged`);
      }
    }
  }

  /** Checks a successful read and learns from it. */
  read(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    if (end > this.hi) fail(`read of ${this.name} [${offset}, ${end}) past size ≤ ${this.hi}`);
    for (let i = 0; i < bytes.length; i++) {
      const known = this.live[offset + i];
      if (known === UNKNOWN) this.live[offset + i] = bytes[i];
      else if (known !== bytes[i]) {
        fail(`read of ${this.name}: byte ${offset + i} is ${bytes[i]}, expected ${known}`);
      }
    }
    this.lo = Math.max(this.lo, end);
  }

  /** Checks a read that found the end, and learns from it. */
  readPastEnd(offset: number, length: number): void {
    const end = offset + length;
    if (end <= this.lo) {
      fail(`read of ${this.name} [${offset}, ${end}) failed within size ≥ ${this.lo}`);
    }
    if (end - 1 < this.hi) {
      this.live.fill(0, end - 1, this.hi);
      this.hi = end - 1;
    }
  }

  removed(): void {
    this.exists = false;
    this.durable.fill(UNKNOWN);
    this.handle = undefined;
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: StorageErrorCode };

/** Runs a call: a StorageError of an allowed code (or an injected fault) is an outcome. */
async function attempt<T>(
  what: string,
  call: () => Promise<T>,
  allowed: readonly StorageErrorCode[] = [],
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    if (!(err instanceof StorageError)) {
      fail(`${what} threw a non-StorageError: ${err instanceof Error ? err.stack : err}`);
    }
    if (err.code === "Io" && !isInjectedFault(err)) fail(`${what}: Io error not injected: ${err}`);
    if (err.code !== "Io" && !allowed.includes(err.code)) {
      fail(`${what}: unexpected ${err.code}: ${err.message}`);
    }
    return { ok: false, code: err.code };
  }
}

/** Retries a call through injected faults (rates are < 1, so it ends). */
async function retry<T>(
  what: string,
  call: () => Promise<T>,
  allowed: readonly StorageErrorCode[] = [],
): Promise<Outcome<T>> {
  for (let i = 0; i < 200; i++) {
    const out = await attempt(what, call, allowed);
    if (out.ok || out.code !== "Io") return out;
  }
  fail(`${what}: 200 injected faults in a row`);
}

async function expectThrow(
  what: string,
  call: () => Promise<unknown>,
  check: (e: unknown) => boolean,
) {
  try {
    await call();
  } catch (err) {
    if (check(err)) return;
    fail(`${what}: wrong error ${err}`);
  }
  fail(`${what}: did not throw`);
}

function configFor(seed: number, rng: SeededRandom): FaultyConfig {
  const rate = () => rng.below(4) * 0.05; // 0, 0.05, 0.1 or 0.15
  return {
    seed,
    rates: {
      open: rate(),
      read: rate(),
      write: rate(),
      sync: rate(),
      resize: rate(),
      remove: rate(),
      scan: rate(),
    },
    partialWrites: (["none", "prefix", "subset"] as const)[rng.below(3)],
    partialResizes: rng.chance(0.5),
    retention: [0, 0.5, 1, rng.below(100) / 100][rng.below(4)],
    tearing: [0, 0.5, 1][rng.below(3)],
  };
}

const sameNames = (a: Uint8Array[], b: string[]): boolean =>
  a.length === b.length && a.every((n, i) => new TextDecoder().decode(n) === b[i]);

async function runSequence(seed: number): Promise<void> {
  const rng = new SeededRandom(-1 - seed); // the workload's draws, apart from the faults'
  const inner = new MemoryStorage();
  const storage = new FaultyStorage(inner, configFor(seed, rng));
  const blobs = NAMES.map((n) => new BlobModel(n));
  let partitionExists = false;
  let orphans: Blob[] = [];
  const existing = () => blobs.filter((b) => b.exists).map((b) => b.name).sort();
  const data = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.nextUint32() & 0xff;
    return out;
  };

  const rounds = 1 + rng.below(3);
  for (let round = 0; round < rounds; round++) {
    const steps = rng.below(40);
    for (let step = 0; step < steps; step++) {
      const m = blobs[rng.below(blobs.length)];
      const what = `round ${round} step ${step} on ${m.name}`;
      const dice = rng.below(100);
      const blob = m.handle;
      if (blob === undefined) {
        if (dice < 75) {
          const out = await attempt(`${what}: open`, () => storage.open(PARTITION, m.name));
          if (out.ok) {
            m.opened(out.value.blob, out.value.size);
            partitionExists = true;
          }
        } else if (dice < 85) {
          const out = await attempt(
            `${what}: remove`,
            () => storage.remove(PARTITION, m.name),
            ["BlobMissing", "PartitionMissing"],
          );
          if (out.ok && !m.exists) fail(`${what}: removed a blob that does not exist`);
          if (out.ok) m.removed();
          if (!out.ok && out.code === "BlobMissing" && (m.exists || !partitionExists)) {
            fail(`${what}: BlobMissing (exists ${m.exists}, partition ${partitionExists})`);
          }
          if (!out.ok && out.code === "PartitionMissing" && partitionExists) {
            fail(`${what}: PartitionMissing for an existing partition`);
          }
        } else if (dice < 95) {
          const out = await attempt(`${what}: scan`, () => storage.scan(PARTITION), [
            "PartitionMissing",
          ]);
          if (out.ok && !sameNames(out.value, existing())) {
            fail(`${what}: scan gave ${out.value.length} names, expected ${existing()}`);
          }
          if (!out.ok && out.code === "PartitionMissing" && partitionExists) {
            fail(`${what}: PartitionMissing for an existing partition`);
          }
        } else {
          const out = await attempt(`${what}: remove partition`, () => storage.remove(PARTITION), [
            "PartitionMissing",
          ]);
          if (out.ok !== partitionExists && (out.ok || out.code !== "Io")) {
            fail(
              `${what}: remove partition ${out.ok ? "ok" : out.code}, exists ${partitionExists}`,
            );
          }
          if (out.ok) {
            for (const b of blobs) {
              if (b.handle) orphans.push(b.handle);
              b.removed();
            }
            partitionExists = false;
          }
        }
        continue;
      }
      if (dice < 30) {
        const sync = dice < 10;
        const offset = rng.below(Math.min(MAX - 64, m.hi + 32));
        const bytes = data(1 + rng.below(48));
        const out = await attempt(`${what}: write`, () => blob.writeAt(offset, bytes, { sync }));
        if (out.ok) m.wrote(offset, bytes, sync);
        else m.failedWrite(offset, bytes.length);
      } else if (dice < 40) {
        const n = rng.below(Math.min(MAX - 64, m.hi + 64));
        const out = await attempt(`${what}: resize`, () => blob.resize(n));
        if (out.ok) m.resized(n);
        else m.failedResize(n);
      } else if (dice < 55) {
        const out = await attempt(`${what}: sync`, () => blob.sync());
        if (out.ok) m.synced();
      } else if (dice < 75) {
        const offset = rng.below(m.hi + 8);
        const length = 1 + rng.below(32);
        const out = await attempt(
          `${what}: read`,
          () =>
            rng.chance(0.5)
              ? blob.readAt(offset, length)
              : blob.readAtBuf(offset, length, new Uint8Array(length)),
          ["BlobInsufficientLength"],
        );
        if (out.ok) m.read(offset, out.value.bytes());
        else if (out.code === "BlobInsufficientLength") m.readPastEnd(offset, length);
      } else if (dice < 82) {
        await blob.close(); // closing drops what was not synced
        m.handle = undefined;
      } else if (dice < 88) {
        const out = await attempt(
          `${what}: remove open blob`,
          () => storage.remove(PARTITION, m.name),
        );
        if (out.ok) {
          orphans.push(blob);
          m.removed();
        }
      } else if (dice < 93 && orphans.length > 0) {
        // A handle on a removed blob keeps working, and never brings the blob back.
        const orphan = orphans[rng.below(orphans.length)];
        await attempt(`${what}: orphan write`, () => orphan.writeAt(0, data(4), { sync: true }));
        await attempt(`${what}: orphan sync`, () => orphan.sync());
      } else if (dice < 97) {
        const out = await attempt(`${what}: scan`, () => storage.scan(PARTITION));
        if (out.ok && !sameNames(out.value, existing())) {
          fail(`${what}: scan gave ${out.value.length} names, expected ${existing()}`);
        }
      } else {
        // Deliberately bad calls: rejected as by every driver, before any fault.
        await expectThrow(
          `${what}: bad offset`,
          () => blob.writeAt(-1, data(1)),
          (e) => e instanceof RangeError,
        );
        await expectThrow(
          `${what}: bad length`,
          () => blob.readAt(0, 0.5),
          (e) => e instanceof RangeError,
        );
        await expectThrow(
          `${what}: bad partition`,
          () => storage.open("bad/partition", m.name),
          (e) => e instanceof StorageError && e.code === "PartitionNameInvalid",
        );
      }
    }

    // Crash, then check what survived.
    await storage.crash();
    for (const b of blobs) {
      const old = b.handle;
      b.handle = undefined;
      if (old !== undefined) {
        const out = await attempt(`round ${round}: old handle`, () => old.readAt(0, 0), ["Closed"]);
        if (out.ok || out.code !== "Closed") fail(`round ${round}: a handle survived the crash`);
      }
    }
    orphans = [];
    const listed = await retry(`round ${round}: scan after crash`, () => storage.scan(PARTITION), [
      "PartitionMissing",
    ]);
    if (listed.ok !== partitionExists) fail(`round ${round}: partition exists: ${listed.ok}`);
    if (listed.ok && !sameNames(listed.value, existing())) {
      fail(
        `round ${round}: after crash, scan gave ${listed.value.length} names, expected ${existing()}`,
      );
    }
    for (const b of blobs) {
      if (!b.exists) {
        if (inner.readRaw(PARTITION, b.name) !== undefined) {
          fail(`round ${round}: removed blob ${b.name} came back`);
        }
        continue;
      }
      const what = `round ${round}: ${b.name} after crash`;
      const opened = await retry(`${what}: open`, () => storage.open(PARTITION, b.name));
      if (!opened.ok) fail(`${what}: open failed with ${opened.code}`);
      const { blob, size } = opened.value;
      b.checkDurableWithin(size, what);
      const raw = inner.readRaw(PARTITION, b.name);
      if (raw?.length !== size + HEADER_SIZE) {
        fail(`${what}: raw size ${raw?.length}, size ${size}`);
      }
      const read = await retry(`${what}: read`, () => blob.readAt(0, size));
      if (!read.ok) fail(`${what}: read failed with ${read.code}`);
      const bytes = read.value.bytes();
      for (let i = 0; i < size; i++) {
        if (b.durable[i] !== UNKNOWN && b.durable[i] !== bytes[i]) {
          fail(`${what}: synced byte ${i} is ${bytes[i]}, expected ${b.durable[i]}`);
        }
      }
      // After recovery, everything there is durable: start the next round from it.
      b.handle = blob;
      for (let i = 0; i < MAX; i++) b.live[i] = b.durable[i] = i < size ? bytes[i] : 0;
      b.durable.fill(UNKNOWN, size);
      b.lo = b.hi = size;
    }
  }
}

for (const seeds of chunks(seedsToRun(SEQUENCES), CHUNK)) {
  const name = `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
  test(
    `crash property over FaultyStorage(MemoryStorage): ${name}`,
    { timeout: 600_000 },
    async () => {
      for (const seed of seeds) {
        try {
          await runSequence(seed);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          throw new Error(
            `crash property failed for seed ${seed} (BLOBRT_ONLY_SEED=${seed} replays it): ${message}`,
            { cause: err },
          );
        }
      }
    },
  );
}

// ---------------------------------------------------------------- BufferedWriter

/** What must survive a crash of a `BufferedWriter`'s blob. */
interface WriterModel {
  /** What the writer reads. */
  live: number[];
  /** Per byte: the value the last successful sync acknowledged, or UNKNOWN. */
  durable: number[];
  /** The blob keeps at least this many bytes. */
  floor: number;
}

/** A write or resize was issued (it may land, torn, whatever its outcome). */
function touched(m: WriterModel, from: number, to: number): void {
  for (let i = from; i < Math.min(to, m.durable.length); i++) m.durable[i] = UNKNOWN;
}

/** One step; returns false when the writer failed (then the sequence crashes). */
async function writerStep(
  writer: BufferedWriter,
  m: WriterModel,
  rng: SeededRandom,
  capacity: number,
): Promise<boolean> {
  const dice = rng.below(100);
  const size = m.live.length;
  try {
    if (dice < 60) {
      const kind = rng.below(10);
      const offset = kind < 7 ? size : kind < 9 ? rng.below(size + 1) : size + rng.below(64);
      const data = new Uint8Array(1 + rng.below(3 * capacity));
      for (let i = 0; i < data.length; i++) data[i] = rng.nextUint32() & 0xff;
      touched(m, offset, offset + data.length);
      await writer.writeAt(offset, data);
      while (m.live.length < offset) m.live.push(0);
      for (let i = 0; i < data.length; i++) m.live[offset + i] = data[i]!;
    } else if (dice < 80) {
      await writer.sync();
      m.durable = m.live.slice();
      m.floor = m.live.length;
    } else if (dice < 88) {
      const n = rng.below(size + 2 * capacity);
      touched(m, n, Infinity);
      m.floor = Math.min(m.floor, n);
      await writer.resize(n);
      m.live.length = Math.min(m.live.length, n);
      while (m.live.length < n) m.live.push(0);
    } else if (size > 0) {
      const offset = rng.below(size);
      const length = 1 + rng.below(size - offset);
      const got = await writer.readAt(offset, length);
      for (let i = 0; i < length; i++) {
        if (got[i] !== m.live[offset + i]) fail(`read: byte ${offset + i} is ${got[i]}`);
      }
    }
    return true;
  } catch (err) {
    if (err instanceof Failure || !isInjectedFault(err)) throw err;
    return false;
  }
}

async function runWriterSequence(seed: number): Promise<void> {
  const rng = new SeededRandom(-1 - seed);
  const inner = new MemoryStorage();
  const storage = new FaultyStorage(inner, {
    seed,
    rates: { write: rng.below(3) * 0.03, sync: rng.below(3) * 0.03, read: rng.below(2) * 0.05 },
    partialWrites: (["none", "prefix", "subset"] as const)[rng.below(3)],
    partialResizes: rng.chance(0.5),
    retention: rng.chance(0.1) ? 0 : (1 + rng.below(4)) / 4,
    tearing: rng.below(3) / 2,
  });
  const m: WriterModel = { live: [], durable: [], floor: 0 };
  for (let round = 0, rounds = 1 + rng.below(3); round < rounds; round++) {
    const opened = await retry(`round ${round}: open`, () => storage.open(PARTITION, "w"));
    if (!opened.ok) fail(`round ${round}: open failed with ${opened.code}`);
    const { blob, size } = opened.value;
    if (size !== m.live.length) fail(`round ${round}: opened at ${size}, not ${m.live.length}`);
    const capacity = 1 + rng.below(64);
    const writer = new BufferedWriter(blob, size, { capacity });
    for (let step = 0, steps = rng.below(40); step < steps; step++) {
      if (!(await writerStep(writer, m, rng, capacity))) break;
    }
    await storage.crash();
    const raw = inner.readRaw(PARTITION, "w");
    const bytes = raw === undefined ? new Uint8Array(0) : raw.subarray(HEADER_SIZE);
    if (bytes.length < m.floor) {
      fail(`round ${round}: ${bytes.length} bytes after the crash, ${m.floor} synced`);
    }
    for (let i = 0; i < Math.min(bytes.length, m.durable.length); i++) {
      const d = m.durable[i]!;
      if (d !== UNKNOWN && bytes[i] !== d) {
        fail(`round ${round}: synced byte ${i} is ${bytes[i]}, not ${d}`);
      }
    }
    // The image is durable: the next round starts from it.
    m.live = Array.from(bytes);
    m.durable = m.live.slice();
    m.floor = m.live.length;
  }
}

for (const seeds of chunks(seedsToRun(SEQUENCES), CHUNK)) {
  const name = `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
  test(
    `BufferedWriter crash property, reordered and torn: ${name}`,
    { timeout: 600_000 },
    async () => {
      for (const seed of seeds) {
        try {
          await runWriterSequence(seed);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          throw new Error(
            `BufferedWriter crash property failed for seed ${seed} (BLOBRT_ONLY_SEED=${seed}): ${message}`,
            { cause: err },
          );
        }
      }
    },
  );
}
