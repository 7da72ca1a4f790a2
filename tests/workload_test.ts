import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { parseArgs, runWorkload, WORKLOADS } from "../cli/workload.ts";
import { DEFAULT_DRIVER } from "../drivers/select.ts";
import { tempDir } from "./fs_fixture.ts";

test("workload: options parse, with sizes and clear errors", () => {
  const d = parseArgs([]);
  assert.deepEqual(d.workloads, [...WORKLOADS]);
  assert.equal(d.options.driver, DEFAULT_DRIVER);
  assert.equal(d.options.ioSize, 4096);
  assert.equal(d.json, false);
  const p = parseArgs([
    "--workload",
    "write_sync",
    "--driver",
    "memory",
    "--io-size",
    "64KiB",
    "--inflight",
    "8",
    "--file-size",
    "1m",
    "--duration",
    "0.5",
    "--json",
  ]);
  assert.deepEqual(p.workloads, ["write_sync"]);
  assert.deepEqual(
    [
      p.options.driver,
      p.options.ioSize,
      p.options.inflight,
      p.options.fileSize,
      p.options.durationMs,
      p.json,
    ],
    ["memory", 65536, 8, 1 << 20, 500, true],
  );
  assert.throws(() => parseArgs(["--workload", "nope"]), RangeError);
  assert.throws(() => parseArgs(["--driver", "zip"]), RangeError);
  assert.throws(() => parseArgs(["--io-size", "0"]), RangeError);
  assert.throws(() => parseArgs(["--duration"]), RangeError);
  assert.throws(() => parseArgs(["--bogus"]), RangeError);
});

for (const driver of ["memory", DEFAULT_DRIVER] as const) {
  test(`workload: every workload runs on ${driver} and cleans up`, async () => {
    const dir = await tempDir();
    try {
      for (const workload of WORKLOADS) {
        const r = await runWorkload(workload, {
          driver,
          ioSize: 4096,
          inflight: 4,
          fileSize: 1 << 20,
          durationMs: 40,
          dir,
        });
        assert.equal(r.workload, workload);
        assert.ok(r.ops > 0, `${workload}: no operations`);
        assert.ok(r.opsPerSec > 0 && r.mibPerSec > 0);
        assert.ok(r.p50 <= r.p95 && r.p95 <= r.p99, `${workload}: percentiles out of order`);
      }
      assert.deepEqual(fs.readdirSync(dir), [], "temporary directories left behind");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
