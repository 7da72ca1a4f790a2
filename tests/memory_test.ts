import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage } from "../drivers/memory.ts";
import { createStorage } from "../drivers/select.ts";
import { createHeader, encodeHeader } from "../core/header.ts";
import { assertBytes, rejectsCode, runConformance } from "./conformance.ts";
import { enc, read } from "./util.ts";
import { spendTurn } from "../core/_turn.ts";
import { slow } from "./limits.ts";

runConformance("MemoryStorage", () => {
  const storage = new MemoryStorage();
  return {
    storage,
    writeRaw: (partition, name, raw) => storage.writeRaw(partition, name, raw),
    readRaw: (partition, name) => storage.readRaw(partition, name),
    crash: () => storage.crash(),
  };
}, { crash: true });

runConformance("MemoryStorage (layout v1)", () => {
  const storage = new MemoryStorage({ layout: "v1" });
  return {
    storage,
    writeRaw: (partition, name, raw) => storage.writeRaw(partition, name, raw),
    readRaw: (partition, name) => storage.readRaw(partition, name),
    crash: () => storage.crash(),
  };
}, { crash: true, layout: "v1" });

const raw = (...bytes: Uint8Array[]): Uint8Array => new Uint8Array(bytes.flatMap((b) => [...b]));

test("MemoryStorage: crash drops unsynced writes and resizes", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("durable"));
  await blob.sync();
  await blob.writeAt(0, enc("DUR"));
  await blob.writeAt(7, enc("+tail"));
  storage.crash();
  assertBytes(storage.readRaw("p", "b")!, raw(encodeHeader(0), enc("durable")));
  const again = await storage.open("p", "b");
  assert.equal(again.size, 7);
  await again.blob.resize(3);
  storage.crash();
  assert.equal((await storage.open("p", "b")).size, 7);
});

test("MemoryStorage: a sync write makes only its own range durable", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("aaaa"));
  await blob.writeAt(10, enc("bb"), { sync: true });
  storage.crash();
  // Bytes 0..4 were never synced; the sync write extended the durable size to 12.
  assertBytes(storage.readRaw("p", "b")!, raw(encodeHeader(0), new Uint8Array(10), enc("bb")));
});

test("MemoryStorage: each open starts from the durable image", async () => {
  const storage = new MemoryStorage();
  const first = await storage.open("p", "b");
  await first.blob.writeAt(0, enc("live"));
  const second = await storage.open("p", "b");
  assert.equal(second.size, 0);
  await first.blob.sync();
  assert.equal((await storage.open("p", "b")).size, 4);
  await first.blob.close();
  await second.blob.close();
});

test("MemoryStorage: close without sync drops the handle's changes", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("gone"));
  await blob.close();
  assert.equal((await storage.open("p", "b")).size, 0);
});

test("MemoryStorage: sync after shrink and regrow persists zeros, not stale bytes", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("abcdef"));
  await blob.sync();
  await blob.resize(2);
  await blob.resize(6);
  await blob.sync();
  storage.crash();
  assertBytes(storage.readRaw("p", "b")!, raw(encodeHeader(0), enc("ab"), new Uint8Array(4)));
});

test("MemoryStorage: a crash after remove does not resurrect the blob", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("x"), { sync: true });
  await storage.remove("p", "b");
  await blob.sync();
  storage.crash();
  assert.deepEqual(await storage.scan("p"), []);
  assert.equal(storage.readRaw("p", "b"), undefined);
});

test("MemoryStorage: handles opened after a crash work", async () => {
  const storage = new MemoryStorage();
  await storage.open("p", "b");
  storage.crash();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("ok"));
  assertBytes((await blob.readAt(0, 2)).bytes(), enc("ok"));
  await blob.close();
  await rejectsCode(blob.readAt(0, 1), "Closed");
});

slow.test("MemoryStorage: a legal size memory cannot hold is a StorageError, not a RangeError", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("keep"), { sync: true });
  // Legal offsets and lengths (no OffsetOverflow) that no runtime can allocate.
  const huge = Number.MAX_SAFE_INTEGER - 100;
  for (
    const [op, code] of [
      [() => blob.writeAt(huge, enc("x")), "WriteFailed"],
      [() => blob.writeAt(huge, enc("x"), { sync: true }), "WriteFailed"],
      [() => blob.resize(huge), "BlobResizeFailed"],
    ] as const
  ) {
    const err = await rejectsCode(op(), code);
    assert.equal(err.partition, "p");
    assert.equal(err.blob, "62");
    assert.ok(err.cause instanceof RangeError);
  }
  // Nothing changed.
  assertBytes((await blob.readAt(0, 4)).bytes(), enc("keep"));
  await rejectsCode(blob.readAt(4, 1), "BlobInsufficientLength");
  await blob.sync();
  await blob.close();
  assert.equal((await storage.open("p", "b")).size, 4);
});

