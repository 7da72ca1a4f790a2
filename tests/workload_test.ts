import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { parseArgs, runWorkload, WORKLOADS } from "../cli/workload.ts";
import { UsageError } from "../cli/args.ts";
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

test("workload: --name=value, and bad arguments are UsageErrors that name the option", () => {
  const p = parseArgs(["--workload=read_seq", "--io-size=1k", "--duration=0.25", "--dir=/x"]);
  assert.deepEqual(p.workloads, ["read_seq"]);
  assert.deepEqual([p.options.ioSize, p.options.durationMs, p.options.dir], [1024, 250, "/x"]);
  assert.equal(parseArgs(["--dir=-odd"]).options.dir, "-odd");
  const cases: [string[], string][] = [
    [["--bogus"], "unknown option: --bogus"],
    [["-x"], "unknown option: -x"],
    [["--duration"], "--duration needs a value"],
    [["--duration", "-1"], "--duration must be a positive number of seconds, got -1"],
    [["--io-size", "--json"], "--io-size: not a size: --json"],
    [["--dir", "--json"], "--dir needs a value; to give it --json, write --dir=--json"],
    [["--json=1"], "--json takes no value"],
    [["read_seq"], "unexpected argument: read_seq"],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseArgs(args), (e) => {
      assert.ok(e instanceof UsageError && e instanceof RangeError, args.join(" "));
      assert.equal(e.message, message, args.join(" "));
      return true;
    });
  }
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
