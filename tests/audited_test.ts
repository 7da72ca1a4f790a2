import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { AuditedStorage, Auditor } from "../drivers/audited.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { IoBuf, IoBufMut, IoBufs, IoBufsMut } from "../core/buffers.ts";
import type { Blob, Storage } from "../core/types.ts";
import { assertBytes, rejectsCode, runConformance } from "./conformance.ts";
import { enc } from "./util.ts";

runConformance("AuditedStorage(MemoryStorage)", () => {
  const inner = new MemoryStorage();
  return {
    storage: new AuditedStorage(inner, new Auditor()),
    writeRaw: (p, n, raw) => inner.writeRaw(p, n, raw),
    readRaw: (p, n) => inner.readRaw(p, n),
    crash: () => inner.crash(),
  };
}, { crash: true });

const ZERO = "0".repeat(64);

// ---- An independent rendering of the documented record format ----

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(parts.flatMap((p) => [...p]));
const field = (b: Uint8Array | string): Uint8Array => {
  const bytes = typeof b === "string" ? enc(b) : b;
  return cat(u64(bytes.length), bytes);
};
const num = (n: number): Uint8Array => field(u64(n));

/** The chain over `records`, from 32 zero bytes. */
function chain(records: Uint8Array[]): string {
  let state = new Uint8Array(32);
  for (const r of records) {
    state = new Uint8Array(createHash("sha256").update(cat(state, r)).digest());
  }
  return Buffer.from(state).toString("hex");
}

/** Runs `ops` on a fresh audited memory storage; returns the final state. */
async function stateOf(ops: (s: Storage) => Promise<void>): Promise<string> {
  const auditor = new Auditor();
  await ops(new AuditedStorage(new MemoryStorage(), auditor));
  return auditor.state();
}

/** Runs `ops` on a blob "p"/"b" of a fresh audited memory storage (the open is recorded too). */
function blobState(ops: (b: Blob) => Promise<unknown>): Promise<string> {
  return stateOf(async (s) => {
    const { blob } = await s.open("p", "b");
    await ops(blob);
    await blob.close();
  });
}

const settle = async (p: Promise<unknown>): Promise<void> => {
  await p.then(() => {}, () => {});
};

/** The known sequence whose digest the tests pin. */
async function knownSequence(s: Storage): Promise<void> {
  await rejectsCode(s.scan("q"), "PartitionMissing");
  const { blob } = await s.open("p", "b", { versions: { min: 1, max: 2 } });
  await blob.writeAt(3, [enc("x"), enc("yz")], { sync: true });
  await blob.readAt(0, 2);
  await blob.readAtBuf(1, 2, [new Uint8Array(1), IoBufMut.withCapacity(4)]);
  await blob.resize(5);
  await blob.sync();
  await blob.close();
  await s.scan("p");
  await s.remove("p", "b");
  await s.remove("p");
}

test("AuditedStorage: the initial state is 32 zero bytes", () => {
  assert.equal(new Auditor().state(), ZERO);
});

test("AuditedStorage: a known sequence gives the digest of the documented format", async () => {
  const P = field("p");
  const N = field("b");
  const expected = chain([
    cat(field("scan"), field("q")),
    cat(field("open"), P, N, num(1), num(2)),
    cat(field("writeAt"), P, N, num(3), num(1), field("xyz")),
    cat(field("readAt"), P, N, num(0), num(2)),
    cat(field("readAtBuf"), P, N, num(1), num(2)),
    cat(field("resize"), P, N, num(5)),
    cat(field("sync"), P, N),
    cat(field("scan"), P),
    cat(field("remove"), P, num(1), N),
    cat(field("remove"), P, num(0)),
  ]);
  const state = await stateOf(knownSequence);
  assert.equal(state, expected);
  // Computed once with Python's hashlib from the module docs: pins the format for good.
  assert.equal(state, "f56135bb1a35b299807ee4ae65c8c26d08214b5aa9899eed2a95d58685b3a913");
  assert.equal(
    await stateOf((s) => settle(s.scan("q"))),
    "4a9b5b5c42aacda37eac7be666488a56de7698261f5baa5357e6394b1d8a88a7",
  );
  assert.match(state, /^[0-9a-f]{64}$/);
});

test("AuditedStorage: two runs of the same operations give the same state", async () => {
  const a = await stateOf(knownSequence);
  const b = await stateOf(knownSequence);
  assert.equal(a, b);
  assert.notEqual(a, ZERO);
});

