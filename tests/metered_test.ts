import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  type Attributes,
  type Meter as OtelMeter,
  type MetricOptions,
  metrics,
} from "@opentelemetry/api";
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";
import { IoBuf, IoBufMut, IoBufs, IoBufsMut } from "../core/buffers.ts";
import { encodeHeader } from "../core/header.ts";
import type { Blob, OpenedBlob, Storage } from "../core/types.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { type Meter, MeteredStorage } from "../drivers/metered.ts";
import { assertBytes, rejectsCode, runConformance } from "./conformance.ts";
import { enc } from "./util.ts";

runConformance("MeteredStorage(MemoryStorage)", () => {
  const inner = new MemoryStorage();
  return {
    storage: new MeteredStorage(inner),
    writeRaw: (p, n, raw) => inner.writeRaw(p, n, raw),
    readRaw: (p, n) => inner.readRaw(p, n),
    crash: () => inner.crash(),
  };
}, { crash: true });

const NAMES = [
  "runtime_open_blobs",
  "runtime_storage_reads",
  "runtime_storage_read_bytes",
  "runtime_storage_writes",
  "runtime_storage_write_bytes",
  "runtime_storage_syncs",
  "runtime_storage_resizes",
] as const;
type Name = typeof NAMES[number];
type Values = Record<Name, number>;

/** A reader we collect from directly: no timers, no exporter. */
class Reader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A metered memory storage on a fresh SDK meter provider. */
function sdkFixture(): {
  inner: MemoryStorage;
  storage: MeteredStorage;
  read(): Promise<Values>;
  metric(name: Name): Promise<SumMetricData>;
  shutdown(): Promise<void>;
} {
  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  const inner = new MemoryStorage();
  const storage = new MeteredStorage(inner, { meter: provider.getMeter("metered-test") });
  const collect = async (): Promise<SumMetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    const scopes = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === "metered-test");
    return scopes.flatMap((s) => s.metrics) as SumMetricData[];
  };
  return {
    inner,
    storage,
    async read() {
      const out = {} as Values;
      const all = await collect();
      for (const name of NAMES) {
        const m = all.find((m) => m.descriptor.name === name);
        // An instrument nothing has been recorded on yet has no data point.
        out[name] = m === undefined ? 0 : m.dataPoints.reduce((n, p) => n + p.value, 0);
      }
      return out;
    },
    async metric(name) {
      const m = (await collect()).find((m) => m.descriptor.name === name);
      assert.ok(m, `metric ${name} missing`);
      return m;
    },
    shutdown: () => provider.shutdown(),
  };
}

const zero: Values = {
  runtime_open_blobs: 0,
  runtime_storage_reads: 0,
  runtime_storage_read_bytes: 0,
  runtime_storage_writes: 0,
  runtime_storage_write_bytes: 0,
  runtime_storage_syncs: 0,
  runtime_storage_resizes: 0,
};

