/**
 * {@linkcode RangeGate}: keeps one handle's operations that span an `await`
 * (a read sent to a worker thread, a large write done in pieces, an
 * operation waiting its turn) from interleaving with the operations they
 * conflict with, so a read racing a write of the same range sees the old or
 * the new bytes, never a mix, and writes to overlapping ranges land in call
 * order.
 *
 * Two operations conflict when their byte ranges overlap and one of them
 * writes. An operation that must wait holds its range first, then waits for
 * the conflicting operations held before it: later ones queue behind it, and
 * no two wait for each other. Operations that run synchronously and conflict
 * with nothing held never touch the gate beyond {@linkcode RangeGate.idle}.
 *
 * @module
 */

/** A held range. */
export interface Hold {
  readonly seq: number;
  readonly start: number;
  readonly end: number;
  readonly write: boolean;
  readonly done: Promise<void>;
  release(): void;
}

/** The held ranges of one handle; see the module docs. */
export class RangeGate {
  #held: Hold[] = [];
  #seq = 0;

  /** Whether nothing is held: the fast path checks only this. */
  get idle(): boolean {
    return this.#held.length === 0;
  }

  /** Holds `[start, end)` (for writing, or reading) until `release()`. */
  hold(start: number, end: number, write: boolean): Hold {
    let release!: () => void;
    const done = new Promise<void>((resolve) => release = resolve);
    const hold: Hold = {
      seq: this.#seq++,
      start,
      end,
      write,
      done,
      release: () => {
        const i = this.#held.indexOf(hold);
        if (i >= 0) this.#held.splice(i, 1);
        release();
      },
    };
    this.#held.push(hold);
    return hold;
  }

  /** Whether `[start, end)` conflicts with anything held now. */
  conflicts(start: number, end: number, write: boolean): boolean {
    for (const h of this.#held) {
      if ((write || h.write) && h.start < end && start < h.end) return true;
    }
    return false;
  }

  /**
   * Waits until no range held before `hold` (or before now, without one)
   * conflicts with `[start, end)` (`write`: for writing). With `[0, Infinity)`
   * for reading, it waits for every earlier write (what `sync` needs).
   */
  async settle(
    start: number,
    end: number,
    write: boolean,
    hold?: Hold,
  ): Promise<void> {
    const before = hold?.seq ?? this.#seq;
    for (;;) {
      const h = this.#held.find((h) =>
        h.seq < before && (write || h.write) && h.start < end && start < h.end
      );
      if (h === undefined) return;
      await h.done;
    }
  }
}
