/**
 * `node:crypto`'s `createHash("sha256")` for the browser bundle of
 * `tests/audited_test.ts` (which computes its expected chain states with it):
 * the JavaScript SHA-256 of `core/_sha256.ts`, which the worker checks against
 * WebCrypto in the same run ("sha256: …").
 *
 * @module
 */

import { Sha256, type Sha256Hash } from "../../core/_sha256.ts";

/** `createHash`, SHA-256 only. */
export function createHash(algorithm: string): Sha256Hash {
  if (algorithm !== "sha256") throw new Error(`unsupported hash in the browser: ${algorithm}`);
  return new Sha256();
}
