import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  type AnchorResult,
  evictionMethod,
  main,
  parseArgs,
  runWorkload,
  type WorkloadResult,
  WORKLOADS,
} from "../cli/workload.ts";
import { UsageError } from "../cli/args.ts";
import { DEFAULT_DRIVER } from "../drivers/select.ts";
import { tempDir } from "./fs_fixture.ts";
import { SLOW, slow } from "./limits.ts";

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
  slow.test(`workload: every workload runs on ${driver} and cleans up`, async () => {
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
        assert.ok(0 <= r.lagP99Ms && r.lagP99Ms <= r.lagMaxMs, `${workload}: lag`);
        assert.equal(r.anchors, undefined, "anchors only when asked for");
      }
      assert.deepEqual(fs.readdirSync(dir), [], "temporary directories left behind");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

slow.test("workload: --cache and --anchors parse; a bad --cache is a UsageError and exit 2", async () => {
  const d = parseArgs([]);
  assert.deepEqual([d.options.cache, d.options.anchors], ["warm", true]);
  assert.equal(parseArgs(["--cache=cold"]).options.cache, "cold");
  assert.equal(parseArgs(["--cache", "warm"]).options.cache, "warm");
  assert.equal(parseArgs(["--no-anchors"]).options.anchors, false);
  assert.equal(parseArgs(["--anchors"]).options.anchors, true);
  const cases: [string[], string][] = [
    [["--cache", "bogus"], "--cache must be warm or cold, got bogus"],
    [["--cache=tepid"], "--cache must be warm or cold, got tepid"],
    [["--cache"], "--cache needs a value"],
    [["--anchors", "--no-anchors"], "--anchors and --no-anchors contradict each other"],
    [["--no-anchors=1"], "--no-anchors takes no value"],
    [
      ["--cache", "cold", "--driver", "memory"],
      "--cache cold needs a filesystem driver, not memory",
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseArgs(args), (e) => {
      assert.ok(e instanceof UsageError, args.join(" "));
      assert.equal(e.message, message, args.join(" "));
      return true;
    });
  }
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["--cache", "bogus"], "blobrt"), 2);
  } finally {
    console.error = error;
  }
  assert.deepEqual(errors, ["blobrt: --cache must be warm or cold, got bogus"]);
});

/** Runs `main` with `--json` and returns the object it prints. */
async function runJson(args: string[]): Promise<{
  eviction: string | null;
  options: { cache: string; anchors: boolean };
  results: WorkloadResult[];
}> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    await main([...args, "--json"]);
  } finally {
    console.log = log;
  }
  assert.equal(out.length, 1, "one JSON object");
  return JSON.parse(out[0]!);
}

/** Checks one anchor's result: ops/s and the ratio, or n/a with a reason. */
function checkAnchor(a: AnchorResult, blobrtOpsPerSec: number): void {
  if (a.status === "n/a") {
    assert.ok(a.reason.length > 0, `${a.anchor}: n/a without a reason`);
    return;
  }
  assert.equal(a.status, "ok");
  assert.ok(a.ops > 0 && a.opsPerSec > 0, `${a.anchor}: no operations`);
  assert.ok(Math.abs(a.ratio - blobrtOpsPerSec / a.opsPerSec) < 1e-9 * a.ratio, a.anchor);
  assert.ok(0 <= a.lagP99Ms && a.lagP99Ms <= a.lagMaxMs, `${a.anchor}: lag`);
}

slow.test("workload: a short run's JSON has the lag and the anchors", async () => {
  const dir = await tempDir();
  try {
    const report = await runJson([
      ...["--workload", "read_rand", "--file-size", "1m", "--inflight", "2"],
      ...["--duration", "0.1", "--dir", dir],
    ]);
    assert.deepEqual([report.options.cache, report.options.anchors, report.eviction], [
      "warm",
      true,
      null,
    ]);
    const [r] = report.results;
    assert.ok(r !== undefined && report.results.length === 1);
    assert.equal(r.workload, "read_rand");
    assert.ok(r.opsPerSec > 0);
    assert.ok(Number.isFinite(r.lagMaxMs) && 0 <= r.lagP99Ms && r.lagP99Ms <= r.lagMaxMs);
    assert.deepEqual(r.anchors?.map((a) => a.anchor), ["sync", "promises", "random-access-file"]);
    for (const a of r.anchors ?? []) checkAnchor(a, r.opsPerSec);
    // The node:fs anchors always run.
    assert.ok(r.anchors?.slice(0, 2).every((a) => a.status === "ok"));
    assert.deepEqual(fs.readdirSync(dir), [], "temporary directories left behind");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

slow.test("workload: no anchors on the memory driver, nor with --no-anchors", async () => {
  const base = { ioSize: 4096, inflight: 1, fileSize: 1 << 16, durationMs: 20, anchors: true };
  const dir = await tempDir();
  try {
    const memory = await runWorkload("read_rand", { ...base, driver: "memory", dir });
    assert.equal(memory.anchors, undefined);
    const report = await runJson([
      ...["--workload", "write_rand", "--file-size", "64k", "--duration", "0.02"],
      ...["--dir", dir, "--no-anchors"],
    ]);
    assert.equal(report.results[0]?.anchors, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const eviction = await evictionMethod();

test(
  "workload: a cold run evicts before blobrt and each anchor",
  {
    skip: eviction.method === null
      ? `cannot evict pages under this runtime: ${eviction.reason}`
      : false,
    ...SLOW,
  },
  async () => {
    const dir = await tempDir();
    try {
      for (const workload of ["read_rand", "write_rand"] as const) {
        const r = await runWorkload(workload, {
          driver: DEFAULT_DRIVER,
          ioSize: 4096,
          inflight: 4,
          fileSize: 4 << 20,
          durationMs: 100,
          dir,
          cache: "cold",
          anchors: true,
        });
        assert.deepEqual([r.cache, r.eviction], ["cold", eviction.method]);
        // read_rand evicts again every 1/64 of the file's 1,024 slots (with posix_fadvise).
        if (workload === "read_rand" && eviction.method === "posix_fadvise") {
          assert.equal(r.reevictions, Math.floor(r.ops / 16));
        } else assert.equal(r.reevictions, 0);
        assert.ok(r.ops > 0 && 0 <= r.lagP99Ms && r.lagP99Ms <= r.lagMaxMs);
        assert.equal(r.anchors?.length, 3);
        for (const a of r.anchors ?? []) checkAnchor(a, r.opsPerSec);
      }
      await assert.rejects(
        runWorkload("read_rand", {
          driver: "memory",
          ioSize: 4096,
          inflight: 1,
          fileSize: 4096,
          durationMs: 10,
          dir,
          cache: "cold",
        }),
        RangeError,
      );
      assert.deepEqual(fs.readdirSync(dir), [], "temporary directories left behind");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
