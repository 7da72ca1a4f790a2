import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type FaultRates,
  type FaultyConfig,
  FaultyStorage,
  isInjectedFault,
} from "../drivers/faulty.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { SeededRandom } from "../core/random.ts";
import { StorageError } from "../core/errors.ts";
import { encodeHeader } from "../core/header.ts";
import { IoBuf } from "../core/buffers.ts";
import type { Blob, BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import { assertBytes, rejectsCode, runConformance } from "./conformance.ts";
import { thrown } from "./assert.ts";
import { enc, read } from "./util.ts";
import { toHex } from "../core/names.ts";
import { slow } from "./limits.ts";

runConformance("FaultyStorage(MemoryStorage), faults off", () => {
  const inner = new MemoryStorage();
  const storage = new FaultyStorage(inner, { seed: 1 });
  return {
    storage,
    writeRaw: (p, n, raw) => inner.writeRaw(p, n, raw),
    readRaw: (p, n) => inner.readRaw(p, n),
    crash: () => inner.crash(),
  };
}, { crash: true });

// The same, crashing through the wrapper, which records every operation
// (retention > 0) and replays some of them.
runConformance("FaultyStorage(MemoryStorage), faults off, replaying crash", () => {
  const inner = new MemoryStorage();
  const storage = new FaultyStorage(inner, { seed: 2, retention: 0.5, tearing: 0.5 });
  return {
    storage,
    writeRaw: (p, n, raw) => inner.writeRaw(p, n, raw),
    readRaw: (p, n) => inner.readRaw(p, n),
    crash: () => void storage.crash(),
  };
}, { crash: true });

const raw = (...bytes: Uint8Array[]): Uint8Array => new Uint8Array(bytes.flatMap((b) => [...b]));

function faulty(config: FaultyConfig): { inner: MemoryStorage; storage: FaultyStorage } {
  const inner = new MemoryStorage();
  return { inner, storage: new FaultyStorage(inner, config) };
}

/** The logical size a handle sees: the smallest `n` with `readAt(n, 1)` past the end. */
async function liveSize(blob: Blob): Promise<number> {
  let lo = 0;
  let hi = 1;
  while (await readable(blob, hi - 1)) hi *= 2;
  // readable(lo - 1) holds (or lo = 0); readable(hi - 1) does not.
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await readable(blob, mid - 1)) lo = mid;
    else hi = mid;
  }
  return (await readable(blob, lo - 1)) ? lo : 0;
}

async function readable(blob: Blob, index: number): Promise<boolean> {
  if (index < 0) return true;
  try {
    await blob.readAt(index, 1);
    return true;
  } catch (err) {
    if (err instanceof StorageError && err.code === "BlobInsufficientLength") return false;
    throw err;
  }
}

function assertInjected(err: unknown, partition: string, blob?: string): void {
  assert.ok(err instanceof StorageError, `not a StorageError: ${err}`);
  assert.equal(err.code, "Io");
  assert.equal(err.reason, "injected storage fault");
  assert.equal(err.message, "io error: injected storage fault");
  assert.equal(err.partition, partition);
  assert.equal(err.blob, blob);
  assert.ok(isInjectedFault(err));
}

async function settle(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (isInjectedFault(err)) return "fault";
    if (err instanceof StorageError) return err.code;
    throw err;
  }
}

/** A fixed workload touching every operation; returns each outcome and the final images. */
async function workload(config: FaultyConfig): Promise<string[]> {
  const { inner, storage } = faulty(config);
  const out: string[] = [];
  const names = ["a", "b", "c"];
  const handles: (Blob | undefined)[] = [];
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < names.length; i++) {
      let blob = handles[i];
      if (blob === undefined) {
        try {
          blob = handles[i] = (await storage.open("w", names[i])).blob;
          out.push("open ok");
        } catch (err) {
          out.push(`open ${await settle(Promise.reject(err))}`);
          continue;
        }
      }
      const data = new Uint8Array(17).map((_, j) => (round * 31 + i * 7 + j) & 0xff);
      out.push(`write ${await settle(blob.writeAt(round * 5, data, { sync: round % 3 === 0 }))}`);
      out.push(`read ${await settle(blob.readAt(0, 3))}`);
      if (round % 4 === 1) out.push(`resize ${await settle(blob.resize(round * 3))}`);
      if (round % 5 === 2) out.push(`sync ${await settle(blob.sync())}`);
      if (round % 7 === 6) {
        await blob.close();
        handles[i] = undefined;
        out.push(`remove ${await settle(storage.remove("w", names[i]))}`);
      }
    }
    out.push(`scan ${await settle(storage.scan("w"))}`);
  }
  for (const blob of handles) await blob?.sync().catch(() => {});
  for (const name of names) out.push(`${name}: ${inner.readRaw("w", name)?.join(",")}`);
  return out;
}