test("MeteredStorage: exact values of all seven metrics through the OpenTelemetry SDK", async () => {
  const { inner, storage, read, metric, shutdown } = sdkFixture();
  const expected = { ...zero };
  const check = async (what: string): Promise<void> => {
    assert.deepEqual(await read(), expected, what);
  };
  await check("nothing yet");

  // Opens: two succeed, failing ones (corrupt file, bad partition, bad version, empty
  // name) count nothing.
  const a = await storage.open("p", "a");
  const b = await storage.open("p", "b", { versions: { min: 1, max: 2 } });
  expected.runtime_open_blobs = 2;
  inner.writeRaw("p", "corrupt", enc("NOT A BLOB"));
  await rejectsCode(storage.open("p", "corrupt"), "BlobCorrupt");
  await rejectsCode(storage.open("bad/partition", "x"), "PartitionNameInvalid");
  await rejectsCode(
    storage.open("p", "b", { versions: { min: 0, max: 0 } }),
    "BlobVersionMismatch",
  );
  await assert.rejects(storage.open("p", ""), RangeError);
  await check("after opens");

  // Writes: vectored (empty chunks included), plain, a sync write, an empty write.
  await a.blob.writeAt(0, [enc("abc"), new Uint8Array(0), new IoBuf(enc("defg"))]);
  expected.runtime_storage_writes += 1;
  expected.runtime_storage_write_bytes += 7;
  await a.blob.writeAt(7, new IoBufs([enc("hi"), enc("jkl")]), { sync: true });
  expected.runtime_storage_writes += 1;
  expected.runtime_storage_write_bytes += 5;
  expected.runtime_storage_syncs += 1;
  await a.blob.writeAt(12, enc("mnop"), { sync: false });
  await b.blob.writeAt(0, IoBufMut.zeroed(3));
  expected.runtime_storage_writes += 2;
  expected.runtime_storage_write_bytes += 7;
  await a.blob.writeAt(100, new Uint8Array(0));
  await a.blob.writeAt(100, [], { sync: true });
  expected.runtime_storage_writes += 2;
  expected.runtime_storage_syncs += 1;
  await check("after writes");

  // Reads: each counts its length, zero-length included.
  assertBytes((await a.blob.readAt(0, 16)).bytes(), enc("abcdefghijklmnop"));
  await a.blob.readAt(5, 0);
  expected.runtime_storage_reads += 2;
  expected.runtime_storage_read_bytes += 16;
  const first = IoBufMut.withCapacity(4);
  const second = new Uint8Array(4);
  const got = await a.blob.readAtBuf(2, 6, [first, second]);
  assert.equal(got.buffers()[0], first);
  assertBytes(got.bytes(), enc("cdefgh"));
  assertBytes(second, enc("gh\0\0"));
  const whole = new Uint8Array(3);
  await b.blob.readAtBuf(0, 3, whole);
  await b.blob.readAtBuf(0, 2, new IoBufsMut([IoBufMut.withCapacity(1), IoBufMut.withCapacity(8)]));
  expected.runtime_storage_reads += 3;
  expected.runtime_storage_read_bytes += 11;
  // A read the wrapped storage rejects was still attempted: it counts.
  await rejectsCode(a.blob.readAt(10, 10), "BlobInsufficientLength");
  expected.runtime_storage_reads += 1;
  expected.runtime_storage_read_bytes += 10;
  await check("after reads");

  // Syncs and resizes.
  await a.blob.sync();
  await b.blob.sync();
  await b.blob.sync();
  expected.runtime_storage_syncs += 3;
  await a.blob.resize(20);
  await a.blob.resize(4);
  await b.blob.resize(0);
  expected.runtime_storage_resizes += 3;
  assert.equal((await a.blob.readAt(0, 4)).length, 4);
  expected.runtime_storage_reads += 1;
  expected.runtime_storage_read_bytes += 4;
  await check("after syncs and resizes");

  // Bad arguments, overflow, too little capacity: rejected as by every driver, not counted.
  const big = Number.MAX_SAFE_INTEGER;
  await assert.rejects(a.blob.readAt(-1, 1), RangeError);
  await assert.rejects(a.blob.readAt(0, 1.5), RangeError);
  await assert.rejects(a.blob.readAt("0" as never, 1), TypeError);
  await rejectsCode(a.blob.readAt(big - 8, 1), "OffsetOverflow");
  await assert.rejects(a.blob.readAtBuf(0, 5, new Uint8Array(4)), RangeError);
  await assert.rejects(a.blob.readAtBuf(0, 1, [{}] as never), TypeError);
  await assert.rejects(a.blob.writeAt(NaN, enc("x")), RangeError);
  await assert.rejects(a.blob.writeAt(0, "text" as never), TypeError);
  await assert.rejects(a.blob.writeAt(0, enc("x"), { sync: "yes" } as never), TypeError);
  await rejectsCode(a.blob.writeAt(big - 8, enc("x")), "OffsetOverflow");
  await rejectsCode(
    a.blob.writeAt(big - 9, [enc("x"), enc("y")], { sync: true }),
    "OffsetOverflow",
  );
  await assert.rejects(a.blob.resize(Infinity), RangeError);
  await rejectsCode(a.blob.resize(big - 7), "OffsetOverflow");
  await check("after bad arguments");

  // Closes: once per handle, however many times close or dispose is called.
  await a.blob.close();
  await a.blob.close();
  await a[Symbol.asyncDispose]();
  expected.runtime_open_blobs -= 1;
  await check("after closing a twice");
  // Calls on a closed handle reject with Closed and count nothing.
  await rejectsCode(a.blob.readAt(0, 1), "Closed");
  await rejectsCode(a.blob.readAtBuf(0, 1, new Uint8Array(1)), "Closed");
  await rejectsCode(a.blob.writeAt(0, enc("x")), "Closed");
  await rejectsCode(a.blob.writeAt(0, [enc("x")], { sync: true }), "Closed");
  await rejectsCode(a.blob.resize(1), "Closed");
  await rejectsCode(a.blob.sync(), "Closed");
  await b.blob[Symbol.asyncDispose]();
  expected.runtime_open_blobs -= 1;
  await check("after closed-handle calls and disposing b");

  // `await using` on the opened result and on the blob itself.
  {
    await using opened = await storage.open("p", "c");
    await opened.blob.writeAt(0, enc("xyz"), { sync: true });
    {
      await using blob = (await storage.open("p", "d")).blob;
      await blob.resize(8);
      assert.equal((await read()).runtime_open_blobs, 2);
      await blob.close(); // then disposed again: still one decrement
    }
    assert.equal((await read()).runtime_open_blobs, 1);
  }
  expected.runtime_storage_writes += 1;
  expected.runtime_storage_write_bytes += 3;
  expected.runtime_storage_syncs += 1;
  expected.runtime_storage_resizes += 1;
  await check("after await using");

  assert.deepEqual(expected, {
    runtime_open_blobs: 0,
    runtime_storage_reads: 7,
    runtime_storage_read_bytes: 41,
    runtime_storage_writes: 7,
    runtime_storage_write_bytes: 22,
    runtime_storage_syncs: 6,
    runtime_storage_resizes: 4,
  });

  // Every metric: one data point without attributes, the right instrument kind and a
  // description.
  for (const name of NAMES) {
    const m = await metric(name);
    assert.equal(m.dataPointType, DataPointType.SUM, name);
    assert.equal(m.isMonotonic, name !== "runtime_open_blobs", name);
    assert.equal(m.dataPoints.length, 1, name);
    assert.deepEqual(m.dataPoints[0].attributes, {}, name);
    assert.ok(m.descriptor.description.length > 0, `${name} has a description`);
  }
  await shutdown();
});

