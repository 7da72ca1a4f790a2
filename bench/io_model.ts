/**
 * The hot path of the I/O model (issue 10), in one process under Deno or Bun:
 * NodeStorage (the default on Deno, the same engine as BunStorage) against
 * the engine before the I/O model and against the bare `node:fs` loop, on a
 * 16 MiB page-cached file, at uniform random aligned offsets. Rounds are
 * interleaved and ratios paired per round (bench/measure.ts).
 *
 * ```sh
 * git worktree add /tmp/blobrt-before 0bcbf69   # the engine before the I/O model
 * node_modules/.bin/deno run -A bench/io_model.ts --before /tmp/blobrt-before
 * node_modules/.bin/bun bench/io_model.ts --before /tmp/blobrt-before
 * ```
 *
 * Without `--before` the "before" column is left out.
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
const ROUNDS = 7;
const ROUND_MS = 300;

const argv = args();
const beforeAt = argv.indexOf("--before");
const beforeRoot = beforeAt >= 0 ? argv[beforeAt + 1] : undefined;

const dir = fs.mkdtempSync(join(tmpdir(), "blobrt-io-model-"));
try {
  const { blob, before, fd } = await benchBlob(dir, FILE, beforeRoot);
  const HEADER = 8;

  console.log(`${runtimeVersion()}: ${ROUNDS} rounds of ${ROUND_MS} ms, ops/s (median)`);
  console.log(
    "| operation | NodeStorage now | before | bare node:fs | now ÷ before | now ÷ bare |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");

  const row = async (
    name: string,
    now: () => Promise<unknown>,
    old: (() => Promise<unknown>) | undefined,
    bare: () => Promise<unknown>,
  ): Promise<void> => {
    const ops = old === undefined ? [now, bare] : [now, bare, old];
    const runs = await interleave(ops, ROUNDS, ROUND_MS);
    const [a, b, c] = runs as [number[], number[], number[] | undefined];
    console.log(
      `| ${name} | ${fmtOps(median(a))} | ${c ? fmtOps(median(c)) : "—"} | ${fmtOps(median(b))} | ${
        c ? pairedRatio(a, c).toFixed(2) : "—"
      } | ${pairedRatio(a, b).toFixed(2)} |`,
    );
  };

  const at4 = randomOffsets(1, FILE / (4 * KIB), 4 * KIB);
  const reused = new Uint8Array(4 * KIB);
  const record = new Uint8Array(4 * KIB).fill(7);
  await row(
    "readAt 4 KiB",
    () => blob.readAt(at4(), 4 * KIB),
    before && (() => before!.readAt(at4(), 4 * KIB)),
    async () => {
      const b = new Uint8Array(4 * KIB);
      fs.readSync(fd, b, 0, b.length, HEADER + at4());
      return b;
    },
  );
  await row(
    "readAtBuf 4 KiB (reused buffer)",
    () => blob.readAtBuf(at4(), 4 * KIB, reused),
    before && (() => before!.readAtBuf(at4(), 4 * KIB, reused)),
    async () => fs.readSync(fd, reused, 0, reused.length, HEADER + at4()),
  );
  await row(
    "writeAt 4 KiB",
    () => blob.writeAt(at4(), record),
    before && (() => before!.writeAt(at4(), record)),
    async () => fs.writeSync(fd, record, 0, record.length, HEADER + at4()),
  );

  // 1 MiB readAt against readAtBuf into one reused buffer (same engine).
  const at1m = randomOffsets(2, FILE / MIB, MIB);
  const big = new Uint8Array(MIB);
  const [fresh, disposed, into] = await interleave(
    [
      () => blob.readAt(at1m(), MIB),
      // `using`: the result's memory goes back to the pool for the next read.
      async () => {
        using _ = await blob.readAt(at1m(), MIB);
      },
      () => blob.readAtBuf(at1m(), MIB, big),
    ],
    ROUNDS,
    ROUND_MS,
  ) as [number[], number[], number[]];
  console.log(
    `\n1 MiB readAt ${fmtOps(median(fresh))}/s, readAt disposed (using) ` +
      `${fmtOps(median(disposed))}/s, readAtBuf (reused) ${fmtOps(median(into))}/s: ` +
      `readAt ÷ readAtBuf = ${pairedRatio(fresh, into).toFixed(2)}, ` +
      `with using ${pairedRatio(disposed, into).toFixed(2)}`,
  );

  // 1024 × 64 B vectored against one 64 KiB write of the same bytes.
  const chunks = Array.from({ length: 1024 }, () => new Uint8Array(64).fill(3));
  const whole = new Uint8Array(64 * KIB).fill(3);
  const at64 = randomOffsets(3, FILE / (64 * KIB), 64 * KIB);
  const vectored: (() => Promise<unknown>)[] = [
    () => blob.writeAt(at64(), chunks),
    () => blob.writeAt(at64(), whole),
  ];
  if (before) {
    vectored.push(() => before!.writeAt(at64(), chunks), () => before!.writeAt(at64(), whole));
  }
  const v = await interleave(vectored, ROUNDS, ROUND_MS) as number[][];
  const us = (ops: number[]) => (1e6 / median(ops)).toFixed(1);
  console.log(
    `1024 × 64 B writeAt costs ${pairedRatio(v[1]!, v[0]!).toFixed(2)}× one 64 KiB writeAt now ` +
      `(${us(v[0]!)} µs against ${us(v[1]!)} µs)` +
      (before
        ? `, ${pairedRatio(v[3]!, v[2]!).toFixed(2)}× before (${us(v[2]!)} against ${us(v[3]!)} µs)`
        : ""),
  );
  fs.closeSync(fd);
  await blob.close();
  await before?.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
