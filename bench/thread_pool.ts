/**
 * How many reads the runtime's asynchronous file calls keep at the disk at
 * once: random 4 KiB `fs.read` calls with `O_DIRECT` (no page cache, so every
 * read waits on the device), 1 and 32 in flight, each slot on a descriptor
 * of its own (Deno serialises the calls on one descriptor), for one second each. The
 * buffers are views of WebAssembly memory, which is page-aligned as
 * `O_DIRECT` needs. This is the ceiling of blobrt's cold reads
 * (`fs/_async_reads.ts`): Node and Bun run these calls on a pool whose size
 * `UV_THREADPOOL_SIZE` sets when the process starts (Node's default is 4);
 * Deno runs them on tokio's blocking pool (up to 512 threads).
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/thread_pool.ts
 * node_modules/.bin/bun bench/thread_pool.ts
 * UV_THREADPOOL_SIZE=32 node_modules/.bin/bun bench/thread_pool.ts
 * node_modules/.bin/esbuild bench/thread_pool.ts --platform=node --format=esm \
 *   --outfile=/tmp/thread_pool.mjs --log-level=warning && node /tmp/thread_pool.mjs
 * ```
 *
 * It needs a filesystem with `O_DIRECT` (not tmpfs) under the temporary
 * directory, and writes a 256 MiB file there.
 *
 * @module
 */

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRandom } from "../core/random.ts";
import { runtimeVersion } from "./measure.ts";

const SIZE = 256 << 20;
const N = 4096;

const dir = fs.mkdtempSync(join(tmpdir(), "blobrt-thread-pool-"));
try {
  const path = join(dir, "data");
  const chunk = new Uint8Array(1 << 20);
  const out = fs.openSync(path, "w");
  for (let at = 0; at < SIZE; at += chunk.length) {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    fs.writeSync(out, chunk, 0, chunk.length, at);
  }
  fs.fsyncSync(out);
  fs.closeSync(out);
  const fds = Array.from(
    { length: 32 },
    () => fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT),
  );
  const memory = new WebAssembly.Memory({ initial: 3 }).buffer; // 32 page-aligned slots
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process?.env?.UV_THREADPOOL_SIZE;
  console.log(
    `${runtimeVersion()}, UV_THREADPOOL_SIZE=${env ?? "(unset)"}: O_DIRECT 4 KiB reads/s`,
  );
  const rates: number[] = [];
  for (const depth of [1, 32]) {
    const rng = new SeededRandom(depth);
    let n = 0;
    const start = performance.now();
    const end = start + 1000;
    await Promise.all(Array.from({ length: depth }, async (_, slot) => {
      const buf = new Uint8Array(memory, slot * N, N);
      while (performance.now() < end) {
        const position = rng.below(SIZE / N) * N;
        await new Promise<void>((resolve, reject) =>
          fs.read(fds[slot]!, buf, 0, N, position, (err) => err ? reject(err) : resolve())
        );
        n++;
      }
    }));
    rates.push(n / ((performance.now() - start) / 1000));
    console.log(`  ${depth} in flight: ${Math.round(rates.at(-1)!)}`);
  }
  console.log(`  32 ÷ 1: ${(rates[1]! / rates[0]!).toFixed(1)}`);
  for (const fd of fds) fs.closeSync(fd);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