const ALL_HALF: FaultRates = {
  open: 0.2,
  read: 0.3,
  write: 0.3,
  sync: 0.3,
  resize: 0.3,
  remove: 0.3,
  scan: 0.3,
};

slow.test("FaultyStorage: the same seed gives the same faults and bytes; other seeds differ", async () => {
  for (const partialWrites of ["none", "prefix", "subset"] as const) {
    const config = { rates: ALL_HALF, partialWrites, partialResizes: true };
    const first = await workload({ seed: 7, ...config });
    assert.deepEqual(await workload({ seed: 7, ...config }), first);
    assert.ok(first.some((o) => o.endsWith(" fault")), "some faults");
    assert.ok(first.some((o) => o.endsWith(" ok")), "some successes");
    for (const seed of [8, -7, 2 ** 40 + 7]) {
      assert.notDeepEqual(await workload({ seed, ...config }), first, `seed ${seed}`);
    }
  }
});

test("FaultyStorage: the generator is sfc32 seeded by splitmix32, stable across runtimes", () => {
  // Pinned outputs: a change here changes every recorded fault sequence.
  const outputs = (seed: number): number[] => {
    const rng = new SeededRandom(seed);
    return Array.from({ length: 4 }, () => rng.nextUint32());
  };
  const zero = outputs(0);
  assert.deepEqual(zero, [3813170819, 3072932700, 3054392405, 3153749158]);
  assert.deepEqual(outputs(2 ** 40 + 7), [635335762, 4249336273, 2062045674, 1006639209]);
  assert.notDeepEqual(outputs(1), zero);
  assert.notDeepEqual(outputs(2 ** 32), zero, "high bits matter");
  assert.notDeepEqual(outputs(-1), outputs(2 ** 32 - 1), "sign matters");
  for (const n of [...zero, ...outputs(123456789)]) {
    assert.ok(Number.isInteger(n) && n >= 0 && n < 2 ** 32);
  }
  const rng = new SeededRandom(99);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(rng.below(10));
  assert.equal(seen.size, 10);
  for (let i = 0; i < 200; i++) {
    const big = rng.below(2 ** 50);
    assert.ok(Number.isSafeInteger(big) && big >= 0 && big < 2 ** 50);
  }
  assert.throws(() => new SeededRandom(1.5), RangeError);
  assert.throws(() => new SeededRandom("1" as unknown as number), TypeError);
  assert.throws(() => rng.below(0), RangeError);
  for (const p of [-0.5, 1.5, NaN]) assert.throws(() => rng.chance(p), RangeError);
  assert.throws(() => rng.below(2 ** 53), RangeError);
});

type OpName = keyof FaultRates;
const OPS: OpName[] = ["open", "read", "write", "sync", "resize", "remove", "scan"];

/** Runs one operation of kind `op` on a prepared blob "b" in partition "p". */
async function runOp(op: OpName, storage: FaultyStorage, blob: Blob, i: number): Promise<void> {
  switch (op) {
    case "open":
      await (await storage.open("p", `o${i}`)).blob.close();
      return;
    case "read":
      if (i % 2 === 0) await blob.readAt(0, 4);
      else await blob.readAtBuf(0, 4, new Uint8Array(4));
      return;
    case "write":
      await blob.writeAt(i % 8, enc("wxyz"), { sync: i % 3 === 0 });
      return;
    case "sync":
      await blob.sync();
      return;
    case "resize":
      await blob.resize(4 + (i % 9));
      return;
    case "remove":
      await (await storage.open("p", `r${i}`)).blob.close();
      await storage.remove("p", `r${i}`);
      return;
    case "scan":
      await storage.scan("p");
      return;
  }
}

