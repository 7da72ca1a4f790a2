/**
 * {@linkcode MeteredStorage} (`@blobrt/storage/metered`): wraps any
 * {@linkcode Storage} and counts its blob I/O through the OpenTelemetry metrics
 * API, with the metric names of commonware-runtime's metered storage:
 *
 * | Metric                        | Instrument      | Counts                                          |
 * | ----------------------------- | --------------- | ----------------------------------------------- |
 * | `runtime_open_blobs`          | `UpDownCounter` | blobs open now: +1 per successful `open`, -1 on the first `close` of the handle |
 * | `runtime_storage_reads`       | `Counter`       | `readAt` and `readAtBuf` calls                  |
 * | `runtime_storage_read_bytes`  | `Counter`       | their `length`s                                 |
 * | `runtime_storage_writes`      | `Counter`       | `writeAt` calls                                 |
 * | `runtime_storage_write_bytes` | `Counter`       | the bytes they were given (all chunks)          |
 * | `runtime_storage_syncs`       | `Counter`       | `sync` calls and `{ sync: true }` writes        |
 * | `runtime_storage_resizes`     | `Counter`       | `resize` calls                                  |
 *
 * They are recorded without attributes, with the default value type (Deno's
 * built-in meter rejects `ValueType.INT`); every value is an integer.
 *
 * What is counted, exactly:
 * - Counters count *calls*, bumped **before** the call reaches the wrapped
 *   storage, so a call that the wrapped storage then rejects (a read past the
 *   end, an I/O error, a handle closed by `MemoryStorage.crash()`) is counted.
 *   A read counts `length` bytes, not what was transferred; a zero-length read
 *   or an empty write counts one call and 0 bytes; an empty `{ sync: true }`
 *   write counts one write and one sync.
 * - **Bad arguments count nothing.** Every blob method first runs the argument
 *   checks that every driver runs (`core/args.ts`), in the same order: a call
 *   with bad arguments, one on a handle this wrapper has closed, one whose end
 *   overflows, or a `readAtBuf` into too little capacity rejects exactly as the
 *   drivers reject it (`TypeError`, `RangeError`, `Closed`, `OffsetOverflow`)
 *   and neither counts nor reaches the wrapped storage.
 * - `runtime_open_blobs` goes up only when `open` resolves (a rejected `open`
 *   changes nothing) and goes down once per handle, on the first `close()` or
 *   `[Symbol.asyncDispose]()` (of the blob or of the opened result), whether or
 *   not the wrapped `close` then succeeds. A handle killed underneath (by
 *   `MemoryStorage.crash()`) stays counted until it is closed through this
 *   wrapper.
 * - `remove` and `scan` are passed through and not counted.
 *
 * **The meter, and no dependency.** blobrt does not import `@opentelemetry/api`:
 * {@linkcode Meter} is our own structural type, the two methods of an
 * OpenTelemetry `Meter` this wrapper calls, so a `Meter` of any 1.x of the API
 * (or of an SDK's `MeterProvider.getMeter()`) is accepted as is, and the
 * application's own copy of the API is the only one. The meter is resolved
 * when the storage is constructed: `options.meter`, or else the meter
 * `@blobrt/storage` of the global meter provider, looked up as the API itself
 * looks it up: the API's 1.x registry `globalThis[Symbol.for("opentelemetry.js.api.1")]`,
 * used when its `version` is a release `1.x.y`, and its `metrics` property, the
 * provider that `metrics.setGlobalMeterProvider()` (any 1.x) or Deno's built-in
 * OpenTelemetry (`OTEL_DENO=true`) put there. Install the provider before
 * constructing; without one the instruments are our own no-ops and the wrapper
 * costs a few function calls per operation. A provider installed later is not
 * seen by storages constructed earlier. The instruments are created once per
 * `MeteredStorage`; two of them on the same meter add into the same metrics.
 *
 * @example Wrapping a storage (no provider installed: the metrics go nowhere)
 * ```ts
 * import { MeteredStorage } from "@blobrt/storage/metered";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import assert from "node:assert/strict";
 *
 * const storage = new MeteredStorage(new MemoryStorage());
 * await using opened = await storage.open("journal", "segment-0");
 * await opened.blob.writeAt(0, new TextEncoder().encode("hello"), { sync: true });
 * assert.equal(new TextDecoder().decode((await opened.blob.readAt(0, 5)).bytes()), "hello");
 * ```
 *
 * @module
 */

import { checkRead, checkReadBuf, checkResize, checkStorage, checkSync } from "../core/args.ts";
import { checkWrite } from "../core/args.ts";
import type { IoBufsMut } from "../core/io_bufs_mut.ts";
import { blobNameBytes, toHex } from "../core/names.ts";
import type { Blob, BlobName, OpenedBlob, OpenOptions, Storage } from "../core/types.ts";
import type { ReadTarget, WriteData, WriteOptions } from "../core/types.ts";
import { openedBlob } from "../core/opened.ts";
import { closeInner } from "../core/_close.ts";

