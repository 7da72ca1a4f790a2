/**
 * The dedicated worker that `tests/browser/run.mjs` loads in Chromium. Its
 * mode comes from its URL's query (`?mode=`):
 *
 * - `tests`: the shared conformance suite against `OpfsStorage` (layouts v0
 *   and v1) and `MemoryStorage` (v0 and v1), then the OPFS-specific tests;
 * - `persist-write` / `persist-read`: the two halves of the test across a
 *   browser restart (the runner closes the browser in between);
 * - `bench`: `bench/opfs_bench.ts`.
 *
 * It posts `{ type: "result", name, status, error, ms }` per test, then
 * `{ type: "done" }`; the page relays every message to the console, where the
 * runner reads it.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { type Fixture, runConformance } from "../conformance.ts";
import { MemoryStorage } from "../../drivers/memory.ts";
import { OpfsStorage } from "../../opfs/mod.ts";
import {
  forgetPartitions,
  openAccessHandles,
  readLiveFile,
  writeLiveFile,
} from "../../opfs/_port.ts";
import {
  fileName,
  LEDGER,
  ledgerBytes,
  PARTITION_REMOVED,
  tombstoneName,
} from "../../opfs/_names.ts";
import { segmentsOf } from "../../opfs/_dirs.ts";
import { toHex } from "../../core/names.ts";
import { encodeHeader } from "../../core/header.ts";
import type { BlobLayout } from "../../core/header.ts";
import { assertBytes, rejectsCode } from "../assert.ts";
import { enc, read } from "../util.ts";
import { formatError, type Outcome, runRegistered } from "./node_test_shim.ts";
import { runOpfsBench } from "../../bench/opfs_bench.ts";
import { NATIVE_SHA256, Sha256 } from "../../core/_sha256.ts";

declare const self: {
  location: { search: string };
  postMessage(message: unknown): void;
};

interface Dir {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<Dir>;
  getFileHandle(
    name: string,
    options?: { create?: boolean },
  ): Promise<{
    getFile(): Promise<{ text(): Promise<string>; size: number }>;
    createSyncAccessHandle(): Promise<
      { write(b: Uint8Array, o: { at: number }): number; flush(): void; close(): void }
    >;
  }>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterableIterator<[string, { kind: string }]>;
}

const nav = (globalThis as unknown as {
  navigator: {
    storage: { getDirectory(): Promise<Dir> };
    locks: {
      request(name: string, cb: () => Promise<unknown>): Promise<unknown>;
    };
  };
}).navigator;

const post = (message: unknown) => self.postMessage(message);

async function dirAt(path: string, create = false): Promise<Dir | undefined> {
  let dir = await nav.storage.getDirectory();
  for (const name of segmentsOf(path)) {
    try {
      dir = await dir.getDirectoryHandle(name, { create });
    } catch {
      return undefined;
    }
  }
  return dir;
}

/** The names in an OPFS directory, sorted (`name/` for directories). */
async function names(path: string): Promise<string[] | undefined> {
  const dir = await dirAt(path);
  if (dir === undefined) return undefined;
  const out: string[] = [];
  for await (const [name, h] of dir.entries()) out.push(h.kind === "directory" ? `${name}/` : name);
  return out.sort();
}

async function removeTree(path: string): Promise<void> {
  const segments = segmentsOf(path);
  const parent = await dirAt(segments.slice(0, -1).join("/"));
  await parent?.removeEntry(segments.at(-1)!, { recursive: true }).catch(() => {});
}

async function writeFile(path: string, name: string, bytes: Uint8Array): Promise<void> {
  const dir = (await dirAt(path, true))!;
  const handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
  handle.write(bytes, { at: 0 });
  handle.flush();
  handle.close();
}

async function fileText(path: string, name: string): Promise<string> {
  const dir = (await dirAt(path))!;
  return await (await (await dir.getFileHandle(name)).getFile()).text();
}

/** Waits for this worker's deferred deletions (they run in the port's queue). */
async function settle(storage: OpfsStorage): Promise<void> {
  await storage.scan("settle").catch(() => {});
}

let fixtures = 0;