test("AuditedStorage: one auditor shared by two storages chains both in call order", async () => {
  const auditor = new Auditor();
  const one = new AuditedStorage(new MemoryStorage(), auditor);
  const two = new AuditedStorage(new MemoryStorage(), auditor);
  await settle(one.scan("a"));
  await settle(two.scan("b"));
  const ab = auditor.state();
  const other = new Auditor();
  const three = new AuditedStorage(new MemoryStorage(), other);
  await settle(three.scan("b"));
  await settle(three.scan("a"));
  assert.notEqual(ab, other.state());
  assert.equal(ab, chain([cat(field("scan"), field("a")), cat(field("scan"), field("b"))]));
});

test("AuditedStorage: records follow call order, not completion order", async () => {
  const sequential = await blobState(async (b) => {
    await b.writeAt(0, enc("abcd"));
    await b.readAt(0, 4);
    await b.resize(2);
  });
  const concurrent = await blobState(async (b) => {
    await Promise.all([b.writeAt(0, enc("abcd")), b.readAt(0, 4), b.resize(2)]);
  });
  assert.equal(concurrent, sequential);
});

test("AuditedStorage: a different written byte, offset or sync option changes the state", async () => {
  const base = await blobState((b) => b.writeAt(0, enc("abc")));
  const changed = [
    await blobState((b) => b.writeAt(0, enc("abd"))),
    await blobState((b) => b.writeAt(1, enc("abc"))),
    await blobState((b) => b.writeAt(0, enc("abc"), { sync: true })),
    await blobState((b) => b.writeAt(0, enc("ab"))),
    await blobState((b) => b.writeAt(0, enc("abcd"))),
  ];
  for (const s of changed) assert.notEqual(s, base);
  assert.equal(new Set(changed).size, changed.length);
  // `{ sync: false }` and no options are the same operation.
  assert.equal(await blobState((b) => b.writeAt(0, enc("abc"), { sync: false })), base);
  assert.equal(await blobState((b) => b.writeAt(0, enc("abc"), {})), base);
});

test("AuditedStorage: a different offset or length changes read, readAtBuf and resize records", async () => {
  const states = [
    await blobState((b) => settle(b.readAt(0, 1))),
    await blobState((b) => settle(b.readAt(0, 2))),
    await blobState((b) => settle(b.readAt(1, 1))),
    await blobState((b) => settle(b.readAtBuf(0, 1, new Uint8Array(1)))),
    await blobState((b) => settle(b.readAtBuf(0, 2, new Uint8Array(2)))),
    await blobState((b) => settle(b.readAtBuf(1, 1, new Uint8Array(1)))),
    await blobState((b) => b.resize(1)),
    await blobState((b) => b.resize(2)),
    await blobState((b) => b.sync()),
    await blobState(async () => {}),
  ];
  assert.equal(new Set(states).size, states.length);
});

test("AuditedStorage: readAtBuf records offset and length, not the target's layout", async () => {
  const setup = (b: Blob) => b.writeAt(0, enc("abcdef"));
  const layouts = [
    await blobState(async (b) => {
      await setup(b);
      await b.readAtBuf(1, 4, new Uint8Array(4));
    }),
    await blobState(async (b) => {
      await setup(b);
      await b.readAtBuf(1, 4, [new Uint8Array(1), new Uint8Array(3)]);
    }),
    await blobState(async (b) => {
      await setup(b);
      await b.readAtBuf(1, 4, new IoBufsMut([IoBufMut.withCapacity(2), IoBufMut.withCapacity(9)]));
    }),
    await blobState(async (b) => {
      await setup(b);
      await b.readAtBuf(1, 4, IoBufMut.withCapacity(8));
    }),
  ];
  assert.equal(new Set(layouts).size, 1);
});

test("AuditedStorage: a different partition, name or version range changes the state", async () => {
  const open = (p: string, n: string | Uint8Array, min = 0, max = 0) =>
    stateOf(async (s) => {
      const { blob } = await s.open(p, n, { versions: { min, max } });
      await blob.writeAt(0, enc("x"));
      await blob.close();
    });
  const states = [
    await open("p", "b"),
    await open("q", "b"),
    await open("p", "c"),
    await open("p", "b", 0, 1),
    await open("p", "b", 1, 1),
    await open("p", "b", 0, 2),
    await open("p", new Uint8Array([0x62, 0])),
  ];
  assert.equal(new Set(states).size, states.length);
  // The name is recorded as its bytes, and no versions means { min: 0, max: 0 }.
  assert.equal(await open("p", new Uint8Array([0x62])), states[0]);
  const noOptions = await stateOf(async (s) => {
    const { blob } = await s.open("p", "b");
    await blob.writeAt(0, enc("x"));
    await blob.close();
  });
  assert.equal(noOptions, states[0]);
});