/** The name of the meter {@linkcode MeteredStorage} takes from the global provider. */
const METER_NAME = "@blobrt/storage";

/**
 * The options {@linkcode MeteredStorage} passes when it creates an instrument:
 * the part of OpenTelemetry's `MetricOptions` it uses. No `valueType` is passed
 * (Deno's built-in meter rejects `ValueType.INT`); every value is an integer.
 */
export interface MeterInstrumentOptions {
  /** What the instrument counts, e.g. `"Total number of disk reads"`. */
  description?: string;
  /** The unit, in UCUM notation: `"By"` for bytes, `"{read}"` for a count of reads. */
  unit?: string;
}

/**
 * An instrument {@linkcode MeteredStorage} records on: the `add` of an
 * OpenTelemetry `Counter` or `UpDownCounter`.
 */
export interface MeterInstrument {
  /**
   * Adds `value` to the instrument. {@linkcode MeteredStorage} passes integers
   * (non-negative ones to counters) and no attributes.
   *
   * @param value The amount to add.
   * @param attributes Attributes of the data point (never passed by blobrt).
   */
  add(value: number, attributes?: Record<string, unknown>): void;
}

/**
 * The part of an OpenTelemetry `Meter` that {@linkcode MeteredStorage} uses.
 * A structural type of our own, so that blobrt does not depend on
 * `@opentelemetry/api`: a `Meter` of any 1.x of the API, or the one an SDK's
 * `MeterProvider.getMeter()` returns, is assignable to it as is.
 */
export interface Meter {
  /**
   * Creates a monotonic counter.
   *
   * @param name The metric name.
   * @param options Description and unit.
   * @returns The counter.
   */
  createCounter(name: string, options?: MeterInstrumentOptions): MeterInstrument;
  /**
   * Creates a counter that can go up and down.
   *
   * @param name The metric name.
   * @param options Description and unit.
   * @returns The counter.
   */
  createUpDownCounter(name: string, options?: MeterInstrumentOptions): MeterInstrument;
}

/**
 * The key under which `@opentelemetry/api` 1.x keeps its global registry:
 * `Symbol.for(\`opentelemetry.js.api.${major}\`)` in its `internal/global-utils`.
 */
const OTEL_API_KEY = Symbol.for("opentelemetry.js.api.1");

/**
 * The registry versions we use: those the API's own check (`isCompatible` in
 * its `internal/semver`) accepts for a reader at 1.0.0, i.e. major 1, any
 * minor (at least the reader's 0), no prerelease tag, and a registry without a
 * `version` is not used. 1.0 is all we need, as we call only `getMeter`,
 * `createCounter`, `createUpDownCounter` and `add`; so a registry of any 1.x is
 * used, Deno's built-in one (`"1.999.999"`) included.
 */
const COMPATIBLE_VERSION = /^1\.\d+\.\d+$/;

/** What we read of the API's registry (it also holds `trace`, `context`, ...). */
interface OtelRegistry {
  version?: unknown;
  metrics?: { getMeter?: unknown } | null;
}

/** The instrument and meter used when there is no meter provider: record nothing. */
const NOOP_INSTRUMENT: MeterInstrument = Object.freeze({ add(): void {} });
const NOOP_METER: Meter = Object.freeze({
  createCounter: (): MeterInstrument => NOOP_INSTRUMENT,
  createUpDownCounter: (): MeterInstrument => NOOP_INSTRUMENT,
});

/**
 * The meter `@blobrt/storage` of the global meter provider of
 * `@opentelemetry/api` 1.x, found without importing it: what `metrics.getMeter()`
 * returns, except that without a (compatible) provider it is our no-op meter.
 */
function globalMeter(): Meter {
  const registry = (globalThis as unknown as Record<symbol, OtelRegistry | null | undefined>)[
    OTEL_API_KEY
  ];
  if (registry == null) return NOOP_METER;
  const { version, metrics: provider } = registry;
  if (typeof version !== "string" || !COMPATIBLE_VERSION.test(version)) return NOOP_METER;
  if (typeof provider?.getMeter !== "function") return NOOP_METER;
  return (provider as { getMeter(name: string): Meter }).getMeter(METER_NAME);
}

/** Options of {@linkcode MeteredStorage}. */
export interface MeteredStorageOptions {
  /**
   * The meter to create the instruments on: any object with the shape of an
   * OpenTelemetry `Meter` (see {@linkcode Meter}). Default: the meter
   * `@blobrt/storage` of the application's global meter provider (set with
   * `metrics.setGlobalMeterProvider()` of any `@opentelemetry/api` 1.x), looked
   * up when the storage is constructed; without a provider, a no-op meter.
   */
  meter?: Meter;
}

