/**
 * Explicit time limits for tests that can take more than a second on a busy
 * machine (child processes, large data, many seeds). No test may lean on a
 * runner's default limit (Bun's is 5 s per test, which a test near a second
 * idle exceeds at load 8 on two cores); these are generous on purpose: they
 * catch a hang, not a slow machine.
 *
 * ```ts ignore
 * import { test } from "node:test";
 * import { slow, SLOW } from "./limits.ts";
 *
 * slow.test("spawns a child", async () => {}); // test(name, SLOW, fn)
 * test("large, on some machines only", { skip: false, ...SLOW }, async () => {});
 * ```
 *
 * @module
 */

import { test } from "node:test";

/** The limit of a test that may take seconds, in milliseconds: two minutes. */
export const SLOW_MS = 120_000;

/** Options of a test that may take seconds: `{ timeout: SLOW_MS }`. */
export const SLOW: { timeout: number } = { timeout: SLOW_MS };

/**
 * `slow.test(name, fn)` registers `test(name, SLOW, fn)`. (Spelled as a member
 * call so that the formatter keeps a long `test(` line as it is.)
 */
export const slow: { test(name: string, fn: () => unknown): void } = {
  test(name, fn) {
    test(name, SLOW, fn as () => Promise<void>);
  },
};