test("FaultyStorage: a rate of 0 never fails, a rate of 1 always fails", async () => {
  for (const op of OPS) {
    // Every other rate is high; this one is 0 (and so is open, to set up).
    const rates: FaultRates = { ...ALL_HALF, open: 0, [op]: 0 };
    if (op === "write") rates.sync = 0; // a sync write also draws the sync rate
    const never = prepared({ seed: 3, rates });
    const { blob: nb } = await never.storage.open("p", "b");
    for (let i = 0; i < 60; i++) await runOp(op, never.storage, nb, i);

    const always = prepared({ seed: 3, rates: { [op]: 1 } });
    if (op === "open") {
      for (let i = 0; i < 20; i++) {
        assertInjected(
          await rejectsCode(always.storage.open("p", `o${i}`), "Io"),
          "p",
          hex(`o${i}`),
        );
      }
      assert.equal(always.inner.readRaw("p", "o0"), undefined, "a failed open creates nothing");
      continue;
    }
    const { blob: ab } = await always.storage.open("p", "b");
    if (op === "remove") {
      for (let i = 0; i < 20; i++) {
        assertInjected(await rejectsCode(always.storage.remove("p", "b"), "Io"), "p", "62");
        assertInjected(await rejectsCode(always.storage.remove("p"), "Io"), "p", undefined);
      }
      assert.ok(always.inner.readRaw("p", "b"), "a failed remove removes nothing");
      continue;
    }
    if (op === "scan") {
      for (let i = 0; i < 20; i++) {
        assertInjected(await rejectsCode(always.storage.scan("p"), "Io"), "p", undefined);
      }
      continue;
    }
    for (let i = 0; i < 20; i++) {
      let err: unknown;
      try {
        await runOp(op, always.storage, ab, i);
      } catch (e) {
        err = e;
      }
      assertInjected(err, "p", "62");
    }
    assertBytes(always.inner.readRaw("p", "b")!, raw(encodeHeader(0), BASE), `${op} kept nothing`);
    if (op !== "read") assertBytes(await read(ab, 0, 16), BASE, `${op} changed nothing live`);
  }
});

const BASE = enc("0123456789abcdef");

/** A wrapped memory storage whose blob "p"/"b" holds {@linkcode BASE}, durably. */
function prepared(config: FaultyConfig): { inner: MemoryStorage; storage: FaultyStorage } {
  const inner = new MemoryStorage();
  inner.writeRaw("p", "b", raw(encodeHeader(0), BASE));
  return { inner, storage: new FaultyStorage(inner, config) };
}

const hex = (s: string): string => toHex(enc(s));

test("FaultyStorage: rates of 0 and 1 draw no randomness", async () => {
  const writes = async (interleave: boolean): Promise<string[]> => {
    const rates: FaultRates = interleave
      ? { write: 0.5, read: 1, scan: 1, sync: 0, resize: 1, open: 0, remove: 0 }
      : { write: 0.5 };
    const { storage } = faulty({ seed: 11, rates, retention: 1, tearing: 0 });
    const { blob } = await storage.open("p", "b");
    const out: string[] = [];
    for (let i = 0; i < 200; i++) {
      out.push(await settle(blob.writeAt(i, new Uint8Array([i & 0xff]))));
      if (interleave) {
        assert.equal(await settle(blob.readAt(0, 1)), "fault");
        assert.equal(await settle(storage.scan("p")), "fault");
        assert.equal(await settle(blob.resize(300)), "fault");
        await blob.sync();
        await (await storage.open("p", `x${i}`)).blob.close();
        await storage.remove("p", `x${i}`);
      }
    }
    return out;
  };
  const plain = await writes(false);
  assert.ok(plain.includes("ok") && plain.includes("fault"));
  assert.deepEqual(await writes(true), plain);
});

test("FaultyStorage: bad arguments and Closed throw as usual and draw nothing", async () => {
  const run = async (bad: boolean): Promise<string[]> => {
    const { storage } = faulty({ seed: 5, rates: { ...ALL_HALF, open: 0 } });
    const { blob } = await storage.open("p", "b");
    const closed = (await storage.open("p", "c")).blob;
    await closed.close();
    const out: string[] = [];
    for (let i = 0; i < 100; i++) {
      if (bad) {
        await assert.rejects(blob.writeAt(-1, enc("x")), RangeError);
        await assert.rejects(blob.readAt(0, 1.5), RangeError);
        await assert.rejects(blob.readAtBuf(0, 4, new Uint8Array(2)), RangeError);
        await assert.rejects(blob.resize("3" as unknown as number), TypeError);
        await assert.rejects(blob.writeAt(0, "text" as unknown as Uint8Array), TypeError);
        await rejectsCode(blob.writeAt(Number.MAX_SAFE_INTEGER - 8, enc("x")), "OffsetOverflow");
        await rejectsCode(closed.writeAt(0, enc("x")), "Closed");
        await rejectsCode(closed.readAt(0, 1), "Closed");
        await rejectsCode(closed.sync(), "Closed");
        await rejectsCode(closed.resize(1), "Closed");
        await rejectsCode(storage.open("bad/name", "b"), "PartitionNameInvalid");
        await rejectsCode(storage.scan(""), "PartitionNameInvalid");
        await rejectsCode(storage.remove("a.b"), "PartitionNameInvalid");
        await assert.rejects(storage.open("p", ""), RangeError);
        await assert.rejects(storage.remove("p", ""), RangeError);
        await assert.rejects(storage.open("p", "b", { versions: { min: 2, max: 1 } }), RangeError);
      }
      out.push(await settle(blob.writeAt(i, enc("ab"))));
      out.push(await settle(blob.readAt(0, 1)));
      out.push(await settle(blob.sync()));
      out.push(await settle(storage.scan("p")));
    }
    return out;
  };
  assert.deepEqual(await run(true), await run(false));
  // With every rate at 1, argument errors still win over injected faults.
  const { storage } = faulty({
    seed: 1,
    rates: { read: 1, write: 1, sync: 1, resize: 1, remove: 1, scan: 1 },
  });
  const { blob } = await storage.open("p", "b");
  await assert.rejects(blob.writeAt(-1, enc("x")), RangeError);
  await assert.rejects(blob.readAt(NaN, 1), RangeError);
  await assert.rejects(blob.resize(-2), RangeError);
  await rejectsCode(storage.scan("bad/p"), "PartitionNameInvalid");
  await blob.close();
  await rejectsCode(blob.sync(), "Closed");
  await rejectsCode(blob.readAtBuf(0, 2, new Uint8Array(1)), "Closed");
});

