#!/usr/bin/env node
// `npm test`: the tests under Deno, then Bun, then Node (package.json "test:deno", "test:bun",
// "test:node"), each run even when an earlier one failed. Their output passes through; at the end
// one line per runtime and the sum, last: "N passed, N failed". Exit status 1 when a test failed
// or a runtime printed no summary (a crash counts as one failure).
//
//   node tools/test.mjs            # what CI runs
//   node tools/test.mjs --quick    # skips the doc tests and the files that spawn processes
//   node tools/test.mjs deno bun   # only these runtimes
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";

const root = join(import.meta.dirname, "..");
const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
const RUNTIMES = ["deno", "bun", "node"];

/** Test files that start child processes (slow on a busy machine); --quick leaves them out. */
const SPAWNING = [
  "cli_test.ts",
  "lock_test.ts",
  "import_anywhere_test.ts",
  "strace_test.ts",
  "strace_dirs_test.ts",
  "beneath_race_test.ts",
];

/** The shell command of one runtime. */
function commandFor(runtime, quick) {
  if (!quick || runtime === "node") return scripts[`test:${runtime}`];
  const files = readdirSync(join(root, "tests"))
    .filter((f) => f.endsWith("_test.ts") && !SPAWNING.includes(f))
    .map((f) => `tests/${f}`).join(" ");
  return runtime === "deno" ? `deno test -A ${files}` : `bun test ${files}`;
}

// deno: "ok | 51 passed | 0 failed (1s)" (also "51 passed (3 steps)"); bun: " 51 pass" and
// " 0 fail"; node: "# pass 51" and "# fail 0" (TAP), or "ℹ pass 51" (spec reporter).
const strip = (s) => s.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), "");
const last = (text, re) => {
  let found;
  for (const m of text.matchAll(re)) found = m;
  return found;
};
function parseTotals(runtime, output) {
  const text = strip(output);
  if (runtime === "deno") {
    const m = last(text, /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/gm);
    return m && { passed: Number(m[1]), failed: Number(m[2]) };
  }
  const [p, f] = runtime === "bun"
    ? [/^\s*(\d+) pass$/gm, /^\s*(\d+) fail$/gm]
    : [/^(?:#|ℹ) pass (\d+)$/gm, /^(?:#|ℹ) fail (\d+)$/gm];
  const pm = last(text, p);
  const fm = last(text, f);
  return pm && fm && { passed: Number(pm[1]), failed: Number(fm[1]) };
}

/** Runs `command` in a shell with node_modules/.bin first on PATH; resolves with its output. */
function run(command) {
  return new Promise((resolve) => {
    const env = {
      ...process.env,
      PATH: join(root, "node_modules", ".bin") + delimiter + process.env.PATH,
    };
    const child = spawn("sh", ["-c", command], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d, process.stdout.write(d)));
    child.stderr.on("data", (d) => (out += d, process.stderr.write(d)));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

async function main(args) {
  const quick = args.includes("--quick");
  const chosen = args.filter((a) => a !== "--quick");
  for (const a of chosen) if (!RUNTIMES.includes(a)) throw new RangeError(`unknown runtime: ${a}`);
  const runtimes = chosen.length > 0 ? chosen : RUNTIMES;
  const lines = [];
  let passed = 0;
  let failed = 0;
  let status = 0;
  for (const runtime of runtimes) {
    const command = commandFor(runtime, quick);
    console.log(
      `::: ${runtime}: ${command.length > 160 ? command.slice(0, 157) + "..." : command}`,
    );
    const { code, out } = await run(command);
    const totals = parseTotals(runtime, out);
    if (totals === null || totals === undefined) {
      lines.push(`${runtime}: no summary (exit ${code}), counted as 1 failed`);
      failed += 1;
      status = 1;
      continue;
    }
    lines.push(`${runtime}: ${totals.passed} passed, ${totals.failed} failed`);
    passed += totals.passed;
    failed += totals.failed;
    if (code !== 0 || totals.failed > 0) status = 1;
  }
  if (status !== 0 && failed === 0) failed = 1; // a runtime failed without a failing test
  console.log(lines.join("\n"));
  console.log(`${passed} passed, ${failed} failed`);
  return status;
}

process.exitCode = await main(process.argv.slice(2));
