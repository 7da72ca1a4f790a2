/**
 * The I/O-model part of the shared conformance suite (SPEC §5 "Event loop",
 * "The disk's parallelism", "Concurrency"), registered by `runConformance`
 * for every driver and wrapper: awaited loops let timers run, concurrent
 * reads and writes of one range never mix, `sync` covers earlier writes and
 * `close` waits for what is in flight. Filesystem fixtures also run it with
 * every read sent to worker threads (`tests/cold_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Storage } from "../core/types.ts";
import { assertBytes } from "./assert.ts";
import { pattern, read } from "./util.ts";
import { spendTurn } from "../core/_turn.ts";

type It = (
  title: string,
  body: (f: { storage: Storage }) => Promise<void>,
  skip?: string | false,
  timeout?: number,
) => void;

/** The limit of tests that move megabytes: the slowest fixture (3-byte port calls), a busy machine. */
const LONG = 120_000;

const MIB = 1 << 20;

/** The chunks, one after another. */
function concatAll(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Spends the event-loop budget every driver shares (`core/_turn.ts`), as a
 * busy program does: the calls made next wait for the loop to turn before
 * they do anything.
 */
function spendBudget(): void {
  spendTurn(1 << 20); // starts the clock if a turn just happened
  const until = performance.now() + 10;
  while (performance.now() < until) { /* synchronous work */ }
  assert.ok(spendTurn(1 << 20) !== undefined, "the budget is spent");
}

/** Resolves on the next macrotask. */
const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Registers the I/O-model tests through `it`. */
export function ioConformance(it: It): void {
  it("event loop: a timer set before a long awaited loop of reads fires during it", async ({ storage }) => {
    const { blob } = await storage.open("p", "loop");
    await blob.writeAt(0, pattern(64 * 1024, 1));
    let fired = false;
    setTimeout(() => fired = true, 0);
    let reads = 0;
    // Without yielding, all 200,000 reads (seconds of work) would run before the timer.
    while (!fired && reads < 200_000) {
      await blob.readAt((reads % 16) * 4096, 4096);
      reads++;
    }
    assert.ok(fired, `the timer did not fire during ${reads} awaited reads`);
    assert.ok(reads < 200_000);
    await blob.close();
  });

  it("event loop: a timer set before a long awaited loop of writes fires during it", async ({ storage }) => {
    const { blob } = await storage.open("p", "loop");
    const data = pattern(4096, 2);
    let fired = false;
    setTimeout(() => fired = true, 0);
    let writes = 0;
    while (!fired && writes < 200_000) {
      await blob.writeAt((writes % 16) * 4096, data);
      writes++;
    }
    assert.ok(fired, `the timer did not fire during ${writes} awaited writes`);
    await blob.close();
  });

  it("event loop: concurrent awaited loops let a timer run too", async ({ storage }) => {
    const { blob } = await storage.open("p", "loops");
    await blob.writeAt(0, pattern(4096, 3));
    let fired = false;
    setTimeout(() => fired = true, 0);
    const loop = async () => {
      for (let i = 0; !fired && i < 100_000; i++) await blob.readAt(0, 4096);
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    assert.ok(fired);
    await blob.close();
  });

  it("concurrency: reads racing a large write of their range see all old or all new bytes", async ({ storage }) => {
    const { blob } = await storage.open("p", "race");
    const size = 3 * MIB + 123;
    const old = pattern(size, 4);
    const next = pattern(size, 5);
    await blob.writeAt(0, old);
    const write = blob.writeAt(0, next);
    const reads: Promise<Uint8Array>[] = [];
    // Reads of the whole range, of its start, its middle and its end, issued
    // at once and at several later turns while the write may be in pieces.
    for (let turn = 0; turn < 4; turn++) {
      reads.push(read(blob, 0, size), read(blob, MIB - 7, 2 * MIB), read(blob, size - 100, 100));
      await macrotask();
    }
    await write;
    const spans = [[0, size], [MIB - 7, 2 * MIB], [size - 100, 100]] as const;
    const got = await Promise.all(reads);
    got.forEach((bytes, i) => {
      const [at, length] = spans[i % 3]!;
      const isOld = bytes.every((b, j) => b === old[at + j]);
      const isNew = bytes.every((b, j) => b === next[at + j]);
      assert.ok(isOld || isNew, `read ${i} (${at}+${length}) mixes old and new bytes`);
    });
    assertBytes(await read(blob, 0, size), next, "after the write");
    await blob.close();
  });

  it(
    "concurrency: a read in several chunks never sees a write issued after it",
    async ({ storage }) => {
      const { blob } = await storage.open("p", "chunks");
      const size = 64 * 16384;
      const old = pattern(size, 22);
      await blob.writeAt(0, old);
      // Reads before the race: a handle that times its reads (fs/_file_blob.ts)
      // and finds them slow sends the ones that follow off the loop, chunk by chunk.
      for (let i = 0; i < 4; i++) await read(blob, (40 + i) * 16384, 16384);
      for (let i = 0; i < 8; i++) {
        const at = i * 16384;
        const target = [new Uint8Array(8192), new Uint8Array(8192)];
        const reading = blob.readAtBuf(at, 16384, target);
        const writing = blob.writeAt(at, pattern(16384, 100 + i)); // issued after the read
        await Promise.all([reading, writing]);
        assertBytes(target[0]!, old.subarray(at, at + 8192), `try ${i}: chunk 0`);
        assertBytes(target[1]!, old.subarray(at + 8192, at + 16384), `try ${i}: chunk 1`);
      }
      await blob.close();
    },
    false,
    LONG,
  );

  it("concurrency: writes to overlapping ranges land in call order", async ({ storage }) => {
    const { blob } = await storage.open("p", "order");
    const big = pattern(2 * MIB + 5, 6);
    const small = pattern(1000, 7);
    await blob.writeAt(0, new Uint8Array(2 * MIB + 5));
    const reading = read(blob, 0, 4096);
    const a = blob.writeAt(0, big);
    const b = blob.writeAt(MIB, small); // called after a: must win where they overlap
    await Promise.all([reading, a, b]);
    const expected = big.slice();
    expected.set(small, MIB);
    assertBytes(await read(blob, 0, big.length), expected);
    await blob.close();
  });

  it("concurrency: sync covers every earlier write, also large ones", async ({ storage }) => {
    const { blob } = await storage.open("p", "sync");
    const data = pattern(3 * MIB, 8);
    const write = blob.writeAt(0, data);
    await blob.sync();
    await write;
    await blob.close();
    const { blob: again, size } = await storage.open("p", "sync");
    assert.equal(size, data.length);
    assertBytes(await read(again, 0, data.length), data);
    await again.close();
  });

  it(
    "close: a large write issued just before close lands whole",
    async ({ storage }) => {
      const data = pattern(4 * MIB, 9);
      const more = pattern(MIB, 19);
      for (const busy of [false, true]) {
        const name = `close-write-${busy}`;
        const { blob } = await storage.open("p", name);
        // Issued at once, close last: none of them may be cut short by the close.
        // Busy: they all wait for the loop to turn first; not busy: the large
        // write runs in pieces until the budget runs out, if it does.
        if (busy) spendBudget();
        const write = blob.writeAt(0, data);
        const synced = blob.sync(); // makes it durable where close drops unsynced changes
        const tail = blob.writeAt(4 * MIB, more, { sync: true });
        const closing = blob.close();
        const settled = await Promise.allSettled([write, synced, tail, closing]);
        settled.forEach((r, i) => {
          if (r.status === "rejected") assert.fail(`busy ${busy}: call ${i} rejected: ${r.reason}`);
        });
        const again = await storage.open("p", name);
        assert.equal(again.size, 5 * MIB);
        assertBytes(await read(again.blob, 0, 4 * MIB), data, `busy ${busy}: the write`);
        assertBytes(await read(again.blob, 4 * MIB, MIB), more, `busy ${busy}: the sync write`);
        await again.blob.close();
      }
    },
    false,
    LONG,
  );

  it(
    "close: reads, resizes and syncs issued before close complete; later calls get Closed",
    async ({ storage }) => {
      const { blob } = await storage.open("p", "close-ops");
      const old = pattern(2 * MIB, 20);
      const next = pattern(2 * MIB, 21);
      await blob.writeAt(0, old);
      spendBudget(); // every call below waits for the loop to turn, the write first
      const write = blob.writeAt(0, next);
      const whole = read(blob, 0, 2 * MIB);
      const target = [new Uint8Array(8192), new Uint8Array(8192)];
      const chunks = blob.readAtBuf(MIB - 5, 16384, target);
      const shrink = blob.resize(MIB + 7);
      const after = read(blob, MIB - 100, 107);
      const synced = blob.sync();
      const closing = blob.close();
      const where = { code: "Closed", partition: "p" };
      await assert.rejects(blob.readAt(0, 1), where);
      await assert.rejects(blob.readAtBuf(0, 1, new Uint8Array(1)), where);
      await assert.rejects(blob.writeAt(0, new Uint8Array(1)), where);
      await assert.rejects(blob.resize(0), where);
      await assert.rejects(blob.sync(), where);
      const settled = await Promise.allSettled([write, whole, chunks, shrink, after, synced]);
      settled.forEach((r, i) => {
        if (r.status === "rejected") assert.fail(`call ${i} rejected: ${r.reason}`);
      });
      assertBytes(await whole, next, "the read behind the write");
      assertBytes(target[0]!, next.subarray(MIB - 5, MIB - 5 + 8192), "readAtBuf chunk 0");
      assertBytes(target[1]!, next.subarray(MIB - 5 + 8192, MIB - 5 + 16384), "readAtBuf chunk 1");
      assertBytes(await after, next.subarray(MIB - 100, MIB + 7), "the read after resize");
      await closing;
      await blob.close(); // a second close is a no-op
      await assert.rejects(blob.readAt(0, 1), where);
      const { blob: again, size } = await storage.open("p", "close-ops");
      assert.equal(size, MIB + 7);
      assertBytes(await read(again, 0, size), next.subarray(0, size), "after reopening");
      await again.close();
    },
    false,
    LONG,
  );

  it(
    "close: reads in flight when close is called return their bytes",
    async ({ storage }) => {
      const { blob } = await storage.open("p", "close");
      const data = pattern(2 * MIB, 9);
      await blob.writeAt(0, data);
      const reads = [read(blob, 0, 2 * MIB), read(blob, 4096, 4096)];
      const closing = blob.close();
      const again = blob.close(); // while the first is under way: no-op too
      assertBytes(await reads[0]!, data, "read 0");
      assertBytes(await reads[1]!, data.subarray(4096, 8192), "read 1");
      await closing;
      await again;
      await assert.rejects(blob.readAt(0, 1), { code: "Closed" });
    },
    false,
    LONG,
  );

  it("writes: vectored writes of large and empty chunks, in one piece and in many", async ({ storage }) => {
    const { blob } = await storage.open("p", "vectored");
    const a = pattern(32 * 1024, 11);
    const b = pattern(16 * 1024, 12);
    await blob.writeAt(3, [a, new Uint8Array(0)]);
    await blob.writeAt(3 + a.length, [new Uint8Array(0), b, new Uint8Array(0), b]);
    const expected = new Uint8Array(3 + a.length + 2 * b.length);
    expected.set(a, 3);
    expected.set(b, 3 + a.length);
    expected.set(b, 3 + a.length + b.length);
    assertBytes(await read(blob, 0, expected.length), expected);
    // 2.5 MiB in 16 KiB chunks with empty ones between: crosses 1 MiB boundaries exactly.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 160; i++) chunks.push(pattern(16 * 1024, i), new Uint8Array(0));
    await blob.writeAt(0, chunks);
    assertBytes(await read(blob, 0, 160 * 16 * 1024), concatAll(chunks));
    await blob.close();
  });

  it("reads: many concurrent reads of different ranges each get their own bytes", async ({ storage }) => {
    const { blob } = await storage.open("p", "many");
    const data = pattern(256 * 4096, 10);
    await blob.writeAt(0, data);
    const slots = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    const got = await Promise.all(slots.map((s) => read(blob, s * 4096, 4096)));
    got.forEach((bytes, i) => {
      const s = slots[i]!;
      assertBytes(bytes, data.subarray(s * 4096, s * 4096 + 4096), `slot ${s}`);
    });
    // readAtBuf into caller chunks, concurrently too.
    const targets = slots.slice(0, 16).map(() => [new Uint8Array(1000), new Uint8Array(3096)]);
    await Promise.all(targets.map((t, i) => blob.readAtBuf(slots[i]! * 4096, 4096, t)));
    targets.forEach((t, i) => {
      const s = slots[i]! * 4096;
      assertBytes(t[0]!, data.subarray(s, s + 1000));
      assertBytes(t[1]!, data.subarray(s + 1000, s + 4096));
    });
    await blob.close();
  });

  it("reads and writes: buffers at any address move exact bytes (fs/_copy_align.ts bounces some)", async ({ storage }) => {
    const { blob } = await storage.open("p", "aligned");
    // WebAssembly memory is page-aligned: views at these offsets sit at known
    // distances from the file positions (V0 data starts at file byte 8).
    const memory = new Uint8Array(new WebAssembly.Memory({ initial: 19 }).buffer);
    const sizes = [4096, 64 * 1024 + 3, MIB + 4099];
    let seed = 40;
    for (const size of sizes) {
      for (const address of [0, 8, 16, 24, 40, 4088]) {
        for (const offset of [0, 5]) {
          const label = `size ${size} address ${address} offset ${offset}`;
          const data = pattern(size, seed++);
          const source = memory.subarray(address, address + size);
          source.set(data);
          await blob.writeAt(offset, source);
          assertBytes(await read(blob, offset, size), data, `${label}: write`);
          memory.fill(0xee);
          await blob.readAtBuf(offset, size, memory.subarray(address, address + size));
          assertBytes(memory.subarray(address, address + size), data, `${label}: readAtBuf`);
          assert.equal(memory[address + size], 0xee, `${label}: no byte past the view`);
          if (address > 0) assert.equal(memory[address - 1], 0xee, `${label}: no byte before it`);
        }
      }
    }
    await blob.close();
  });
}