const OLD = 0xaa;

test("FaultyStorage: a failed write with prefix keeps a strict prefix, the rest unchanged", async () => {
  const lengths = new Set<number>();
  for (let seed = 0; seed < 60; seed++) {
    const inner = new MemoryStorage();
    inner.writeRaw("p", "b", raw(encodeHeader(0), new Uint8Array(20).fill(OLD)));
    const storage = new FaultyStorage(inner, {
      seed,
      rates: { write: 1 },
      partialWrites: "prefix",
    });
    const { blob: b2, size } = await storage.open("p", "b");
    assert.equal(size, 20);
    const offset = seed % 12;
    const data = [enc("ABCDEFG"), new Uint8Array(0), enc("HIJKLMNOP")]; // 16 bytes, 3 chunks
    const flat = raw(...data);
    assertInjected(await rejectsCode(b2.writeAt(offset, data), "Io"), "p", "62");
    const now = await liveSize(b2);
    const bytes = await read(b2, 0, now);
    let k = 0;
    while (k < flat.length && offset + k < bytes.length && bytes[offset + k] === flat[k]) k++;
    assert.ok(k < flat.length, "a strict prefix");
    lengths.add(k);
    assert.equal(now, Math.max(20, offset + k), "size");
    for (let i = 0; i < now; i++) {
      if (i >= offset && i < offset + k) continue;
      assert.equal(bytes[i], OLD, `byte ${i} unchanged`);
    }
    await b2.close();
  }
  assert.ok(lengths.size > 5, `prefix lengths vary: ${[...lengths]}`);
  assert.ok(lengths.has(0));
});

test("FaultyStorage: a failed write with subset keeps some bytes, each as written", async () => {
  let keptTotal = 0;
  let droppedTotal = 0;
  for (let seed = 0; seed < 40; seed++) {
    const inner = new MemoryStorage();
    inner.writeRaw("p", "b", raw(encodeHeader(0), new Uint8Array(40).fill(OLD)));
    const storage = new FaultyStorage(inner, {
      seed,
      rates: { write: 1 },
      partialWrites: "subset",
    });
    const { blob } = await storage.open("p", "b");
    const offset = 10 + (seed % 40); // overlaps the end for some seeds
    const data = new Uint8Array(64).map((_, i) => i + 1); // never OLD, never 0
    assertInjected(await rejectsCode(blob.writeAt(offset, new IoBuf(data)), "Io"), "p", "62");
    const now = await liveSize(blob);
    const bytes = await read(blob, 0, now);
    let lastKept = -1;
    for (let i = 0; i < 64; i++) {
      const at = offset + i;
      if (at < bytes.length && bytes[at] === data[i]) {
        keptTotal++;
        lastKept = at;
      } else {
        droppedTotal++;
        if (at < 40) assert.equal(bytes[at], OLD, `byte ${at} unchanged`);
        else if (at < bytes.length) assert.equal(bytes[at], 0, `gap byte ${at} is zero`);
      }
    }
    for (let i = 0; i < offset && i < now; i++) assert.equal(bytes[i], i < 40 ? OLD : 0);
    assert.equal(now, Math.max(40, lastKept + 1), "size follows the last kept byte");
    await blob.close();
  }
  assert.ok(keptTotal > 500 && droppedTotal > 500, `${keptTotal} kept, ${droppedTotal} dropped`);
});