test("MeteredStorage: a crash keeps handles counted until they are closed", async () => {
  const { inner, storage, read, shutdown } = sdkFixture();
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, enc("durable"), { sync: true });
  inner.crash();
  // The wrapped handle is dead; the call reaches it, counts, and rejects with Closed.
  await rejectsCode(blob.readAt(0, 1), "Closed");
  await rejectsCode(blob.sync(), "Closed");
  let v = await read();
  assert.equal(v.runtime_open_blobs, 1);
  assert.equal(v.runtime_storage_reads, 1);
  assert.equal(v.runtime_storage_syncs, 2);
  await blob.close();
  const again = await storage.open("p", "b");
  assert.equal(again.size, 7);
  await again.blob.close();
  v = await read();
  assert.equal(v.runtime_open_blobs, 0);
  await shutdown();
});

test("MeteredStorage: remove and scan pass through, uncounted", async () => {
  const { storage, read, shutdown } = sdkFixture();
  await (await storage.open("p", "b1")).blob.close();
  await (await storage.open("p", "b2")).blob.close();
  assert.deepEqual(await storage.scan("p"), [enc("b1"), enc("b2")]);
  await storage.remove("p", "b1");
  await rejectsCode(storage.remove("p", "b1"), "BlobMissing");
  await storage.remove("p");
  await rejectsCode(storage.scan("p"), "PartitionMissing");
  await rejectsCode(storage.remove("bad name"), "PartitionNameInvalid");
  assert.deepEqual(await read(), zero);
  await shutdown();
});