test("AuditedStorage: blob operations carry their blob's partition and name", async () => {
  const on = (p: string, n: string) =>
    stateOf(async (s) => {
      const { blob } = await s.open(p, n);
      await blob.sync();
      await blob.close();
    });
  const onB = await stateOf(async (s) => {
    const a = await s.open("p", "a");
    const b = await s.open("p", "b");
    await b.blob.sync();
    await a.blob.close();
    await b.blob.close();
  });
  const onA = await stateOf(async (s) => {
    const a = await s.open("p", "a");
    const b = await s.open("p", "b");
    await a.blob.sync();
    await a.blob.close();
    await b.blob.close();
  });
  assert.notEqual(onA, onB);
  assert.notEqual(await on("p", "b"), await on("q", "b"));
});

test("AuditedStorage: remove with and without a name differ", async () => {
  const setup = async (s: Storage) => (await s.open("p", "b")).blob.close();
  const withName = await stateOf(async (s) => {
    await setup(s);
    await s.remove("p", "b");
  });
  const without = await stateOf(async (s) => {
    await setup(s);
    await s.remove("p");
  });
  const undef = await stateOf(async (s) => {
    await setup(s);
    await s.remove("p", undefined);
  });
  const other = await stateOf(async (s) => {
    await setup(s);
    await settle(s.remove("p", "c"));
  });
  assert.notEqual(withName, without);
  assert.notEqual(withName, other);
  assert.equal(undef, without);
});

test("AuditedStorage: failing operations are recorded", async () => {
  const auditor = new Auditor();
  const storage = new AuditedStorage(new MemoryStorage(), auditor);
  const seen = new Set([auditor.state()]);
  const step = async (p: Promise<unknown>, code: string) => {
    await assert.rejects(p, { code });
    assert.ok(!seen.has(auditor.state()), `${code} not recorded`);
    seen.add(auditor.state());
  };
  await step(storage.scan("missing"), "PartitionMissing");
  await step(storage.remove("missing"), "PartitionMissing");
  await step(storage.open("bad name", "b"), "PartitionNameInvalid");
  await step(storage.scan("../x"), "PartitionNameInvalid");
  await step(storage.remove("p/q", "b"), "PartitionNameInvalid");
  const { blob } = await storage.open("p", "b");
  seen.add(auditor.state());
  await step(storage.remove("p", "nope"), "BlobMissing");
  await step(blob.readAt(0, 1), "BlobInsufficientLength");
  await step(blob.readAtBuf(3, 1, new Uint8Array(1)), "BlobInsufficientLength");
  await step(blob.readAt(Number.MAX_SAFE_INTEGER - 8, 1), "OffsetOverflow");
  await step(blob.writeAt(Number.MAX_SAFE_INTEGER - 8, enc("x")), "OffsetOverflow");
  await step(blob.resize(Number.MAX_SAFE_INTEGER - 7), "OffsetOverflow");
  await blob.close();
  await step(blob.readAt(0, 1), "Closed");
  await step(blob.readAtBuf(0, 1, new Uint8Array(1)), "Closed");
  await step(blob.writeAt(0, enc("x")), "Closed");
  await step(blob.writeAt(0, []), "Closed");
  await step(blob.resize(1), "Closed");
  await step(blob.sync(), "Closed");
  // Too small a read target is the inner storage's to detect (after Closed): recorded.
  const again = await storage.open("p", "b");
  const before = auditor.state();
  await assert.rejects(again.blob.readAtBuf(0, 2, new Uint8Array(1)), RangeError);
  assert.notEqual(auditor.state(), before);
  await again.blob.close();
});

test("AuditedStorage: a failing open is recorded like a succeeding one", async () => {
  const inner = new MemoryStorage();
  inner.writeRaw("p", "b", enc("XXXXXXXXpayload"));
  const auditor = new Auditor();
  await rejectsCode(new AuditedStorage(inner, auditor).open("p", "b"), "BlobCorrupt");
  const ok = await stateOf(async (s) => {
    await (await s.open("p", "b")).blob.close();
  });
  assert.equal(auditor.state(), ok);
});

test("AuditedStorage: close and dispose are not recorded", async () => {
  const auditor = new Auditor();
  const storage = new AuditedStorage(new MemoryStorage(), auditor);
  let blob: Blob;
  {
    await using opened = await storage.open("p", "b");
    blob = opened.blob;
    await blob.writeAt(0, enc("x"));
    const before = auditor.state();
    await blob.close();
    await blob.close();
    assert.equal(auditor.state(), before);
  }
  const before = auditor.state();
  {
    await using opened = await storage.open("p", "c");
    assert.notEqual(auditor.state(), before);
    const afterOpen = auditor.state();
    await opened[Symbol.asyncDispose]();
    await opened.blob[Symbol.asyncDispose]();
    assert.equal(auditor.state(), afterOpen);
  }
  await rejectsCode(blob.sync(), "Closed");
});