test("FaultyStorage: a failed write with partialWrites none keeps nothing", async () => {
  const { inner, storage } = faulty({ seed: 4, rates: { write: 1 } });
  const { blob } = await storage.open("p", "b");
  for (let i = 0; i < 20; i++) {
    assertInjected(await rejectsCode(blob.writeAt(i, enc("data")), "Io"), "p", "62");
  }
  await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
  await blob.sync();
  assertBytes(inner.readRaw("p", "b")!, encodeHeader(0));
});

test("FaultyStorage: a failed partial resize stops strictly between old and target", async () => {
  for (const [from, to] of [[10, 100], [100, 10], [0, 1000], [1000, 0], [5, 7], [7, 5]]) {
    const seen = new Set<number>();
    for (let seed = 0; seed < 25; seed++) {
      const inner = new MemoryStorage();
      inner.writeRaw("p", "b", raw(encodeHeader(0), new Uint8Array(from).fill(OLD)));
      const storage = new FaultyStorage(inner, {
        seed,
        rates: { resize: 1 },
        partialResizes: true,
      });
      const { blob, size } = await storage.open("p", "b");
      assert.equal(size, from);
      assertInjected(await rejectsCode(blob.resize(to), "Io"), "p", "62");
      await blob.sync();
      const now = inner.readRaw("p", "b")!.length - 8;
      assert.ok(now > Math.min(from, to) && now < Math.max(from, to), `${from}→${to}: ${now}`);
      seen.add(now);
      const bytes = await read(blob, 0, now);
      for (let i = 0; i < now; i++) assert.equal(bytes[i], i < from ? OLD : 0);
      await blob.close();
    }
    if (Math.abs(to - from) > 20) assert.ok(seen.size > 5, `${from}→${to} varies`);
  }
  // No size strictly between: nothing happens. Without partialResizes: nothing either.
  for (
    const [from, to, partialResizes] of [[10, 11, true], [11, 10, true], [10, 10, true], [
      10,
      100,
      false,
    ]] as const
  ) {
    const inner = new MemoryStorage();
    inner.writeRaw("p", "b", raw(encodeHeader(0), new Uint8Array(from)));
    const storage = new FaultyStorage(inner, { seed: 1, rates: { resize: 1 }, partialResizes });
    const { blob } = await storage.open("p", "b");
    await rejectsCode(blob.resize(to), "Io");
    assert.equal(await liveSize(blob), from);
    await blob.close();
  }
});

test("FaultyStorage: partial resizes track the size through writes and resizes", async () => {
  const inner = new MemoryStorage();
  const storage = new FaultyStorage(inner, {
    seed: 2,
    rates: { resize: 0.5 },
    partialResizes: true,
  });
  const { blob } = await storage.open("p", "b");
  let size = 0;
  for (let i = 0; i < 200; i++) {
    if (i % 3 === 0) {
      await blob.writeAt(i, enc("xyz"));
      size = Math.max(size, i + 3);
    } else {
      const target = (i * 37) % 300;
      const outcome = await settle(blob.resize(target));
      const now = await liveSize(blob);
      if (outcome === "ok") assert.equal(now, target);
      else {
        assert.equal(outcome, "fault");
        if (Math.abs(target - size) >= 2) {
          assert.ok(now > Math.min(size, target) && now < Math.max(size, target), `${i}`);
        } else assert.equal(now, size);
      }
      size = now;
    }
  }
});

test("FaultyStorage: a sync write whose sync fails is written but not durable", async () => {
  const { inner, storage } = faulty({ seed: 1, rates: { sync: 1 } });
  const { blob } = await storage.open("p", "b");
  assertInjected(await rejectsCode(blob.writeAt(0, enc("hello"), { sync: true }), "Io"), "p", "62");
  assertBytes(await read(blob, 0, 5), enc("hello"), "written");
  assertBytes(inner.readRaw("p", "b")!, encodeHeader(0), "not durable");
  assertInjected(await rejectsCode(blob.sync(), "Io"), "p", "62");
  assertBytes(inner.readRaw("p", "b")!, encodeHeader(0), "a failed sync syncs nothing");
  await storage.crash();
  const again = await storage.open("p", "b");
  assert.equal(again.size, 0, "gone after a crash with retention 0");
  await again.blob.close();
});

