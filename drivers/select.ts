/**
 * {@linkcode createStorage}: the storage for the running runtime, chosen once at
 * import time, or the one you name.
 *
 * Defaults, by measurement (bench/RESULTS.md): on Deno, {@linkcode NodeStorage}
 * (`node:fs` positional calls are one `pread`/`pwrite` each, where
 * `Deno.FsFile` needs a `seek` and a `read`/`write`); on Bun,
 * {@linkcode BunStorage}; on Node and anything else, {@linkcode NodeStorage}.
 *
 * @example
 * ```ts
 * import { createStorage, DEFAULT_DRIVER } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_DRIVER, "node"); // doc tests run under Deno
 * const memory = createStorage({ driver: "memory" });
 * await using opened = await memory.open("p", "b");
 * assert.equal(opened.size, 0);
 * ```
 *
 * @module
 */

import { detectRuntime } from "../core/_runtime.ts";
import type { BlobLayout } from "../core/header.ts";
import type { Storage } from "../core/types.ts";
import { BunStorage } from "./bun.ts";
import { DenoStorage } from "./deno.ts";
import { MemoryStorage } from "./memory.ts";
import { NodeStorage } from "./node.ts";

/** The drivers {@linkcode createStorage} can build. */
export type DriverName = "memory" | "deno" | "bun" | "node";

/** Options of {@linkcode createStorage}. */
export interface CreateStorageOptions {
  /** Root directory; required by every driver but `"memory"`. */
  directory?: string;
  /** Force a driver; default {@linkcode DEFAULT_DRIVER}. */
  driver?: DriverName;
  /**
   * The header of the blobs `open` creates or resets: `"v0"` (default, read by
   * every commonware release) or `"v1"` (commonware main's 4096-byte header).
   * Existing blobs keep their own layout.
   */
  layout?: BlobLayout;
}

/** The driver chosen for the running runtime when the module was imported. */
export const DEFAULT_DRIVER: DriverName = detectRuntime() === "bun" ? "bun" : "node";

/**
 * Builds a storage: the driver chosen for this runtime, or `options.driver`.
 *
 * @example
 * ```ts
 * import { createStorage, NodeStorage } from "@blobrt/storage";
 * import assert from "node:assert/strict";
 *
 * const directory = await Deno.makeTempDir();
 * assert.ok(createStorage({ directory }) instanceof NodeStorage);
 * assert.equal((createStorage({ directory, layout: "v1" }) as NodeStorage).layout, "v1");
 * assert.throws(() => createStorage({}), TypeError);
 * assert.throws(() => createStorage({ directory, driver: "zip" as never }), RangeError);
 * assert.throws(() => createStorage({ directory, layout: "v9" as never }), RangeError);
 * await Deno.remove(directory, { recursive: true });
 * ```
 *
 * @param options `{ directory }`, and optionally `{ driver, layout }`.
 * @returns The storage.
 * @throws {TypeError} When a filesystem driver gets no `directory`.
 * @throws {RangeError} When `driver` is not a known name or `layout` neither `"v0"` nor `"v1"`.
 */
export function createStorage(options: CreateStorageOptions): Storage {
  const driver = options?.driver ?? DEFAULT_DRIVER;
  const layout = options?.layout;
  if (driver === "memory") return new MemoryStorage({ layout });
  const directory = options?.directory;
  if (typeof directory !== "string" || directory === "") {
    throw new TypeError(`the ${driver} driver needs options.directory`);
  }
  switch (driver) {
    case "deno":
      return new DenoStorage({ directory, layout });
    case "bun":
      return new BunStorage({ directory, layout });
    case "node":
      return new NodeStorage({ directory, layout });
    default:
      throw new RangeError(`unknown driver: ${String(driver)}`);
  }
}