function opfsFixture(layout: BlobLayout): () => Promise<Fixture> {
  return async () => {
    const directory = `conformance/${layout}-${++fixtures}`;
    const storage = new OpfsStorage({ directory, layout });
    return {
      storage,
      writeRaw: (partition, name, raw) =>
        writeLiveFile([...segmentsOf(directory), partition], toHex(name), raw),
      readRaw: (partition, name) =>
        readLiveFile([...segmentsOf(directory), partition], toHex(name)),
      cleanup: () => removeTree(directory),
    };
  };
}

function memoryFixture(layout: BlobLayout): () => Fixture {
  return () => {
    const storage = new MemoryStorage({ layout });
    return {
      storage,
      writeRaw: (partition, name, raw) => storage.writeRaw(partition, name, raw),
      readRaw: (partition, name) => storage.readRaw(partition, name),
      crash: () => storage.crash(),
    };
  };
}

async function registerTests(): Promise<void> {
  runConformance("OpfsStorage", opfsFixture("v0"));
  runConformance("OpfsStorage (layout v1)", opfsFixture("v1"), { layout: "v1" });
  runConformance("MemoryStorage", memoryFixture("v0"), { crash: true });
  runConformance("MemoryStorage (layout v1)", memoryFixture("v1"), { crash: true, layout: "v1" });
  // The wrappers' own suites, as Deno, Bun and Node run them. audited_test.ts spells its
  // expected states with the global Buffer (Node, Deno, Bun): the one use is given here.
  const g = globalThis as { Buffer?: unknown };
  g.Buffer ??= { from: (bytes: Uint8Array) => ({ toString: () => toHex(bytes) }) };
  await import("../audited_test.ts");
  await import("../faulty_test.ts");

  const hexB = toHex(enc("b"));

  test("sha256: the JavaScript SHA-256 matches WebCrypto, in one piece and in chunks", async () => {
    const hexOf = (b: ArrayBuffer | Uint8Array) => toHex(new Uint8Array(b));
    let seed = 7;
    const byte = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const lengths = [...Array(300).keys(), 1000, 4096, 65_537, 1 << 20];
    for (const n of lengths) {
      const data = Uint8Array.from({ length: n }, byte);
      const want = hexOf(await crypto.subtle.digest("SHA-256", data));
      assert.equal(hexOf(new Sha256().update(data).digest()), want, `${n} bytes`);
      const h = new Sha256();
      for (let i = 0; i < n;) {
        const k = Math.min(n - i, byte() % 150);
        h.update(data.subarray(i, i + k));
        i += k;
      }
      assert.equal(hexOf(h.digest()), want, `${n} bytes in chunks`);
    }
    assert.equal(NATIVE_SHA256, false, "a browser has no node:crypto");
  });

  test("OPFS: a removed open file keeps a tombstone until its last close, then goes", async () => {
    const directory = "opfs-tests/tombstone";
    const storage = new OpfsStorage({ directory });
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, enc("old"), { sync: true });
    await storage.remove("p", "b");
    assert.deepEqual(await names(`${directory}/p`), [LEDGER, hexB, tombstoneName(hexB, 0)]);
    assert.deepEqual(await storage.scan("p"), []);
    const fresh = await storage.open("p", "b");
    await fresh.blob.writeAt(0, enc("new"), { sync: true });
    assert.deepEqual(await names(`${directory}/p`), [
      LEDGER,
      hexB,
      tombstoneName(hexB, 0),
      fileName(hexB, 1),
    ]);
    assert.deepEqual(await storage.scan("p"), [enc("b")]);
    assertBytes(await read(blob, 0, 3), enc("old"));
    await blob.close();
    await settle(storage);
    // The live generation stays listed (it is not the plain name) until a heal moves it.
    assert.deepEqual(await names(`${directory}/p`), [LEDGER, fileName(hexB, 1)]);
    assert.equal(
      await fileText(`${directory}/p`, fileName(hexB, 1)),
      "\x43\x57\x49\x43\0\0\0\0new",
    );
    await fresh.blob.close();
    // Removing generation 1 while nothing is open: the name starts over at the plain hex.
    await storage.remove("p", "b");
    assert.deepEqual(await names(`${directory}/p`), []);
    await (await storage.open("p", "b")).blob.close();
    assert.deepEqual(await names(`${directory}/p`), [hexB]);
    await removeTree(directory);
  });

  test("OPFS: a removed partition with open files is gone once they close", async () => {
    const directory = "opfs-tests/partition";
    const storage = new OpfsStorage({ directory });
    const a = await storage.open("p", "a");
    await (await storage.open("p", "b")).blob.close();
    await storage.remove("p");
    assert.deepEqual(await names(`${directory}/p`), [
      LEDGER,
      PARTITION_REMOVED,
      toHex(enc("a")),
      tombstoneName(toHex(enc("a")), 0),
    ]);
    await rejectsCode(storage.scan("p"), "PartitionMissing");
    await rejectsCode(storage.remove("p"), "PartitionMissing");
    await rejectsCode(storage.remove("p", "a"), "PartitionMissing");
    await a.blob.writeAt(0, enc("still here"));
    assertBytes(await read(a.blob, 0, 10), enc("still here"));
    await a.blob.close();
    await settle(storage);
    assert.deepEqual(await names(directory), []);
    await rejectsCode(storage.scan("p"), "PartitionMissing");
    await removeTree(directory);
  });

  test("OPFS: re-creating a removed partition while its old file is open", async () => {
    const directory = "opfs-tests/recreate-partition";
    const storage = new OpfsStorage({ directory });
    const a = await storage.open("p", "a");
    await a.blob.writeAt(0, enc("old"), { sync: true });
    await storage.remove("p");
    const again = await storage.open("p", "a");
    assert.equal(again.size, 0);
    await again.blob.writeAt(0, enc("new!"), { sync: true });
    assert.deepEqual(await storage.scan("p"), [enc("a")]);
    assertBytes(await read(a.blob, 0, 3), enc("old"));
    await a.blob.close();
    await again.blob.close();
    await settle(storage);
    assert.deepEqual(await names(`${directory}/p`), [LEDGER, fileName(toHex(enc("a")), 1)]);
    const last = await storage.open("p", "a");
    assert.equal(last.size, 4);
    await last.blob.close();
    await removeTree(directory);
  });

  test("OPFS: every handle of one file shares one access handle", async () => {
    const before = openAccessHandles();
    const directory = "opfs-tests/shared";
    const one = new OpfsStorage({ directory });
    const two = new OpfsStorage({ directory });
    const a = await one.open("p", "b");
    await a.blob.writeAt(0, enc("shared"), { sync: true });
    const b = await two.open("p", "b");
    const c = await one.open("p", "b");
    assert.equal(openAccessHandles(), before + 1);
    assertBytes(await read(b.blob, 0, 6), enc("shared"));
    await a.blob.close();
    await b.blob.close();
    assert.equal(openAccessHandles(), before + 1);
    assertBytes(await read(c.blob, 0, 6), enc("shared"));
    await c.blob.close();
    assert.equal(openAccessHandles(), before);
    await removeTree(directory);
  });

  test("OPFS: a crash in the middle of removals heals on the next first touch", async () => {
    const directory = "opfs-tests/heal";
    const p = `${directory}/p`;
    const hdr = (s: string) => new Uint8Array([...encodeHeader(0), ...enc(s)]);
    const [x, y, z, w] = ["x", "y", "z", "w"].map((s) => toHex(enc(s))) as [
      string,
      string,
      string,
      string,
    ];
    // x: removed while open (tombstone), re-created as generation 1, then the crash.
    await writeFile(p, fileName(x, 0), hdr("x0"));
    await writeFile(p, tombstoneName(x, 0), new Uint8Array(0));
    await writeFile(p, fileName(x, 1), hdr("x1"));
    // y: removed while open, never re-created.
    await writeFile(p, fileName(y, 0), hdr("y0"));
    await writeFile(p, tombstoneName(y, 0), new Uint8Array(0));
    // z: a tombstone whose file was deleted (crash between the two deletions).
    await writeFile(p, tombstoneName(z, 2), new Uint8Array(0));
    // w: an older generation that lost its tombstone: the newer one wins.
    await writeFile(p, fileName(w, 0), hdr("w0"));
    await writeFile(p, fileName(w, 3), hdr("w3"));
    // The ledger lists what the driver made (as it would have, before making them).
    await writeFile(
      p,
      LEDGER,
      ledgerBytes([tombstoneName(x, 0), fileName(x, 1), tombstoneName(y, 0), tombstoneName(z, 2)]
        .concat(fileName(w, 3))),
    );
    // q: a partition removed while a file was open.
    await writeFile(`${directory}/q`, PARTITION_REMOVED, new Uint8Array(0));
    await writeFile(`${directory}/q`, fileName(x, 0), hdr("q"));
    await writeFile(`${directory}/q`, tombstoneName(x, 0), new Uint8Array(0));
    await writeFile(
      `${directory}/q`,
      LEDGER,
      ledgerBytes([PARTITION_REMOVED, tombstoneName(x, 0)]),
    );
    forgetPartitions(directory);
    const storage = new OpfsStorage({ directory });
    assert.deepEqual(await storage.scan("p"), [enc("w"), enc("x")]);
    assert.deepEqual(await names(p), [w, x]);
    assert.equal(await fileText(p, x), "CWIC\0\0\0\0x1");
    assert.equal(await fileText(p, w), "CWIC\0\0\0\0w3");
    await rejectsCode(storage.scan("q"), "PartitionMissing");
    assert.deepEqual(await names(directory), ["p/"]);
    const opened = await storage.open("p", "x");
    assertBytes(await read(opened.blob, 0, 2), enc("x1"));
    await opened.blob.close();
    await rejectsCode(storage.remove("p", "y"), "BlobMissing");
    await removeTree(directory);
  });

  test("OPFS: entries it did not make are foreign: scan refuses them, nothing is touched", async () => {
    const directory = "opfs-tests/planted";
    const hdr = (s: string) => new Uint8Array([...encodeHeader(0), ...enc(s)]);
    const empty = new Uint8Array(0);
    // a: a stray generation file; t: a real blob with a tombstone beside it; m: a real
    // blob in a partition holding a partition marker; l: the same as t with a file
    // named as the ledger that is not one; g: a generation the ledger does not list.
    await writeFile(`${directory}/a`, fileName(hexB, 1), hdr("stray"));
    await writeFile(`${directory}/t`, hexB, hdr("real"));
    await writeFile(`${directory}/t`, tombstoneName(hexB, 0), empty);
    await writeFile(`${directory}/m`, hexB, hdr("kept"));
    await writeFile(`${directory}/m`, PARTITION_REMOVED, empty);
    await writeFile(`${directory}/l`, hexB, hdr("real"));
    await writeFile(`${directory}/l`, tombstoneName(hexB, 0), empty);
    await writeFile(`${directory}/l`, LEDGER, enc(`not a ledger\n${tombstoneName(hexB, 0)}\n`));
    await writeFile(`${directory}/g`, fileName(hexB, 2), hdr("two"));
    await writeFile(`${directory}/g`, LEDGER, ledgerBytes([tombstoneName(hexB, 0)]));
    const partitions = ["a", "t", "m", "l", "g"];
    const before = await Promise.all(partitions.map((p) => names(`${directory}/${p}`)));
    forgetPartitions(directory);
    const storage = new OpfsStorage({ directory });
    for (const p of partitions) await rejectsCode(storage.scan(p), "PartitionCorrupt");
    assert.deepEqual(
      await Promise.all(partitions.map((p) => names(`${directory}/${p}`))),
      before,
    );
    assert.deepEqual(before[0], [fileName(hexB, 1)]);
    assert.equal(await fileText(`${directory}/t`, hexB), "CWIC\0\0\0\0real");
    assert.equal(await fileText(`${directory}/m`, hexB), "CWIC\0\0\0\0kept");
    // The real blob still opens and reads, as on NodeStorage beside a foreign entry.
    const real = await storage.open("t", "b");
    assertBytes(await read(real.blob, 0, 4), enc("real"));
    await real.blob.close();
    assert.deepEqual(await names(`${directory}/t`), before[1]);
    await removeTree(directory);
  });

  test("OPFS: the ledger lists what a removal while open made, and goes when healed", async () => {
    const directory = "opfs-tests/ledger";
    const storage = new OpfsStorage({ directory });
    const { blob } = await storage.open("p", "b");
    await storage.remove("p", "b");
    const fresh = await storage.open("p", "b");
    assert.deepEqual(await names(`${directory}/p`), [
      LEDGER,
      hexB,
      tombstoneName(hexB, 0),
      fileName(hexB, 1),
    ]);
    assert.equal(
      await fileText(`${directory}/p`, LEDGER),
      new TextDecoder().decode(ledgerBytes([tombstoneName(hexB, 0), fileName(hexB, 1)])),
    );
    assert.deepEqual(await storage.scan("p"), [enc("b")]);
    await blob.close();
    await fresh.blob.close();
    await settle(storage);
    forgetPartitions(directory);
    assert.deepEqual(await storage.scan("p"), [enc("b")]);
    assert.deepEqual(await names(`${directory}/p`), [hexB]);
    await removeTree(directory);
  });

  test("OPFS: another holder of the directory's lock gets StorageLocked", async () => {
    const directory = "opfs-tests/locked";
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    let taken!: () => void;
    const isTaken = new Promise<void>((resolve) => taken = resolve);
    const lock = nav.locks.request(`blobrt-opfs:/${directory}`, () => {
      taken();
      return held;
    });
    await isTaken;
    const storage = new OpfsStorage({ directory });
    await rejectsCode(storage.open("p", "b"), "StorageLocked");
    await rejectsCode(storage.scan("p"), "StorageLocked");
    release();
    await lock;
    await removeTree(directory);
  });

  test("OPFS: close releases the directory's Web Lock", async () => {
    const directory = "opfs-tests/closing";
    const name = `blobrt-opfs:/${directory}`;
    const locks = nav.locks as unknown as {
      request(
        n: string,
        o: { ifAvailable: boolean },
        cb: (l: unknown) => unknown,
      ): Promise<unknown>;
    };
    const free = () => locks.request(name, { ifAvailable: true }, (l) => l !== null);
    const storage = new OpfsStorage({ directory });
    const { blob } = await storage.open("p", "b");
    assert.equal(await free(), false, "held while the storage is open");
    await storage.close();
    assert.equal(await free(), true, "released by close");
    await rejectsCode(blob.sync(), "Closed");
    await removeTree(directory);
  });

  test("shims: node:assert/strict fails where node's does", async () => {
    const fails = (fn: () => unknown) => {
      let threw = false;
      try {
        fn();
      } catch (err) {
        threw = (err as { code?: string }).code === "ERR_ASSERTION";
      }
      if (!threw) throw new Error(`did not fail: ${fn}`);
    };
    fails(() => assert.equal(1, "1" as unknown as number));
    fails(() => assert.equal(NaN, 0));
    assert.equal(NaN, NaN);
    fails(() => assert.deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
    fails(() => assert.deepEqual([new Uint8Array([1])], [new Uint8Array([1]), new Uint8Array(0)]));
    fails(() => assert.deepEqual(new Uint8Array([1]), [1] as unknown as Uint8Array));
    fails(() => assert.deepEqual({ min: 1, max: 2 }, { min: 1, max: 3 }));
    fails(() => assert.deepEqual({ a: 1 }, { a: 1, b: undefined }));
    assert.deepEqual([enc("a"), new Uint8Array([0xff])], [enc("a"), new Uint8Array([0xff])]);
    assert.deepEqual({ min: 1, max: 2 }, { max: 2, min: 1 });
    fails(() => assert.ok(0));
    fails(() => assert.throws(() => {}));
    fails(() =>
      assert.throws(() => {
        throw new TypeError("x");
      }, RangeError)
    );
    assert.throws(() => {
      throw new RangeError("x");
    }, RangeError);
    let rejected = false;
    await assert.rejects(Promise.resolve(1)).catch(() => rejected = true);
    if (!rejected) throw new Error("rejects accepted a resolved promise");
    rejected = false;
    await assert.rejects(Promise.reject(new TypeError("t")), RangeError).catch(() =>
      rejected = true
    );
    if (!rejected) throw new Error("rejects accepted the wrong class");
    await assert.rejects(Promise.reject(Object.assign(new Error("e"), { code: "X" })), {
      code: "X",
    });
    rejected = false;
    await assert.rejects(Promise.reject(new Error("e")), () => false).catch(() => rejected = true);
    if (!rejected) throw new Error("rejects accepted a validation function returning false");
  });

  test("OPFS: directory is checked", () => {
    assert.throws(() => new OpfsStorage({ directory: "" }), TypeError);
    assert.throws(() => new OpfsStorage({ directory: 5 as unknown as string }), TypeError);
    assert.throws(() => new OpfsStorage({ directory: "a/../b" }), RangeError);
    assert.throws(() => new OpfsStorage({ directory: "a\\b" }), RangeError);
    assert.equal(new OpfsStorage({ directory: "a/b" }).directory, "a/b");
  });
}