/** Records every instrument creation and `add`, in order, into `log`. */
function fakeMeter(log: unknown[]): Meter {
  const instrument = (kind: string) => (name: string, options?: MetricOptions) => {
    log.push(["create", kind, name, options?.description !== undefined]);
    // Deno's built-in meter (OTEL_DENO=true) throws on any value type but DOUBLE.
    assert.equal(options?.valueType, undefined);
    return {
      add(...args: [number, Attributes?]) {
        log.push(["add", name, ...args]);
      },
    };
  };
  // A plain object of our `Meter` shape: no cast.
  return {
    createCounter: instrument("Counter"),
    createUpDownCounter: instrument("UpDownCounter"),
  };
}

/** A storage whose blobs log each call and resolve with nothing. */
function fakeStorage(log: unknown[], closeFails = false): Storage {
  const blob: Blob = {
    readAt: async (...args) => (log.push(["readAt", ...args]), new IoBufsMut()),
    readAtBuf: async (...args) => (log.push(["readAtBuf", ...args]), new IoBufsMut()),
    writeAt: async (...args) => void log.push(["writeAt", ...args]),
    resize: async (...args) => void log.push(["resize", ...args]),
    sync: async () => void log.push(["sync"]),
    close: async () => {
      log.push(["close"]);
      if (closeFails) throw new Error("close failed");
    },
    [Symbol.asyncDispose]: () => blob.close(),
  };
  return {
    open: async (partition): Promise<OpenedBlob> => {
      log.push(["open", partition]);
      if (partition === "fail") throw new Error("open failed");
      return { blob, size: 5, version: 3, [Symbol.asyncDispose]: () => blob.close() };
    },
    remove: async (...args) => void log.push(["remove", ...args]),
    scan: async (...args) => (log.push(["scan", ...args]), [enc("x")]),
    close: async () => void log.push(["storage close"]),
    [Symbol.asyncDispose]: async () => {},
  };
}

test("MeteredStorage: instruments are created once, counted before the call, without attributes", async () => {
  const log: unknown[] = [];
  const storage = new MeteredStorage(fakeStorage(log), { meter: fakeMeter(log) });
  assert.deepEqual(log, [
    ["create", "UpDownCounter", "runtime_open_blobs", true],
    ["create", "Counter", "runtime_storage_reads", true],
    ["create", "Counter", "runtime_storage_read_bytes", true],
    ["create", "Counter", "runtime_storage_writes", true],
    ["create", "Counter", "runtime_storage_write_bytes", true],
    ["create", "Counter", "runtime_storage_syncs", true],
    ["create", "Counter", "runtime_storage_resizes", true],
  ]);
  log.length = 0;

  const opened = await storage.open("p", "b");
  assert.equal(opened.size, 5);
  assert.equal(opened.version, 3);
  await assert.rejects(storage.open("fail", "b"), { message: "open failed" });
  const { blob } = opened;
  const data = [enc("ab"), enc("cde")];
  const options = { sync: true };
  await blob.writeAt(4, data, options);
  await blob.readAt(1, 2);
  const target = [new Uint8Array(2)];
  await blob.readAtBuf(0, 2, target);
  await blob.resize(9);
  await blob.sync();
  await blob.close();
  await blob.close();
  assert.deepEqual(log, [
    ["open", "p"],
    ["add", "runtime_open_blobs", 1],
    ["open", "fail"],
    ["add", "runtime_storage_writes", 1],
    ["add", "runtime_storage_write_bytes", 5],
    ["add", "runtime_storage_syncs", 1],
    ["writeAt", 4, data, options],
    ["add", "runtime_storage_reads", 1],
    ["add", "runtime_storage_read_bytes", 2],
    ["readAt", 1, 2],
    ["add", "runtime_storage_reads", 1],
    ["add", "runtime_storage_read_bytes", 2],
    ["readAtBuf", 0, 2, target],
    ["add", "runtime_storage_resizes", 1],
    ["resize", 9],
    ["add", "runtime_storage_syncs", 1],
    ["sync"],
    ["add", "runtime_open_blobs", -1],
    ["close"],
    ["close"],
  ]);
  // The wrapped blob gets the caller's own objects.
  const writeCall = log[6] as unknown[];
  assert.equal(writeCall[2], data);
  assert.equal(writeCall[3], options);
  assert.equal((log[12] as unknown[])[3], target);

  log.length = 0;
  assert.deepEqual(await storage.scan("p"), [enc("x")]);
  await storage.remove("p", "b");
  assert.deepEqual(log, [["scan", "p"], ["remove", "p", "b"]]);
});

