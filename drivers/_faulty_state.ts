/**
 * What a `FaultyStorage` and its handles share: the generator and the checked
 * knobs, the open handles, the operations recorded for crash replay, and the
 * replay itself (which recorded operations survive a crash, and writing them
 * back). The model is described in the module docs of `./faulty.ts`.
 *
 * @module
 */

import { StorageError } from "../core/errors.ts";
import { SeededRandom } from "../core/random.ts";
import type { Storage } from "../core/types.ts";
import {
  checkConfig,
  type FaultRates,
  type FaultyConfig,
  INJECTED_FAULT_REASON,
  type PartialWriteMode,
} from "./faulty_config.ts";

/** An unsynced write (or a durable sync write) or resize, as issued to the inner blob. */
export type Op =
  | { seq: number; kind: "write"; offset: number; data: Uint8Array; durable: boolean }
  | { seq: number; kind: "resize"; length: number };

/** One blob file: shared by the handles opened on it until it is removed. */
export interface Generation {
  /** Its partition. */
  partition: string;
  /** Its name, as bytes (a copy). */
  name: Uint8Array;
  /** Its name in lowercase hex, as fault errors report it. */
  hex: string;
  /** Its version, as the first open reported it. */
  version: number;
  /** Set once it is removed: nothing of it is recorded or replayed any more. */
  removed: boolean;
}

/** What the shared state needs of an open handle. */
export interface Handle {
  /** The blob file the handle is open on. */
  readonly gen: Generation;
  /**
   * Closes the handle (the inner one is the caller's business).
   *
   * @returns Its operations since its last successful sync, in issue order.
   */
  kill(): Op[];
  /** Drops the handle's recorded operations: its blob was removed. */
  forget(): void;
}

/** A recorded operation and the blob it was issued to. */
export interface Pending {
  /** The blob. */
  gen: Generation;
  /** The operation. */
  op: Op;
}

/** The faults of one `FaultyStorage`: its generator, knobs and open handles. */
export class Core {
  /** The one generator every fault and crash draw comes from. */
  readonly rng: SeededRandom;
  /** Every rate, 0 when left out. */
  readonly rates: Required<FaultRates>;
  /** What a failed write keeps. */
  readonly partialWrites: PartialWriteMode;
  /** Whether a failed resize first resizes part of the way. */
  readonly partialResizes: boolean;
  /** At a crash, the probability that an unsynced operation is kept. */
  readonly retention: number;
  /** At a crash, the probability that a kept unsynced write is torn. */
  readonly tearing: number;
  /** Whether to record operations for crash replay (a crash can keep some). */
  readonly logging: boolean;
  /** The open handles. */
  readonly handles: Set<Handle> = new Set();
  /** The issue number of the next recorded operation. */
  seq = 0;

  /**
   * Checks `config` and seeds the generator.
   *
   * @param config The configuration as given.
   * @param canCrash Whether the inner storage has `crash()`.
   */
  constructor(config: FaultyConfig, canCrash: boolean) {
    const c = checkConfig(config);
    this.rng = new SeededRandom(config.seed);
    this.rates = c.rates;
    this.partialWrites = c.partialWrites;
    this.partialResizes = c.partialResizes;
    this.retention = c.retention;
    this.tearing = c.tearing;
    this.logging = canCrash && c.retention > 0;
  }

  /**
   * The first half of a crash, before the inner storage crashes: closes
   * every handle and collects what they recorded.
   *
   * @returns The recorded operations of every handle, not yet in issue order.
   */
  killAll(): Pending[] {
    const pending: Pending[] = [];
    for (const handle of this.handles) {
      for (const op of handle.kill()) pending.push({ gen: handle.gen, op });
    }
    this.handles.clear();
    return pending;
  }

  /**
   * The second half: draws, in issue order, which operations survive and
   * which kept writes are torn. A `{ sync: true }` write is always kept.
   *
   * @param pending What {@linkcode Core.killAll} returned.
   * @returns For each blob with at least one kept unsynced operation, its
   *   kept operations in issue order.
   */
  survivors(pending: Pending[]): Map<Generation, Op[]> {
    pending.sort((x, y) => x.op.seq - y.op.seq);
    const plans = new Map<Generation, { ops: Op[]; replay: boolean }>();
    for (const { gen, op } of pending) {
      let kept: Op | undefined = op;
      const durable = op.kind === "write" && op.durable;
      if (!durable) {
        if (!this.rng.chance(this.retention)) kept = undefined;
        else if (op.kind === "write" && this.rng.chance(this.tearing)) {
          const k = this.rng.below(op.data.length);
          kept = k === 0 ? undefined : { ...op, data: op.data.subarray(0, k) };
        }
      }
      if (kept === undefined) continue;
      let plan = plans.get(gen);
      if (plan === undefined) plans.set(gen, plan = { ops: [], replay: false });
      plan.ops.push(kept);
      if (!durable) plan.replay = true;
    }
    const replays = new Map<Generation, Op[]>();
    for (const [gen, plan] of plans) if (plan.replay) replays.set(gen, plan.ops);
    return replays;
  }
}

/**
 * Applies the survivors of a crash to the inner storage's durable image: per
 * blob, in order, on a handle opened at the blob's version, then synced.
 *
 * @param inner The inner storage, after its crash.
 * @param plans What {@linkcode Core.survivors} returned.
 */
export async function replay(inner: Storage, plans: Map<Generation, Op[]>): Promise<void> {
  for (const [gen, ops] of plans) {
    const versions = { min: gen.version, max: gen.version };
    const { blob } = await inner.open(gen.partition, gen.name, { versions });
    try {
      for (const op of ops) {
        if (op.kind === "write") await blob.writeAt(op.offset, op.data);
        else await blob.resize(op.length);
      }
      await blob.sync();
    } finally {
      await blob.close();
    }
  }
}

/**
 * An injected fault.
 *
 * @param partition The partition involved.
 * @param blob The blob involved, in hex, if any.
 * @returns A `StorageError` with code `Io` and reason `INJECTED_FAULT_REASON`.
 */
export function injected(partition: string, blob?: string): StorageError {
  return new StorageError("Io", { reason: INJECTED_FAULT_REASON, partition, blob });
}
