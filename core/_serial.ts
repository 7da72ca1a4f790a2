/**
 * {@linkcode Serial}: runs asynchronous operations one at a time, in call
 * order. The filesystem engine and `FaultyStorage` serialise `open`, `remove`
 * and `scan` with it.
 *
 * @module
 */

const noop = () => {};

/** A queue of operations that run one after another, each after every earlier one settled. */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `op` once every operation queued before it has settled.
   *
   * @param op The operation.
   * @returns What `op` resolves or rejects with.
   */
  run<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op);
    this.#tail = run.then(noop, noop);
    return run;
  }
}