test("MeteredStorage: the gauge goes down even when the wrapped close fails", async () => {
  const log: unknown[] = [];
  const storage = new MeteredStorage(fakeStorage(log, true), { meter: fakeMeter(log) });
  const { blob } = await storage.open("p", "b");
  log.length = 0;
  await assert.rejects(blob.close(), { message: "close failed" });
  await rejectsCode(blob.sync(), "Closed");
  await assert.rejects(blob.close(), { message: "close failed" });
  assert.deepEqual(log, [["add", "runtime_open_blobs", -1], ["close"], ["close"]]);
});

test("MeteredStorage: a wrapped blob that throws synchronously still gives a rejection", async () => {
  const log: unknown[] = [];
  const inner = fakeStorage(log);
  const { blob: fake } = await inner.open("p", "b");
  const boom = (): never => {
    throw new Error("boom");
  };
  Object.assign(fake, { readAt: boom, readAtBuf: boom, writeAt: boom, resize: boom, sync: boom });
  const storage = new MeteredStorage(inner, { meter: fakeMeter(log) });
  const { blob } = await storage.open("p", "b");
  for (
    const call of [
      () => blob.readAt(0, 1),
      () => blob.readAtBuf(0, 1, new Uint8Array(1)),
      () => blob.writeAt(0, enc("x")),
      () => blob.resize(1),
      () => blob.sync(),
    ]
  ) {
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => promise = call());
    await assert.rejects(promise!, { message: "boom" });
  }
});

test("MeteredStorage: bad arguments reject exactly as the wrapped driver's", async () => {
  const plain = (await new MemoryStorage().open("p", "b")).blob;
  const metered = (await new MeteredStorage(new MemoryStorage()).open("p", "b")).blob;
  await plain.writeAt(0, enc("abcd"));
  await metered.writeAt(0, enc("abcd"));
  const big = Number.MAX_SAFE_INTEGER;
  const calls: Array<(blob: Blob) => Promise<unknown>> = [
    (b) => b.readAt(-1, 1),
    (b) => b.readAt(0, NaN),
    (b) => b.readAt(undefined as never, 1),
    (b) => b.readAt(big - 8, 1),
    (b) => b.readAt(2, 3),
    (b) => b.readAtBuf(0, 3, new Uint8Array(2)),
    (b) => b.readAtBuf(0, 3, [IoBufMut.withCapacity(1), new Uint8Array(1)]),
    (b) => b.readAtBuf(0, 1, "x" as never),
    (b) => b.readAtBuf(-0.5, 1, new Uint8Array(1)),
    (b) => b.writeAt(-1, enc("x")),
    (b) => b.writeAt(0, null as never),
    (b) => b.writeAt(0, [enc("x"), 7] as never),
    (b) => b.writeAt(0, enc("x"), null as never),
    (b) => b.writeAt(0, enc("x"), { sync: 1 } as never),
    (b) => b.writeAt(big - 8, enc("x")),
    (b) => b.resize(-1),
    (b) => b.resize(big),
  ];
  for (const [i, call] of calls.entries()) {
    const expected = await call(plain).then(() => assert.fail(`call ${i} resolved`), (e) => e);
    const actual = await call(metered).then(() => assert.fail(`call ${i} resolved`), (e) => e);
    assert.equal(actual.constructor, expected.constructor, `call ${i}`);
    assert.equal(actual.message, expected.message, `call ${i}`);
    assert.equal(actual.code, expected.code, `call ${i}`);
  }
  await plain.close();
  await metered.close();
  for (const call of [...calls, (b: Blob) => b.sync(), (b: Blob) => b.readAt(0, 1)]) {
    const expected = await call(plain).then(() => assert.fail("resolved"), (e) => e);
    const actual = await call(metered).then(() => assert.fail("resolved"), (e) => e);
    assert.equal(actual.constructor, expected.constructor);
    assert.equal(actual.code, expected.code);
  }
});

