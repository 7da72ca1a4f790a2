/**
 * Assertions shared by the test files: exact bytes, exact error codes, and
 * what a function throws.
 *
 * @module
 */

import assert from "node:assert/strict";
import { StorageError, type StorageErrorCode } from "../core/errors.ts";

/** Asserts two byte arrays are equal, fast on large inputs, with the first difference. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, context = ""): void {
  assert.ok(actual instanceof Uint8Array, `${context}: not a Uint8Array`);
  assert.equal(actual.length, expected.length, `${context}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${context}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Asserts that `promise` rejects with a `StorageError` of `code`. */
export async function rejectsCode(
  promise: Promise<unknown>,
  code: StorageErrorCode,
): Promise<StorageError> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof StorageError, `expected StorageError ${code}, got ${caught}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** Catches what `fn` throws, failing the test when it throws nothing. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail("expected a throw");
}