test("MemoryStorage: readRaw and scan hand over ArrayBuffer memory", async () => {
  const storage = new MemoryStorage();
  await (await storage.open("p", "b")).blob.close();
  const image: Uint8Array<ArrayBuffer> = storage.readRaw("p", "b")!;
  const names: Uint8Array<ArrayBuffer>[] = await storage.scan("p");
  assert.equal(Object.getPrototypeOf(image.buffer), ArrayBuffer.prototype);
  assert.equal(Object.getPrototypeOf(names[0]!.buffer), ArrayBuffer.prototype);
  assert.equal(new Blob([image, ...names]).size, 9);
});

test("MemoryStorage: layout defaults to v0 and is checked", () => {
  assert.equal(new MemoryStorage().layout, "v0");
  assert.equal(new MemoryStorage({}).layout, "v0");
  assert.equal(new MemoryStorage({ layout: "v0" }).layout, "v0");
  assert.equal(new MemoryStorage({ layout: "v1" }).layout, "v1");
  assert.throws(() => new MemoryStorage({ layout: "V1" as never }), RangeError);
  assert.throws(() => new MemoryStorage({ layout: 1 as never }), TypeError);
});

test("MemoryStorage: layout v1: crash keeps the 4096-byte header and synced bytes only", async () => {
  const storage = new MemoryStorage({ layout: "v1" });
  const { blob, size, version } = await storage.open("p", "b", { versions: { min: 0, max: 3 } });
  assert.equal(size, 0);
  assert.equal(version, 3);
  assertBytes(storage.readRaw("p", "b")!, createHeader("v1", 3), "durable at once");
  await blob.writeAt(0, enc("durable"));
  await blob.sync();
  await blob.writeAt(0, enc("DUR"));
  await blob.writeAt(20, enc("bb"), { sync: true });
  storage.crash();
  const expected = raw(createHeader("v1", 3), enc("durable"), new Uint8Array(13), enc("bb"));
  assertBytes(storage.readRaw("p", "b")!, expected);
  const again = await storage.open("p", "b", { versions: { min: 3, max: 3 } });
  assert.equal(again.size, 22);
  await again.blob.resize(0);
  await again.blob.sync();
  assertBytes(storage.readRaw("p", "b")!, createHeader("v1", 3), "resize(0) keeps the header");
  await again.blob.close();
});

test("MemoryStorage: two handles on a raw V1 image share its durable bytes", async () => {
  const storage = new MemoryStorage();
  storage.writeRaw("p", "b", raw(createHeader("v1", 0), enc("abc")));
  const first = await storage.open("p", "b");
  assert.equal(first.size, 3);
  await first.blob.writeAt(3, enc("d"), { sync: true });
  const second = await storage.open("p", "b");
  assert.equal(second.size, 4);
  await first.blob.writeAt(4, enc("e"));
  await first.blob.sync();
  await second.blob.writeAt(0, enc("A"), { sync: true });
  storage.crash();
  assertBytes(storage.readRaw("p", "b")!, raw(createHeader("v1", 0), enc("Abcde")));
});

test("createStorage: layout reaches MemoryStorage", async () => {
  const storage = createStorage({ driver: "memory", layout: "v1" }) as MemoryStorage;
  assert.equal(storage.layout, "v1");
  await (await storage.open("p", "b")).blob.close();
  assertBytes(storage.readRaw("p", "b")!, createHeader("v1", 0));
  assert.equal((createStorage({ driver: "memory" }) as MemoryStorage).layout, "v0");
  assert.throws(() => createStorage({ driver: "memory", layout: "v2" as never }), RangeError);
});

test("MemoryStorage: crash closes at once, also calls waiting for the loop and a close waiting for them", async () => {
  const storage = new MemoryStorage();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("synced"), { sync: true });
  // Spend the event-loop budget (core/_turn.ts): the calls below wait for a macrotask.
  spendTurn(1 << 20); // starts the clock
  const until = performance.now() + 10;
  while (performance.now() < until) { /* synchronous work */ }
  assert.ok(spendTurn(1 << 20) !== undefined, "the budget is spent");
  const waiting = [
    blob.writeAt(0, enc("lost")),
    blob.readAt(0, 6),
    blob.resize(2),
    blob.sync(),
  ];
  const closing = blob.close(); // waits for them...
  storage.crash(); // ...but a crash closes the handle at once: they reject
  for (const [i, r] of (await Promise.allSettled(waiting)).entries()) {
    assert.equal(r.status, "rejected", `call ${i} ran after the crash`);
    assert.equal((r as PromiseRejectedResult).reason.code, "Closed", `call ${i}`);
  }
  await closing;
  await blob.close();
  await rejectsCode(blob.readAt(0, 1), "Closed");
  const again = await storage.open("p", "b");
  assert.equal(again.size, 6);
  assert.deepEqual(await read(again.blob, 0, 6), enc("synced"));
  await again.blob.close();
});