test("MeteredStorage: the constructor rejects what is not a storage", () => {
  assert.throws(() => new MeteredStorage(null as never), TypeError);
  assert.throws(() => new MeteredStorage({ open() {} } as never), TypeError);
  assert.throws(() => new MeteredStorage(new MemoryStorage(), null as never), TypeError);
});

test("MeteredStorage: with no meter and no provider everything works (no-op meter)", async () => {
  const inner = new MemoryStorage();
  const storage = new MeteredStorage(inner);
  const second = new MeteredStorage(inner, {});
  {
    await using opened = await storage.open("p", "b");
    const { blob } = opened;
    await blob.writeAt(0, [enc("hello "), enc("world")], { sync: true });
    await blob.writeAt(11, enc("!"));
    assertBytes((await blob.readAt(6, 6)).bytes(), enc("world!"));
    const target = new Uint8Array(5);
    assert.equal((await blob.readAtBuf(0, 5, target)).buffers()[0].bytes(), target);
    await blob.resize(5);
    await blob.sync();
    await rejectsCode(
      storage.open("p", "b", { versions: { min: 1, max: 1 } }),
      "BlobVersionMismatch",
    );
  }
  assert.equal((await second.open("p", "b")).size, 5);
  inner.writeRaw("p", "raw", encodeHeader(4));
  assert.equal((await second.open("p", "raw", { versions: { min: 4, max: 4 } })).version, 4);
  assert.deepEqual(await storage.scan("p"), [enc("b"), enc("raw")]);
});

test("MeteredStorage: the default meter comes from the global provider at construction", async () => {
  const restore = clearRegistry();
  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  try {
    const before = new MeteredStorage(new MemoryStorage());
    assert.equal(metrics.setGlobalMeterProvider(provider), true);
    const after = new MeteredStorage(new MemoryStorage());
    await (await before.open("p", "b")).blob.sync(); // no-op meter: not seen
    const { blob } = await after.open("p", "b");
    await blob.writeAt(0, enc("abc"));
    const { resourceMetrics } = await reader.collect();
    const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === "@blobrt/storage");
    assert.ok(scope, "meter @blobrt/storage");
    const value = (name: Name): number | undefined =>
      (scope.metrics.find((m) => m.descriptor.name === name) as SumMetricData | undefined)
        ?.dataPoints[0].value;
    assert.equal(value("runtime_open_blobs"), 1);
    assert.equal(value("runtime_storage_write_bytes"), 3);
    assert.equal(value("runtime_storage_syncs"), undefined);
    await blob.close();
  } finally {
    metrics.disable();
    restore();
    await provider.shutdown();
  }
});

/** Where `@opentelemetry/api` 1.x keeps its globals (see its `internal/global-utils`). */
const OTEL_API_KEY = Symbol.for("opentelemetry.js.api.1");
const globals = globalThis as unknown as Record<symbol, unknown>;

/**
 * Removes the API's global registry (whatever installed it: the real API, Deno's
 * built-in OpenTelemetry, a test) and returns a function that puts it back as it
 * was, so that the tests below see a clean global and leave it as they found it.
 */
