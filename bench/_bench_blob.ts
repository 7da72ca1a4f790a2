/**
 * The blob the in-process engine benchmarks share: a page-cached V0 blob
 * through NodeStorage, the same file opened by the engine of another checkout
 * (`--before <dir>`), and a bare `node:fs` descriptor on it.
 *
 * @module
 */

import * as fs from "node:fs";
import { join } from "node:path";
import type { Blob, Storage } from "../core/types.ts";
import { NodeStorage } from "../drivers/node.ts";

/** The blob, the other checkout's handle on it, and a bare descriptor (data at file byte 8). */
export interface BenchBlob {
  blob: Blob;
  before: Blob | undefined;
  fd: number;
}

/** Creates `size` bytes of blob "data" in partition "bench" under `dir`, synced. */
export async function benchBlob(
  dir: string,
  size: number,
  beforeRoot: string | undefined,
): Promise<BenchBlob> {
  const { blob } = await new NodeStorage({ directory: dir }).open("bench", "data");
  await blob.writeAt(0, new Uint8Array(size).fill(1));
  await blob.sync();
  let before: Blob | undefined;
  if (beforeRoot !== undefined) {
    const mod = await import(join(beforeRoot, "drivers/node.ts")) as {
      NodeStorage: new (o: { directory: string }) => Storage;
    };
    before = (await new mod.NodeStorage({ directory: dir }).open("bench", "data")).blob;
  }
  return { blob, before, fd: fs.openSync(join(dir, "bench", "64617461"), "r+") };
}