/** The seven instruments, created once per storage and shared by its blobs. */
interface Instruments {
  openBlobs: MeterInstrument;
  reads: MeterInstrument;
  readBytes: MeterInstrument;
  writes: MeterInstrument;
  writeBytes: MeterInstrument;
  syncs: MeterInstrument;
  resizes: MeterInstrument;
}

function createInstruments(meter: Meter): Instruments {
  return {
    openBlobs: meter.createUpDownCounter("runtime_open_blobs", {
      description: "Number of open blobs",
      unit: "{blob}",
    }),
    reads: meter.createCounter("runtime_storage_reads", {
      description: "Total number of disk reads",
      unit: "{read}",
    }),
    readBytes: meter.createCounter("runtime_storage_read_bytes", {
      description: "Total amount of data read from disk",
      unit: "By",
    }),
    writes: meter.createCounter("runtime_storage_writes", {
      description: "Total number of disk writes",
      unit: "{write}",
    }),
    writeBytes: meter.createCounter("runtime_storage_write_bytes", {
      description: "Total amount of data written to disk",
      unit: "By",
    }),
    syncs: meter.createCounter("runtime_storage_syncs", {
      description: "Total number of disk syncs, including synced writes",
      unit: "{sync}",
    }),
    resizes: meter.createCounter("runtime_storage_resizes", {
      description: "Total number of blob resizes",
      unit: "{resize}",
    }),
  };
}

/**
 * A {@linkcode Storage} that wraps another one and counts open blobs, reads,
 * read bytes, writes, written bytes, syncs and resizes through OpenTelemetry
 * (see the module docs for the metrics and exactly what they count). Every
 * call is passed to the wrapped storage; results and errors are its own.
 *
 * @example Reading the metrics with the OpenTelemetry SDK
 * ```ts
 * import { MeteredStorage } from "@blobrt/storage/metered";
 * import { MemoryStorage } from "@blobrt/storage/memory";
 * import { MeterProvider, MetricReader, type SumMetricData } from "@opentelemetry/sdk-metrics";
 * import assert from "node:assert/strict";
 *
 * class Reader extends MetricReader {
 *   protected override async onShutdown(): Promise<void> {}
 *   protected override async onForceFlush(): Promise<void> {}
 * }
 * const reader = new Reader();
 * const provider = new MeterProvider({ readers: [reader] });
 * const storage = new MeteredStorage(new MemoryStorage(), { meter: provider.getMeter("app") });
 *
 * const { blob } = await storage.open("p", "b");
 * await blob.writeAt(0, [new Uint8Array(3), new Uint8Array(4)], { sync: true });
 * await blob.readAt(2, 5);
 *
 * const { resourceMetrics } = await reader.collect();
 * const value = (name: string): number | undefined => {
 *   const m = resourceMetrics.scopeMetrics[0].metrics.find((m) => m.descriptor.name === name);
 *   return (m as SumMetricData | undefined)?.dataPoints[0]?.value;
 * };
 * assert.equal(value("runtime_open_blobs"), 1);
 * assert.equal(value("runtime_storage_writes"), 1);
 * assert.equal(value("runtime_storage_write_bytes"), 7);
 * assert.equal(value("runtime_storage_syncs"), 1);
 * assert.equal(value("runtime_storage_read_bytes"), 5);
 * await blob.close();
 * await provider.shutdown();
 * ```
 */
export class MeteredStorage implements Storage {
  readonly #inner: Storage;
  readonly #instruments: Instruments;
  /** The handles open now, for `close`. */
  readonly #handles = new Set<MeteredBlob>();

  /**
   * Wraps `inner`, creating the seven instruments on `options.meter` or, by
   * default, on the global provider's meter `@blobrt/storage`.
   *
   * @param inner The storage to wrap (any driver or wrapper).
   * @param options The meter.
   * @throws {TypeError} When `inner` is not a storage or `options` is not an object.
   */
  constructor(inner: Storage, options: MeteredStorageOptions = {}) {
    checkStorage(inner, "MeteredStorage");
    if (typeof options !== "object" || options === null) {
      throw new TypeError("MeteredStorage options must be an object");
    }
    this.#inner = inner;
    this.#instruments = createInstruments(options.meter ?? globalMeter());
  }