function clearRegistry(): () => void {
  const had = Object.hasOwn(globals, OTEL_API_KEY);
  const saved = globals[OTEL_API_KEY];
  delete globals[OTEL_API_KEY];
  return () => {
    if (had) globals[OTEL_API_KEY] = saved;
    else delete globals[OTEL_API_KEY];
  };
}

/** Opens, writes (with sync), reads, resizes, syncs and closes one blob. */
async function workload(storage: Storage): Promise<void> {
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, [enc("ab"), enc("cde")], { sync: true });
  assertBytes((await blob.readAt(1, 3)).bytes(), enc("bcd"));
  await blob.readAtBuf(0, 2, new Uint8Array(2));
  await blob.resize(4);
  await blob.sync();
  await blob.close();
}

test("MeteredStorage: the default meter, real API and SDK: exact values at the global provider's reader", async () => {
  const restore = clearRegistry();
  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  try {
    assert.equal(metrics.setGlobalMeterProvider(provider), true);
    const storage = new MeteredStorage(new MemoryStorage());
    const { blob } = await storage.open("p", "b");
    await blob.writeAt(0, [enc("ab"), enc("cde")], { sync: true });
    await blob.writeAt(5, enc("fg"));
    assertBytes((await blob.readAt(1, 3)).bytes(), enc("bcd"));
    await blob.readAtBuf(0, 6, new Uint8Array(6));
    await blob.resize(4);
    await blob.resize(9);
    await blob.sync();
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    const scopes = resourceMetrics.scopeMetrics;
    assert.deepEqual(scopes.map((s) => s.scope.name), ["@blobrt/storage"]);
    const values = Object.fromEntries(
      (scopes[0].metrics as SumMetricData[]).map((m) => [
        m.descriptor.name,
        m.dataPoints.map((p) => p.value),
      ]),
    );
    assert.deepEqual(values, {
      runtime_open_blobs: [1],
      runtime_storage_reads: [2],
      runtime_storage_read_bytes: [9],
      runtime_storage_writes: [2],
      runtime_storage_write_bytes: [7],
      runtime_storage_syncs: [2],
      runtime_storage_resizes: [2],
    });
    await blob.close();
    const after = await reader.collect();
    const gauge = after.resourceMetrics.scopeMetrics[0].metrics.find((m) =>
      m.descriptor.name === "runtime_open_blobs"
    ) as SumMetricData;
    assert.deepEqual(gauge.dataPoints.map((p) => p.value), [0]);
  } finally {
    metrics.disable();
    restore();
    await provider.shutdown();
  }
});

test("MeteredStorage: the default meter, a provider another 1.x put in the registry (1.9, Deno's)", async () => {
  // What an application on @opentelemetry/api 1.9 leaves on globalThis after
  // `metrics.setGlobalMeterProvider(provider)`, and what Deno's built-in
  // OpenTelemetry (OTEL_DENO=true) installs: a class with a static getMeter.
  const log: unknown[] = [];
  const provider = {
    getMeter(...args: unknown[]): Meter {
      log.push(["getMeter", ...args]);
      return fakeMeter(log);
    },
  };
  class DenoStyleProvider {
    static getMeter(...args: unknown[]): Meter {
      log.push(["getMeter (static)", ...args]);
      return fakeMeter(log);
    }
  }
  for (
    const [version, metricsProvider] of [
      ["1.9.0", provider],
      ["1.0.0", provider],
      ["1.999.999", DenoStyleProvider],
    ] as const
  ) {
    const restore = clearRegistry();
    try {
      // As the API builds it: `version` read-only, the provider under `metrics`.
      const registry = Object.defineProperty({}, "version", { value: version, enumerable: true });
      globals[OTEL_API_KEY] = Object.assign(registry, { metrics: metricsProvider });
      if (version === "1.9.0") {
        // The 1.10 API we test with does not use a 1.9 registry (its minor is higher):
        // the silent loss of metrics that blobrt's own lookup avoids.
        assert.notEqual(metrics.getMeterProvider(), metricsProvider);
      }
      log.length = 0;
      const storage = new MeteredStorage(new MemoryStorage());
      assert.deepEqual(log.slice(0, 2), [
        [metricsProvider === provider ? "getMeter" : "getMeter (static)", "@blobrt/storage"],
        ["create", "UpDownCounter", "runtime_open_blobs", true],
      ], version);
      assert.equal(log.length, 8, version);
      log.length = 0;
      await workload(storage);
      assert.deepEqual(log, [
        ["add", "runtime_open_blobs", 1],
        ["add", "runtime_storage_writes", 1],
        ["add", "runtime_storage_write_bytes", 5],
        ["add", "runtime_storage_syncs", 1],
        ["add", "runtime_storage_reads", 1],
        ["add", "runtime_storage_read_bytes", 3],
        ["add", "runtime_storage_reads", 1],
        ["add", "runtime_storage_read_bytes", 2],
        ["add", "runtime_storage_resizes", 1],
        ["add", "runtime_storage_syncs", 1],
        ["add", "runtime_open_blobs", -1],
      ], version);
    } finally {
      restore();
    }
  }
});

