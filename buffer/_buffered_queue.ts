/**
 * {@linkcode OpQueue}: how `BufferedReader` and `BufferedWriter` keep their
 * single-caller state safe from callers that forget to `await`. Operations run
 * one at a time, in call order; while none is running, a caller may do work
 * that needs no I/O synchronously (the fast paths), skipping the queue.
 *
 * @module
 */

import type { Where } from "./_cache_core.ts";

const noop = () => {};

/** A queue of asynchronous operations that run one after another, in call order. */
export class OpQueue {
  /** How many queued operations have not finished. */
  #pending = 0;
  /** The settling of the last queued operation. */
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Whether no queued operation is waiting or running: a caller may act
   * synchronously. Already true when the caller's `await` of the last
   * operation resumes.
   */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /**
   * Runs `op` once every operation queued before it has finished (at once when idle).
   *
   * @param op The operation.
   * @returns What `op` resolves or rejects with.
   */
  run<T>(op: () => Promise<T>): Promise<T> {
    const wrapped = async (): Promise<T> => {
      try {
        return await op();
      } finally {
        this.#pending--;
      }
    };
    const idle = this.#pending === 0;
    this.#pending++;
    const result = idle ? wrapped() : this.#tail.then(wrapped);
    this.#tail = result.then(noop, noop);
    return result;
  }
}

/**
 * Checks that `blob` is an object with the given methods.
 *
 * @param blob The value to check.
 * @param methods The method names it must have.
 * @param who The constructor, for the message.
 * @throws {TypeError} When it is not.
 */
export function checkBlobLike(blob: unknown, methods: readonly string[], who: string): void {
  const ok = typeof blob === "object" && blob !== null &&
    methods.every((m) => typeof (blob as Record<string, unknown>)[m] === "function");
  if (!ok) throw new TypeError(`${who} needs a Blob (an object with ${methods.join(", ")})`);
}

/**
 * Checks a positive safe integer option.
 *
 * @param n The value.
 * @param what Its name, for the message.
 * @returns `n`.
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is not a positive safe integer.
 */
export function checkPositive(n: unknown, what: string): number {
  if (typeof n !== "number") throw new TypeError(`${what} must be a number, got ${typeof n}`);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${what} must be a positive safe integer, got ${n}`);
  }
  return n;
}

/**
 * Checks that `options` is an object.
 *
 * @param options The value.
 * @param who The constructor, for the message.
 * @throws {TypeError} When it is not.
 */
export function checkOptions(options: unknown, who: string): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${who} options must be an object`);
  }
}

export type { Where };

/**
 * The `partition` and `blob` of a buffer's options, checked: strings when
 * given, for the errors the buffer raises itself (a `Blob` does not say which
 * blob it is).
 */
export function whereOf(options: { partition?: unknown; blob?: unknown }): Where {
  const where: { partition?: string; blob?: string } = {};
  if (options.partition !== undefined) {
    if (typeof options.partition !== "string") throw new TypeError("partition must be a string");
    where.partition = options.partition;
  }
  if (options.blob !== undefined) {
    if (typeof options.blob !== "string") throw new TypeError("blob must be a string");
    where.blob = options.blob;
  }
  return where;
}