  /**
   * Opens or creates a blob through the wrapped storage (see
   * {@linkcode Storage.open}). On success `runtime_open_blobs` goes up by one
   * and the handle is metered; a rejected open counts nothing.
   *
   * @param partition Partition name.
   * @param name Blob name.
   * @param options Accepted versions.
   * @returns The metered handle, logical size and version.
   */
  async open(partition: string, name: BlobName, options?: OpenOptions): Promise<OpenedBlob> {
    const opened = await this.#inner.open(partition, name, options);
    // The name is valid (the wrapped storage opened it); built once per handle.
    const where = { partition, blob: toHex(blobNameBytes(name)) };
    const blob = new MeteredBlob(opened.blob, this.#instruments, where, this.#handles);
    this.#instruments.openBlobs.add(1);
    return openedBlob(blob, opened.size, opened.version);
  }

  /**
   * Removes a blob, or the whole partition when `name` is omitted, through the
   * wrapped storage. Not counted.
   *
   * @param partition Partition name.
   * @param name Blob name; omit to remove the partition.
   */
  async remove(partition: string, name?: BlobName): Promise<void> {
    return await this.#inner.remove(partition, name);
  }

  /**
   * The blob names of a partition, sorted bytewise, from the wrapped storage.
   * Not counted.
   *
   * @param partition Partition name.
   * @returns The names.
   */
  async scan(partition: string): Promise<Uint8Array<ArrayBuffer>[]> {
    return await this.#inner.scan(partition);
  }

  /**
   * Closes every handle opened through this wrapper (`runtime_open_blobs`
   * goes down by each), then the wrapped storage.
   *
   * @example
   * ```ts
   * import { MeteredStorage } from "@blobrt/storage/metered";
   * import { MemoryStorage } from "@blobrt/storage/memory";
   * import assert from "node:assert/strict";
   *
   * const storage = new MeteredStorage(new MemoryStorage());
   * const { blob } = await storage.open("p", "b");
   * await storage.close();
   * await assert.rejects(blob.sync(), { code: "Closed" });
   * ```
   *
   * @returns A promise that resolves once the handles and the wrapped storage are closed.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#handles].map((blob) => blob.close()));
    await closeInner(this.#inner);
  }

  /**
   * Same as {@linkcode MeteredStorage.close}, for `await using`.
   *
   * @returns The promise of `close()`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A metered handle: checks arguments, counts, then calls the wrapped blob.
 *
 * The I/O methods are not `async`: each returns the wrapped blob's own promise,
 * and turns a throw (a failed check) into a rejection, which saves a promise and
 * a microtask per call. No closure or attribute object is created per call.
 */
class MeteredBlob implements Blob {
  readonly #inner: Blob;
  readonly #m: Instruments;
  /** What this handle's own `Closed` and `OffsetOverflow` errors carry, as the drivers' do. */
  readonly #where: { readonly partition: string; readonly blob: string };
  #closed = false;
  readonly #handles: Set<MeteredBlob>;

  constructor(
    inner: Blob,
    instruments: Instruments,
    where: { readonly partition: string; readonly blob: string },
    handles: Set<MeteredBlob>,
  ) {
    this.#inner = inner;
    this.#m = instruments;
    this.#where = where;
    this.#handles = handles;
    handles.add(this);
  }

  readAt(offset: number, length: number): Promise<IoBufsMut> {
    try {
      checkRead(offset, length, this.#closed, this.#where);
      this.#m.reads.add(1);
      this.#m.readBytes.add(length);
      return this.#inner.readAt(offset, length);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  readAtBuf(offset: number, length: number, target: ReadTarget): Promise<IoBufsMut> {
    try {
      checkReadBuf(offset, length, target, this.#closed, this.#where);
      this.#m.reads.add(1);
      this.#m.readBytes.add(length);
      // The caller's target, not the checked one: the wrapped blob returns the
      // caller's buffer objects and keeps its own fast path for a plain buffer.
      return this.#inner.readAtBuf(offset, length, target);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  writeAt(offset: number, data: WriteData, options?: WriteOptions): Promise<void> {
    try {
      let length: number;
      let sync = false;
      if (data instanceof Uint8Array && options === undefined) {
        // The common case, checked as `checkWrite` checks it, without its allocations.
        checkRead(offset, data.length, this.#closed, this.#where);
        length = data.length;
      } else {
        ({ length, sync } = checkWrite(offset, data, options, this.#closed, this.#where));
      }
      this.#m.writes.add(1);
      this.#m.writeBytes.add(length);
      if (sync) this.#m.syncs.add(1);
      return this.#inner.writeAt(offset, data, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  resize(length: number): Promise<void> {
    try {
      checkResize(length, this.#closed, this.#where);
      this.#m.resizes.add(1);
      return this.#inner.resize(length);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  sync(): Promise<void> {
    try {
      checkSync(this.#closed, this.#where);
      this.#m.syncs.add(1);
      return this.#inner.sync();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#handles.delete(this);
      this.#m.openBlobs.add(-1);
    }
    // Every close reaches the wrapped blob, which treats a second one as a no-op.
    return await this.#inner.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