test("MeteredStorage: the default meter, nothing (usable) registered: works, counts nothing, no throw", async () => {
  const log: unknown[] = [];
  const provider = {
    getMeter(...args: unknown[]): Meter {
      log.push(["getMeter", ...args]);
      return fakeMeter(log);
    },
  };
  const registries: Array<[string, unknown]> = [
    ["no registry", undefined],
    ["null registry", null],
    ["a registry without metrics", { version: "1.10.0" }],
    ["metrics null", { version: "1.10.0", metrics: null }],
    ["metrics without getMeter", { version: "1.10.0", metrics: {} }],
    // Versions the API's own compatibility check rejects too.
    ["no version", { metrics: provider }],
    ["version 2.0.0", { version: "2.0.0", metrics: provider }],
    ["version 0.9.0", { version: "0.9.0", metrics: provider }],
    ["a prerelease", { version: "1.10.0-rc.1", metrics: provider }],
    ["a version that is no version", { version: 1, metrics: provider }],
  ];
  for (const [what, registry] of registries) {
    const restore = clearRegistry();
    try {
      if (registry !== undefined) globals[OTEL_API_KEY] = registry;
      const storage = new MeteredStorage(new MemoryStorage());
      // A provider installed after construction is not seen.
      const late = clearRegistry();
      globals[OTEL_API_KEY] = { version: "1.10.0", metrics: provider };
      try {
        await workload(storage);
      } finally {
        late();
      }
      assert.deepEqual(log, [], what);
      // blobrt put nothing on globalThis.
      assert.equal(globals[OTEL_API_KEY], registry, what);
      assert.equal(Object.hasOwn(globals, OTEL_API_KEY), registry !== undefined, what);
    } finally {
      restore();
    }
  }
});

test("MeteredStorage: no @opentelemetry import in drivers/metered.ts; real API and SDK meters are our Meter", async () => {
  const source = await readFile(new URL("../drivers/metered.ts", import.meta.url), "utf8");
  // Drop comments: the JSDoc examples import the SDK, which is fine.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  assert.doesNotMatch(code, /from\s*["']@opentelemetry/);
  assert.doesNotMatch(code, /import\s*\(?\s*["']@opentelemetry/);
  assert.doesNotMatch(code, /require\s*\(\s*["']@opentelemetry/);
  assert.match(source, /^export interface Meter \{/m);

  // Type checks (`deno check` runs on this file): no cast needed.
  const provider = new MeterProvider();
  const sdkMeter: Meter = provider.getMeter("sdk");
  const apiMeter: Meter = metrics.getMeter("api");
  const otelMeter: OtelMeter = provider.getMeter("sdk");
  const asOurs: Meter = otelMeter;
  for (const meter of [sdkMeter, apiMeter, asOurs]) {
    const storage = new MeteredStorage(new MemoryStorage(), { meter });
    await workload(storage);
  }
  await provider.shutdown();
});
