/**
 * Copy distance (fs/_copy_align.ts): page-cached `readAtBuf` and `writeAt` of
 * a V0 blob from buffers at chosen addresses, NodeStorage now against the
 * engine before the bounce (a worktree) and the bare `node:fs` call, in one
 * process. The buffers are views of WebAssembly memory, whose base is
 * page-aligned, so "address mod 4096" is known: 0 is where Bun puts every
 * buffer, 16 where glibc puts large ones (Deno, Node). A V0 blob's offset 0 is
 * file byte 8, so a read into address 16 copies at distance 8 (slow on a
 * flawed CPU), and a write from address 0 at distance 8 too.
 *
 * ```sh
 * git worktree add /tmp/blobrt-before <commit before the bounce>
 * node_modules/.bin/deno run -A bench/copy_distance.ts --before /tmp/blobrt-before
 * node_modules/.bin/bun bench/copy_distance.ts --before /tmp/blobrt-before
 * ```
 *
 * @module
 */

import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchBlob } from "./_bench_blob.ts";
import { randomOffsets } from "./_offsets.ts";
import { args, fmtOps, interleave, median, pairedRatio, runtimeVersion } from "./measure.ts";

const KIB = 1024;
const MIB = KIB * KIB;
const FILE = 16 * MIB;
const ROUNDS = 5;
const ROUND_MS = 200;
const HEADER = 8;

const argv = args();
const beforeAt = argv.indexOf("--before");
const beforeRoot = beforeAt >= 0 ? argv[beforeAt + 1] : undefined;

const memory = new Uint8Array(new WebAssembly.Memory({ initial: 18 }).buffer); // 1 MiB + 128 KiB

const dir = fs.mkdtempSync(join(tmpdir(), "blobrt-copy-distance-"));
try {
  const { blob, before, fd } = await benchBlob(dir, FILE, beforeRoot);

  console.log(`${runtimeVersion()}: ${ROUNDS} rounds of ${ROUND_MS} ms, ops/s (median), V0 blob`);
  console.log("| operation | address mod 4096 | now | before | bare | now ÷ before | now ÷ bare |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const size of [4 * KIB, 64 * KIB, MIB]) {
    const at = randomOffsets(size, FILE / size, size);
    for (const address of [0, 16, 64]) {
      const buf = memory.subarray(address, address + size);
      for (const write of [false, true]) {
        const ops = [
          write ? () => blob.writeAt(at(), buf) : () => blob.readAtBuf(at(), size, buf),
          write
            ? async () => fs.writeSync(fd, buf, 0, size, HEADER + at())
            : async () => fs.readSync(fd, buf, 0, size, HEADER + at()),
        ];
        if (before) {
          ops.push(
            write ? () => before!.writeAt(at(), buf) : () => before!.readAtBuf(at(), size, buf),
          );
        }
        const [now, bare, old] = await interleave(ops, ROUNDS, ROUND_MS) as number[][];
        console.log(
          `| ${write ? "writeAt" : "readAtBuf"} ${size / KIB} KiB | ${address} | ${
            fmtOps(median(now!))
          } | ${old ? fmtOps(median(old)) : "—"} | ${fmtOps(median(bare!))} | ${
            old ? pairedRatio(now!, old).toFixed(2) : "—"
          } | ${pairedRatio(now!, bare!).toFixed(2)} |`,
        );
      }
    }
  }
  fs.closeSync(fd);
  await blob.close();
  await before?.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