test("AuditedStorage: the written bytes are hashed independently of chunking", async () => {
  const write = (data: Parameters<Blob["writeAt"]>[1]) => blobState((b) => b.writeAt(4, data));
  const a = enc("a");
  const ab = enc("ab");
  const bc = enc("bc");
  const c = enc("c");
  const abc = enc("abc");
  const states = [
    await write(abc),
    await write([ab, c]),
    await write([a, bc]),
    await write([a, enc("b"), c]),
    await write([a, new Uint8Array(0), bc, new Uint8Array(0)]),
    await write(new IoBuf(abc)),
    await write(new IoBufs([ab, c])),
    await write(new IoBufs([new IoBuf(a), bc])),
    await write([new IoBuf(ab), c]),
    await write(new IoBufMut(abc)),
    await write(new Uint8Array([0, 97, 98, 99, 0]).subarray(1, 4)),
  ];
  assert.equal(new Set(states).size, 1);
  const P = field("p");
  const N = field("b");
  assert.equal(
    states[0],
    chain([
      cat(field("open"), P, N, num(0), num(0)),
      cat(field("writeAt"), P, N, num(4), num(0), field("abc")),
    ]),
  );
  assert.notEqual(await write(enc("ab")), states[0]);
});

test("AuditedStorage: an empty write is recorded, however it is spelled", async () => {
  const none = await blobState(async () => {});
  const empties = [
    await blobState((b) => b.writeAt(0, new Uint8Array(0))),
    await blobState((b) => b.writeAt(0, [])),
    await blobState((b) => b.writeAt(0, [new Uint8Array(0), new Uint8Array(0)])),
    await blobState((b) => b.writeAt(0, new IoBufs())),
  ];
  assert.equal(new Set(empties).size, 1);
  assert.notEqual(empties[0], none);
});

test("AuditedStorage: no collisions by moving bytes between fields", async () => {
  const opens = [
    await stateOf(async (s) => (await s.open("ab", "c")).blob.close()),
    await stateOf(async (s) => (await s.open("a", "bc")).blob.close()),
  ];
  assert.notEqual(opens[0], opens[1]);
  const removes = [
    await stateOf((s) => settle(s.remove("ab", "c"))),
    await stateOf((s) => settle(s.remove("a", "bc"))),
    await stateOf((s) => settle(s.remove("abc"))),
  ];
  assert.equal(new Set(removes).size, 3);
  // The data of a write vs the name of its blob, and one write vs two.
  const writes = [
    await stateOf(async (s) => {
      const { blob } = await s.open("p", "ab");
      await blob.writeAt(0, enc("c"));
    }),
    await stateOf(async (s) => {
      const { blob } = await s.open("p", "a");
      await blob.writeAt(0, enc("bc"));
    }),
    await blobState(async (b) => {
      await b.writeAt(0, enc("ab"));
      await b.writeAt(2, enc("c"));
    }),
    await blobState((b) => b.writeAt(0, enc("abc"))),
  ];
  assert.equal(new Set(writes).size, 4);
  // The same fields under another label.
  const labels = [
    await blobState((b) => settle(b.readAt(0, 1))),
    await blobState((b) => settle(b.readAtBuf(0, 1, new Uint8Array(1)))),
  ];
  assert.notEqual(labels[0], labels[1]);
});