const PERSIST = "persist";

function registerPersistWrite(): void {
  test("persistence: write and sync before the restart", async () => {
    await removeTree(PERSIST);
    const storage = new OpfsStorage({ directory: PERSIST });
    const kept = await storage.open("p", "kept", { versions: { min: 3, max: 3 } });
    await kept.blob.writeAt(0, enc("durable bytes"), { sync: true });
    await kept.blob.close();
    // Left open across the restart: a removal in the middle, as a crash leaves it.
    const old = await storage.open("p", "again");
    await old.blob.writeAt(0, enc("old"), { sync: true });
    await storage.remove("p", "again");
    const fresh = await storage.open("p", "again");
    await fresh.blob.writeAt(0, enc("new"), { sync: true });
    const gone = await storage.open("q", "x");
    await gone.blob.writeAt(0, enc("q"), { sync: true });
    await storage.remove("q");
    assert.deepEqual(await storage.scan("p"), [enc("again"), enc("kept")]);
    const hex = toHex(enc("again"));
    assert.deepEqual(await names(`${PERSIST}/p`), [
      LEDGER,
      hex,
      tombstoneName(hex, 0),
      fileName(hex, 1),
      toHex(enc("kept")),
    ]);
  });
}

function registerPersistRead(): void {
  test("persistence: read back after the restart, removals healed", async () => {
    const storage = new OpfsStorage({ directory: PERSIST });
    assert.deepEqual(await storage.scan("p"), [enc("again"), enc("kept")]);
    const kept = await storage.open("p", "kept", { versions: { min: 3, max: 3 } });
    assert.equal(kept.size, 13);
    assert.equal(kept.version, 3);
    assertBytes(await read(kept.blob, 0, 13), enc("durable bytes"));
    await kept.blob.close();
    const again = await storage.open("p", "again");
    assert.equal(again.size, 3);
    assertBytes(await read(again.blob, 0, 3), enc("new"));
    await again.blob.close();
    await rejectsCode(storage.scan("q"), "PartitionMissing");
    // The healed partition is the plain commonware layout again.
    assert.deepEqual(await names(`${PERSIST}/p`), [toHex(enc("again")), toHex(enc("kept"))]);
    assert.deepEqual(await names(PERSIST), ["p/"]);
    await removeTree(PERSIST);
  });
}

async function main(): Promise<void> {
  const params = new URLSearchParams(self.location.search);
  const mode = params.get("mode") ?? "tests";
  const filter = params.get("filter") ?? undefined;
  if (
    typeof (globalThis as { FileSystemSyncAccessHandle?: unknown }).FileSystemSyncAccessHandle !==
      "function"
  ) {
    post({
      type: "result",
      name: "environment: FileSystemSyncAccessHandle",
      status: "fail",
      error: "missing in this worker",
      ms: 0,
    });
  }
  if (mode === "bench") {
    await runOpfsBench((line) => post({ type: "log", text: line }));
    post({ type: "done" });
    return;
  }
  if (mode === "tests") await registerTests();
  else if (mode === "persist-write") registerPersistWrite();
  else if (mode === "persist-read") registerPersistRead();
  else throw new Error(`unknown mode ${mode}`);
  await runRegistered((o: Outcome) => post({ type: "result", ...o }), {
    filter,
    timeoutMs: 30_000,
  });
  post({ type: "done" });
}

main().catch((err) => {
  post({ type: "result", name: "worker", status: "fail", error: formatError(err), ms: 0 });
  post({ type: "done" });
});
