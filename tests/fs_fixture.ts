/**
 * A conformance fixture for filesystem drivers: a fresh temporary directory
 * per test, raw file access through `node:fs`, removed afterwards.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../core/names.ts";
import type { Storage } from "../core/types.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { NodeStorage } from "../drivers/node.ts";
import type { Fixture } from "./conformance.ts";

/** Makes a temporary directory for one test. */
export function tempDir(): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), "blobrt-test-"));
}

/** Runs `body` in a fresh temporary directory, removed afterwards. */
export async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await body(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A storage for a test that runs over several, and how to let it go. */
export interface Backend {
  /** Its name in test titles. */
  name: string;
  /** A fresh, empty storage. */
  make(): Promise<{ storage: Storage; cleanup(): Promise<void> }>;
}

/** `MemoryStorage`, and `NodeStorage` over a fresh temporary directory. */
export const backends: Backend[] = [
  {
    name: "MemoryStorage",
    make: () => Promise.resolve({ storage: new MemoryStorage(), cleanup: async () => {} }),
  },
  {
    name: "NodeStorage",
    make: async () => {
      const directory = await tempDir();
      return {
        storage: new NodeStorage({ directory }),
        cleanup: () => fs.rm(directory, { recursive: true, force: true }),
      };
    },
  },
];

/** A fixture over a fresh directory; `make` builds the storage on it. */
export async function fsFixture(
  make: (directory: string) => Storage,
): Promise<Fixture & { directory: string }> {
  const directory = await tempDir();
  const path = (partition: string, name: Uint8Array) => join(directory, partition, toHex(name));
  return {
    directory,
    storage: make(directory),
    writeRaw: async (partition, name, raw) => {
      await fs.mkdir(join(directory, partition), { recursive: true });
      await fs.writeFile(path(partition, name), raw);
    },
    readRaw: async (partition, name) => {
      try {
        return new Uint8Array(await fs.readFile(path(partition, name)));
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") return undefined;
        throw err;
      }
    },
    cleanup: () => fs.rm(directory, { recursive: true, force: true }),
  };
}