test("FaultyStorage: what a failed sync did not make durable can still come back", async () => {
  const { inner, storage } = faulty({ seed: 1, rates: { sync: 1 }, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("abc"));
  await rejectsCode(blob.sync(), "Io");
  await rejectsCode(blob.writeAt(3, enc("de"), { sync: true }), "Io");
  await storage.crash();
  assertBytes(inner.readRaw("p", "b")!, raw(encodeHeader(0), enc("abcde")));
});

test("FaultyStorage: a write rate applies to sync writes before the sync rate", async () => {
  const { inner, storage } = faulty({ seed: 1, rates: { write: 1, sync: 0 } });
  const { blob } = await storage.open("p", "b");
  await rejectsCode(blob.writeAt(0, enc("x"), { sync: true }), "Io");
  await rejectsCode(blob.readAt(0, 1), "BlobInsufficientLength");
  const ok = faulty({ seed: 1, rates: { write: 0, sync: 0.999999 } });
  const { blob: b2 } = await ok.storage.open("p", "b");
  await rejectsCode(b2.writeAt(0, enc("x"), { sync: true }), "Io");
  assertBytes(await read(b2, 0, 1), enc("x"));
  assert.equal(inner.readRaw("p", "b")!.length, 8);
});

test("FaultyStorage: crash replay keeps unsynced operations in issue order", async () => {
  const { inner, storage } = faulty({ seed: 3, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("synced"));
  await blob.sync();
  await blob.writeAt(0, enc("AAAA"));
  await blob.writeAt(2, enc("BBBB"));
  await blob.writeAt(10, enc("tail"));
  await blob.resize(12);
  await blob.writeAt(1, enc("c"));
  const other = (await storage.open("p", "other")).blob;
  await other.writeAt(0, enc("o1"));
  await blob.writeAt(1, enc("d"));
  await other.writeAt(1, enc("2"));
  const replay = storage.crash();
  assert.ok(replay instanceof Promise);
  await rejectsCode(blob.readAt(0, 1), "Closed");
  await replay;
  assertBytes(
    inner.readRaw("p", "b")!,
    raw(encodeHeader(0), enc("AdBBBB"), new Uint8Array(4), enc("ta")),
    "later writes win",
  );
  assertBytes(inner.readRaw("p", "other")!, raw(encodeHeader(0), enc("o2")));
});

test("FaultyStorage: crash with retention 0 keeps exactly what was synced", async () => {
  const { inner, storage } = faulty({ seed: 3, retention: 0 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("durable"));
  await blob.sync();
  await blob.writeAt(0, enc("XXXXXXXXXX"));
  await blob.writeAt(20, enc("s"), { sync: true });
  await blob.resize(2);
  await storage.crash();
  assertBytes(
    inner.readRaw("p", "b")!,
    raw(encodeHeader(0), enc("durable"), new Uint8Array(13), enc("s")),
  );
});

test("FaultyStorage: a sync write keeps its place in the replay order", async () => {
  const { inner, storage } = faulty({ seed: 3, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("aaaaaa"));
  await blob.writeAt(2, enc("SS"), { sync: true });
  await blob.writeAt(3, enc("z"));
  await storage.crash();
  assertBytes(inner.readRaw("p", "b")!, raw(encodeHeader(0), enc("aaSzaa")));
});

test("FaultyStorage: torn replays keep a strict prefix of a write", async () => {
  const kept = new Set<number>();
  for (let seed = 0; seed < 40; seed++) {
    const { inner, storage } = faulty({ seed, retention: 1, tearing: 1 });
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("0123456789"), { sync: true });
    await blob.writeAt(2, enc("ABCDEFGHIJKL"));
    await storage.crash();
    const image = inner.readRaw("p", "b")!.subarray(8);
    const expected = enc("0123456789");
    let k = 0;
    while (k < 12 && image[2 + k] === enc("ABCDEFGHIJKL")[k]) k++;
    assert.ok(k < 12);
    kept.add(k);
    const full = new Uint8Array(Math.max(10, 2 + k));
    full.set(expected);
    full.set(enc("ABCDEFGHIJKL").subarray(0, k), 2);
    assertBytes(image, full, `seed ${seed}`);
  }
  assert.ok(kept.size > 5 && kept.has(0));
});

slow.test("FaultyStorage: synced data always survives a crash", async () => {
  for (let seed = 0; seed < 100; seed++) {
    const rng = new SeededRandom(seed + 1000);
    const { inner, storage } = faulty({
      seed,
      rates: { write: 0.3, sync: 0.3, resize: 0.3 },
      partialWrites: "subset",
      partialResizes: true,
      retention: 0.5,
      tearing: 0.5,
    });
    const { blob } = await storage.open("p", "b");
    // Synced region: bytes 0..32, written with sync writes until each one succeeds.
    const synced = new Uint8Array(32).map((_, i) => (seed + i * 3) & 0xff);
    for (let at = 0; at < 32; at += 8) {
      while (
        (await settle(blob.writeAt(at, synced.subarray(at, at + 8), { sync: true }))) !== "ok"
      );
    }
    // Unsynced churn past the synced region, some of it failing.
    for (let i = 0; i < 20; i++) {
      const at = 32 + rng.below(64);
      await settle(blob.writeAt(at, new Uint8Array(1 + rng.below(16)).fill(i)));
      if (rng.chance(0.2)) await settle(blob.resize(32 + rng.below(100)));
      if (rng.chance(0.1)) await settle(blob.sync());
    }
    await storage.crash();
    const image = inner.readRaw("p", "b")!;
    assert.ok(image.length >= 40, `seed ${seed}`);
    assertBytes(image.subarray(8, 40), synced, `seed ${seed}`);
  }
});

test("FaultyStorage: crash closes every handle and rejects storage calls made before it", async () => {
  const { storage } = faulty({ seed: 1, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("abc"));
  const early = storage.open("p", "c");
  const earlyScan = storage.scan("p");
  const done = storage.crash();
  await rejectsCode(early, "Closed");
  await rejectsCode(earlyScan, "Closed");
  for (
    const call of [
      () => blob.readAt(0, 1),
      () => blob.readAtBuf(0, 1, new Uint8Array(1)),
      () => blob.writeAt(0, enc("x")),
      () => blob.resize(0),
      () => blob.sync(),
    ]
  ) await rejectsCode(call(), "Closed");
  await blob.close();
  // Calls made after the crash wait for the replay.
  const after = await storage.open("p", "b");
  assert.equal(after.size, 3);
  await done;
  await after.blob.close();
  assert.deepEqual(await storage.scan("p"), [enc("b")]);
});

test("FaultyStorage: a removed blob never comes back at a crash", async () => {
  const { inner, storage } = faulty({ seed: 1, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("unsynced"));
  const gone = (await storage.open("p2", "x")).blob;
  await gone.writeAt(0, enc("also unsynced"));
  await storage.remove("p", "b");
  await storage.remove("p2");
  // Read-after-remove: the handle keeps working on the nameless file.
  assertBytes(await read(blob, 0, 8), enc("unsynced"));
  await blob.writeAt(8, enc("!"), { sync: true });
  await blob.writeAt(9, enc("?"));
  await storage.crash();
  assert.deepEqual(await storage.scan("p"), []);
  await rejectsCode(storage.scan("p2"), "PartitionMissing");
  assert.equal(inner.readRaw("p", "b"), undefined);
  // A new blob of the same name is independent of the old one.
  const fresh = await storage.open("p", "b");
  assert.equal(fresh.size, 0);
  await fresh.blob.writeAt(0, enc("new"));
  await storage.crash();
  assertBytes(inner.readRaw("p", "b")!, raw(encodeHeader(0), enc("new")));
});

test("FaultyStorage: close forgets unsynced operations, as the inner storage does", async () => {
  const { inner, storage } = faulty({ seed: 1, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("sync"), { sync: true });
  await blob.writeAt(4, enc("lost"));
  await blob.close();
  await storage.crash();
  assertBytes(inner.readRaw("p", "b")!, raw(encodeHeader(0), enc("sync")));
});

test("FaultyStorage: crash replay keeps the blob version", async () => {
  const { storage } = faulty({ seed: 1, retention: 1 });
  const versions = { min: 3, max: 3 };
  const { blob } = await storage.open("p", "b", { versions });
  await blob.writeAt(0, enc("v3"));
  await storage.crash();
  const again = await storage.open("p", "b", { versions });
  assert.equal(again.version, 3);
  assertBytes(await read(again.blob, 0, 2), enc("v3"));
  await again.blob.close();
});

test("FaultyStorage: retention draws are seeded", async () => {
  const run = async (seed: number): Promise<string> => {
    const { inner, storage } = faulty({ seed, retention: 0.5, tearing: 0.3 });
    const { blob } = await storage.open("p", "b");
    for (let i = 0; i < 40; i++) await blob.writeAt(i * 2, new Uint8Array([i + 1, i + 1]));
    await storage.crash();
    return inner.readRaw("p", "b")!.join(",");
  };
  assert.equal(await run(21), await run(21));
  assert.notEqual(await run(21), await run(22));
});

test("FaultyStorage: wraps any Storage; crash needs a crash() method", async () => {
  const inner = new MemoryStorage();
  const calls: string[] = [];
  // A Storage written before `close()` existed: wrappers still take it at run time.
  const plain = {
    open: (p: string, n: BlobName, o?: OpenOptions): Promise<OpenedBlob> => {
      calls.push("open");
      return inner.open(p, n, o);
    },
    remove: (p: string, n?: BlobName) => {
      calls.push("remove");
      return inner.remove(p, n);
    },
    scan: (p: string) => {
      calls.push("scan");
      return inner.scan(p);
    },
  } as Storage;
  const storage = new FaultyStorage(plain, { seed: 1, retention: 1 });
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("x"));
  assert.deepEqual(await storage.scan("p"), [enc("b")]);
  await storage.remove("p", "b");
  assert.deepEqual(calls, ["open", "scan", "remove"]);
  assert.throws(() => storage.crash(), TypeError);
  await blob.close();
  await storage.close(); // the inner one has no close(): nothing more to do
  await assert.rejects(storage.scan("p"), { code: "Closed" });
  assert.throws(() => new FaultyStorage({} as Storage, { seed: 1 }), TypeError);
  assert.throws(() => new FaultyStorage(null as unknown as Storage, { seed: 1 }), TypeError);
});

test("FaultyStorage: an inner that is not a Storage throws TypeError before the config is read", () => {
  assert.throws(() => new FaultyStorage({} as never, { seed: 1 }), TypeError);
  const err = thrown(() => new FaultyStorage({} as never, { seed: 1.5 }));
  assert.ok(err instanceof TypeError);
  assert.match(err.message, /FaultyStorage wraps a Storage/);
});

test("FaultyStorage: blobs dispose with await using", async () => {
  const { storage } = faulty({ seed: 1 });
  let kept: Blob;
  {
    await using opened = await storage.open("p", "b");
    kept = opened.blob;
    await opened.blob.writeAt(0, enc("x"));
  }
  await rejectsCode(kept.sync(), "Closed");
  {
    const { blob } = await storage.open("p", "b");
    await using handle = blob;
    kept = handle;
  }
  await rejectsCode(kept.readAt(0, 0), "Closed");
});

test("FaultyStorage: config validation", () => {
  const inner = new MemoryStorage();
  const make = (config: unknown) => () => new FaultyStorage(inner, config as FaultyConfig);
  const typeErrors: unknown[] = [
    undefined,
    null,
    5,
    [],
    {},
    { seed: "1" },
    { seed: 1n },
    { seed: 1, rates: 0.5 },
    { seed: 1, rates: null },
    { seed: 1, rates: [] },
    { seed: 1, rates: { write: "0.5" } },
    { seed: 1, rates: { write: null } },
    { seed: 1, rates: { writes: 0.5 } },
    { seed: 1, rate: { write: 0.5 } },
    { seed: 1, partialWrites: true },
    { seed: 1, partialResizes: "yes" },
    { seed: 1, partialResizes: 1 },
    { seed: 1, retention: "1" },
    { seed: 1, tearing: null },
  ];
  for (const config of typeErrors) {
    assert.throws(make(config), TypeError, JSON.stringify(config, (_, v) => String(v)));
  }
  const rangeErrors: unknown[] = [
    { seed: 1.5 },
    { seed: NaN },
    { seed: Infinity },
    { seed: 2 ** 53 },
    ...["open", "read", "write", "sync", "resize", "remove", "scan"].flatMap((k) => [
      { seed: 1, rates: { [k]: -0.1 } },
      { seed: 1, rates: { [k]: 1.01 } },
      { seed: 1, rates: { [k]: NaN } },
      { seed: 1, rates: { [k]: Infinity } },
    ]),
    { seed: 1, partialWrites: "suffix" },
    { seed: 1, partialWrites: "" },
    { seed: 1, retention: 2 },
    { seed: 1, retention: -1 },
    { seed: 1, tearing: NaN },
  ];
  for (const config of rangeErrors) {
    assert.throws(make(config), RangeError, JSON.stringify(config, (_, v) => String(v)));
  }
  for (
    const config of [
      { seed: 0 },
      { seed: -5 },
      { seed: Number.MAX_SAFE_INTEGER },
      { seed: 1, rates: {} },
      { seed: 1, rates: { open: 0, read: 1, write: 0.5, sync: 0, resize: 1, remove: 0, scan: 0 } },
      { seed: 1, rates: { write: undefined } },
      { seed: 1, partialWrites: "none", partialResizes: false, retention: 0, tearing: 0 },
      { seed: 1, partialWrites: "prefix", partialResizes: true, retention: 1, tearing: 1 },
      { seed: 1, partialWrites: "subset" },
    ]
  ) make(config)();
  const err = thrown(make({ seed: 1, rates: { sync: 3 } }));
  assert.ok(err instanceof RangeError);
  assert.match(err.message, /rates\.sync/);
});