test("AuditedStorage: argument errors are the inner storage's, and are not recorded", async () => {
  const plain = new MemoryStorage();
  const auditor = new Auditor();
  const audited = new AuditedStorage(new MemoryStorage(), auditor);
  const plainBlob = (await plain.open("p", "b")).blob;
  const auditedBlob = (await audited.open("p", "b")).blob;
  const start = auditor.state();
  const same = async (call: (s: Storage, b: Blob) => Promise<unknown>, what: string) => {
    let expected: unknown;
    let actual: unknown;
    await call(plain, plainBlob).catch((e) => expected = e);
    await call(audited, auditedBlob).catch((e) => actual = e);
    assert.ok(expected instanceof TypeError || expected instanceof RangeError, what);
    assert.equal((actual as Error).constructor, (expected as Error).constructor, what);
    assert.equal((actual as Error).message, (expected as Error).message, what);
    assert.equal(auditor.state(), start, `${what} recorded`);
  };
  const bad = <T>(v: unknown): T => v as T;
  await same((s) => s.open("p", ""), "empty name");
  await same((s) => s.open("p", bad(5)), "numeric name");
  await same((s) => s.open("p", "b", { versions: { min: 2, max: 1 } }), "min > max");
  await same((s) => s.open("p", "b", { versions: { min: 0, max: 70000 } }), "max > u16");
  await same((s) => s.open("p", "b", { versions: bad(5) }), "versions not an object");
  await same((s) => s.open(bad(7), "b"), "numeric partition");
  await same((s) => s.open("bad name", ""), "empty name before bad partition");
  await same((s) => s.remove("p", ""), "remove empty name");
  await same((s) => s.remove(bad(null)), "remove null partition");
  await same((s) => s.scan(bad(undefined)), "scan undefined partition");
  for (const v of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, "1", null]) {
    const n = bad<number>(v);
    await same((_, b) => b.readAt(n, 1), `readAt offset ${v}`);
    await same((_, b) => b.readAt(0, n), `readAt length ${v}`);
    await same((_, b) => b.readAtBuf(n, 1, new Uint8Array(1)), `readAtBuf offset ${v}`);
    await same((_, b) => b.readAtBuf(0, n, new Uint8Array(1)), `readAtBuf length ${v}`);
    await same((_, b) => b.writeAt(n, enc("x")), `writeAt offset ${v}`);
    await same((_, b) => b.resize(n), `resize ${v}`);
  }
  for (const v of ["text", 5, null, [1, 2], [enc("a"), "b"]]) {
    await same((_, b) => b.writeAt(0, bad(v)), `write data ${JSON.stringify(v)}`);
  }
  await same((_, b) => b.writeAt(-1, bad("text")), "offset before data");
  await same((_, b) => b.writeAt(0, enc("x"), { sync: bad("yes") }), "sync option");
  await same((_, b) => b.writeAt(0, enc("x"), bad(5)), "options not an object");
  for (const v of ["text", 5, null, [new Uint8Array(1), 3], new IoBuf(enc("a"))]) {
    await same((_, b) => b.readAtBuf(0, 1, bad(v)), `read target ${String(v)}`);
  }
  await same((_, b) => b.readAtBuf(-1, 1, bad("text")), "offset before target");
  // The same holds on a closed handle: argument errors come before Closed.
  await plainBlob.close();
  await auditedBlob.close();
  await same((_, b) => b.readAt(-1, 1), "closed readAt");
  await same((_, b) => b.writeAt(0, bad("text")), "closed writeAt");
  await same((_, b) => b.readAtBuf(0, 1, bad(null)), "closed readAtBuf");
});

test("AuditedStorage: results pass through unchanged", async () => {
  const storage = new AuditedStorage(new MemoryStorage(), new Auditor());
  const opened = await storage.open("p", "b", { versions: { min: 3, max: 4 } });
  assert.equal(opened.size, 0);
  assert.equal(opened.version, 4);
  await opened.blob.writeAt(0, enc("hello"), { sync: true });
  assertBytes((await opened.blob.readAt(1, 3)).bytes(), enc("ell"));
  const a = new Uint8Array(2);
  const b = IoBufMut.withCapacity(5);
  const out = await opened.blob.readAtBuf(0, 5, [a, b]);
  assert.equal(out.buffers()[1], b);
  assertBytes(a, enc("he"));
  assertBytes(b.bytes(), enc("llo"));
  await opened.blob.close();
  assert.deepEqual(await storage.scan("p"), [enc("b")]);
  const again = await storage.open("p", "b", { versions: { min: 3, max: 4 } });
  assert.equal(again.size, 5);
  await again.blob.close();
});

test("AuditedStorage: a partition with a lone surrogate gets its own record", async () => {
  // TextEncoder would map both to U+FFFD; the record must still tell them apart.
  const a = await stateOf((s) => settle(s.scan("\ud800")));
  const b = await stateOf((s) => settle(s.scan("\ufffd")));
  const c = await stateOf((s) => settle(s.scan("\udc00")));
  assert.equal(new Set([a, b, c]).size, 3);
  assert.equal(b, chain([cat(field("scan"), field(new Uint8Array([0xef, 0xbf, 0xbd])))]));
  assert.equal(a, chain([cat(field("scan"), field(new Uint8Array([0xed, 0xa0, 0x80])))]));
  // A proper pair is plain UTF-8.
  assert.equal(
    await stateOf((s) => settle(s.scan("\ud83d\ude00"))),
    chain([cat(field("scan"), field(enc("\ud83d\ude00")))]),
  );
});
