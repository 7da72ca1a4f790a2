/**
 * Which JavaScript runtime is running: the one place blobrt looks.
 *
 * @module
 */

/** A runtime blobrt knows. */
export type Runtime = "deno" | "bun" | "node" | "unknown";

/**
 * Detects the runtime from its globals, without touching any of them beyond
 * checking that they exist.
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
