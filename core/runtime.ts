/**
 * Which JavaScript runtime is running: the one place blobrt looks.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@blobrt/storage/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(detectRuntime(), "deno"); // doc tests run under Deno
 * assert.equal(detectRuntime({ Bun: {} }), "bun");
 * ```
 *
 * @module
 */

/** A runtime blobrt knows. */
export type Runtime = "deno" | "bun" | "node" | "unknown";

/**
 * Detects the runtime from its globals, without touching any of them beyond
 * checking that they exist.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@blobrt/storage/runtime";
 * import assert from "node:assert/strict";
 *
 * assert.equal(detectRuntime({ process: { versions: { node: "20.0.0" } } }), "node");
 * assert.equal(detectRuntime({}), "unknown");
 * ```
 *
 * @param global The global object to inspect; default `globalThis`.
 * @returns The runtime.
 */
export function detectRuntime(global: object = globalThis): Runtime {
  if ("Deno" in global) return "deno";
  if ("Bun" in global) return "bun";
  const process = (global as { process?: { versions?: { node?: unknown } } }).process;
  return typeof process?.versions?.node === "string" ? "node" : "unknown";
}
