/**
 * End-to-end tests of cli/main.ts: spawned under the running runtime (Deno or Bun)
 * against a directory written by hand in the on-disk format.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { tempDir } from "./fs_fixture.ts";
import { type RunResult, runScript } from "./spawn.ts";
import { crc32c } from "../core/crc32c.ts";
import { SLOW, slow } from "./limits.ts";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;

const run = (...args: string[]): RunResult => runScript(CLI, args);

const header = (version: number) => [0x43, 0x57, 0x49, 0x43, 0, 0, version >> 8, version & 0xff];

/** A storage directory: partition p with "hi" (v2, "hello") and 00ff (bad magic); q with a short file and a README. */
async function fixture(): Promise<string> {
  const dir = await tempDir();
  fs.mkdirSync(join(dir, "p"));
  fs.mkdirSync(join(dir, "q"));
  fs.writeFileSync(
    join(dir, "p", "6869"),
    new Uint8Array([...header(2), ...new TextEncoder().encode("hello")]),
  );
  fs.writeFileSync(join(dir, "p", "00ff"), new Uint8Array([88, 88, 88, 88, 0, 0, 0, 0, 1, 2]));
  fs.writeFileSync(join(dir, "q", "01"), new Uint8Array([0x43, 0x57]));
  fs.writeFileSync(join(dir, "q", "README"), "not a blob");
  return dir;
}

/** Every path under `dir` with its bytes and mtime: to prove a command wrote nothing. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (p: string) => {
    for (
      const e of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)
    ) {
      const path = join(p, e.name);
      const st = fs.statSync(path);
      out.push(
        `${path} ${
          e.isDirectory() ? "dir" : Buffer.from(fs.readFileSync(path)).toString("hex")
        } ${st.mtimeMs}`,
      );
      if (e.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.join("\n");
}

async function withFixture(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await fixture();
  try {
    const before = snapshot(dir);
    await body(dir);
    assert.equal(snapshot(dir), before, "the command changed the directory");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

slow.test("cli: --help for the program and every command", () => {
  const main = run("--help");
  assert.equal(main.code, 0);
  assert.match(main.stdout, /inspect <dir>/);
  for (const command of ["inspect", "verify", "cat", "bench"]) {
    const r = run(command, "--help");
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^usage: blobrt ${command}`), command);
  }
});

slow.test("cli: inspect lists every blob with name, text, layout, size, version and status", () =>
  withFixture((dir) => {
    const r = run("inspect", dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => l.split(/\s{2,}/));
    assert.deepEqual(lines, [
      ["PARTITION", "NAME (HEX)", "TEXT", "LAYOUT", "SIZE", "VERSION", "STATUS"],
      ["p", "00ff", "-", "2", "-", "bad magic"],
      ["p", "6869", '"hi"', "v0", "5", "2", "ok"],
      ["q", "01", "-", "0", "-", "short"],
      ["foreign: q/README: not a lowercase hex blob name"],
      ["total: 2 partitions, 3 blobs, 7 bytes, 3 problems"],
    ]);
  }));

slow.test("cli: inspect --json", () =>
  withFixture((dir) => {
    const r = run("inspect", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(json.partitions, ["p", "q"]);
    assert.deepEqual(json.blobs, [
      { partition: "p", hex: "00ff", size: 2, status: "bad magic" },
      { partition: "p", hex: "6869", text: "hi", layout: "v0", size: 5, version: 2, status: "ok" },
      { partition: "q", hex: "01", size: 0, status: "short" },
    ]);
    assert.deepEqual(json.totals, { partitions: 2, blobs: 3, bytes: 7, problems: 3 });
  }));

slow.test("cli: verify reports every problem and exits 1", () =>
  withFixture((dir) => {
    const r = run("verify", dir, "--versions", "0..1");
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "q/README: not a lowercase hex blob name",
      "p/00ff: bad magic",
      "p/6869: blob version 2 outside 0..=1",
      "q/01: short file (no complete header)",
      "4 problems in 2 partitions, 3 blobs",
    ]);
  }));

slow.test("cli: verify exits 0 on a sound directory, and on a bad runtime version exits 1", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    fs.writeFileSync(join(dir, "p", "00"), new Uint8Array(header(3)));
    const ok = run("verify", dir, "--versions", "0..3");
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout.trim(), "ok: 1 partitions, 1 blobs, no problems");
    fs.writeFileSync(join(dir, "p", "01"), new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 1, 0, 0]));
    fs.mkdirSync(join(dir, "p", "0a0b"));
    const bad = run("verify", dir);
    assert.equal(bad.code, 1);
    assert.deepEqual(bad.stdout.trim().split("\n"), [
      "p/0a0b: not a file",
      "p/01: bad runtime version",
      "2 problems in 1 partitions, 2 blobs",
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

slow.test("cli: cat writes logical bytes, by text or hex name, with offset, length and --hex", () =>
  withFixture((dir) => {
    const all = run("cat", dir, "p", "hi");
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.raw, new TextEncoder().encode("hello"));
    const part = run("cat", dir, "p", "hex:6869", "--offset", "1", "--length", "3");
    assert.deepEqual(part.raw, new TextEncoder().encode("ell"));
    const hex = run("cat", dir, "p", "hi", "--hex");
    assert.equal(hex.stdout, "68656c6c6f\n");
    const past = run("cat", dir, "p", "hi", "--offset", "3", "--length", "3");
    assert.equal(past.code, 1);
    assert.match(past.stderr, /past the end/);
    const corrupt = run("cat", dir, "p", "hex:00ff");
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.stderr, /no valid header \(bad magic\)/);
    const short = run("cat", dir, "q", "hex:01");
    assert.equal(short.code, 1);
    const missing = run("cat", dir, "p", "nope");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read p\/6e6f7065/);
    assert.ok(!fs.existsSync(join(dir, "p", "6e6f7065")), "cat created a file");
  }));

slow.test("cli: bench runs the workload harness and leaves nothing behind", async () => {
  const dir = await tempDir();
  try {
    const r = run(
      "bench",
      "--workload",
      "write_append",
      "--driver",
      "memory",
      "--duration",
      "0.1",
      "--json",
      "--dir",
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.results[0].workload, "write_append");
    assert.ok(json.results[0].ops > 0);
    assert.deepEqual(fs.readdirSync(dir), []);
    const bad = run("bench", "--workload", "nope");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown workload: nope/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

slow.test("cli: a missing directory or a bad argument is one clear line and exit 2", () =>
  withFixture((dir) => {
    const cases: [string[], RegExp][] = [
      [["inspect", join(dir, "missing")], /^blobrt: no such directory: .*missing\n$/],
      [["verify", join(dir, "p", "6869")], /^blobrt: not a directory: /],
      [["verify", dir, "--versions", "3..1"], /^blobrt: --versions must be MIN\.\.MAX/],
      [
        ["cat", dir, "p", "hi", "--offset", "-1"],
        /^blobrt: --offset must be a non-negative integer/,
      ],
      [["cat", dir, "../p", "hi"], /^blobrt: invalid partition name: \.\.\/p\n$/],
      [["cat", dir, "p", "hex:XY"], /^blobrt: invalid blob name: hex:XY\n$/],
      [["cat", dir, "p"], /^blobrt: cat takes <dir> <partition> <name>\n$/],
      [["inspect", dir, "--bogus"], /^blobrt: unknown option: --bogus\n$/],
      [["frobnicate"], /^blobrt: unknown command: frobnicate\n$/],
    ];
    for (const [args, expected] of cases) {
      const r = run(...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, expected, args.join(" "));
      assert.equal(r.stderr.split("\n").length, 2, "one line");
    }
    assert.ok(!fs.existsSync(join(dir, "missing")), "inspect created the directory");
  }));

slow.test("cli: --offset=N and --length=N, the equals form of a valued option", () =>
  withFixture((dir) => {
    const part = run("cat", dir, "p", "hi", "--offset=1", "--length=3");
    assert.equal(part.code, 0, part.stderr);
    assert.deepEqual(part.raw, new TextEncoder().encode("ell"));
    const mixed = run("cat", "--hex", dir, "--offset=2", "p", "hi");
    assert.equal(mixed.stdout, "6c6c6f\n");
    const versions = run("verify", dir, "--versions=0..3");
    assert.equal(versions.code, 1);
    assert.doesNotMatch(versions.stdout, /outside/);
    const negative = run("cat", dir, "p", "hi", "--offset=-1");
    assert.equal(negative.code, 2);
    assert.equal(negative.stderr, "blobrt: --offset must be a non-negative integer, got -1\n");
  }));

slow.test("cli: after --, an argument starting with - is a name, not an option", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    const weird = Buffer.from("--weird-name").toString("hex");
    fs.writeFileSync(join(dir, "p", weird), new Uint8Array([...header(0), 1, 2, 3]));
    const help = Buffer.from("--help").toString("hex");
    fs.writeFileSync(join(dir, "p", help), new Uint8Array([...header(0), 9]));
    const r = run("cat", dir, "p", "--hex", "--", "--weird-name");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "010203\n");
    const h = run("cat", dir, "p", "--hex", "--", "--help");
    assert.equal(h.code, 0, h.stderr);
    assert.equal(h.stdout, "09\n");
    const without = run("cat", dir, "p", "--weird-name");
    assert.equal(without.code, 2);
    assert.equal(without.stderr, "blobrt: unknown option: --weird-name\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

slow.test("cli: an unknown option, a missing value or a value for a flag exits 2, naming the option", () =>
  withFixture((dir) => {
    const cases: [string[], string][] = [
      [["inspect", dir, "--x"], "unknown option: --x"],
      [["inspect", "-x", dir], "unknown option: -x"],
      [["verify", dir, "--hex"], "unknown option: --hex"],
      [["cat", dir, "p", "hi", "--offset"], "--offset needs a value"],
      [["inspect", dir, "--json=yes"], "--json takes no value"],
      [["verify", dir, "--versions", "-1..2"], "--versions must be MIN..MAX"],
      [["cat", dir, "p", "hi", "--length", "--hex"], "--length must be a non-negative integer"],
      [["bench", "--x"], "unknown option: --x"],
      [["bench", "--dir", "--json"], "--dir needs a value; to give it --json, write --dir=--json"],
      [["bench", "stray"], "unexpected argument: stray"],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.ok(r.stderr.startsWith(`blobrt: ${message}`), `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.split("\n").length, 2, `${args.join(" ")}: one line`);
    }
  }));

slow.test("cli: headers are classified as before: ok, short, bad magic, bad runtime version", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    const files: [string, number[]][] = [
      ["01", header(7)], // a complete header and no data: ok, size 0
      ["02", [...header(1), 5, 6]],
      ["03", []], // empty: short
      ["04", header(1).slice(0, 7)], // one byte short of a header
      ["05", [0x43, 0x57, 0x49, 0x44, 0, 0, 0, 1, 9]], // magic CWID
      ["06", [0x43, 0x57, 0x49, 0x43, 0, 1, 0, 4, 9, 9]], // runtime version 1
      ["07", [0x43, 0x57, 0x49, 0x43, 0xff, 0xff, 0, 0]], // runtime version 65535
    ];
    for (const [hex, bytes] of files) fs.writeFileSync(join(dir, "p", hex), new Uint8Array(bytes));
    const r = run("inspect", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).blobs.map((
        b: { hex: string; size: number; version?: number; status: string },
      ) => [b.hex, b.size, b.version, b.status]),
      [
        ["01", 0, 7, "ok"],
        ["02", 2, 1, "ok"],
        ["03", 0, undefined, "short"],
        ["04", 0, undefined, "short"],
        ["05", 1, undefined, "bad magic"],
        ["06", 2, 4, "bad runtime version"],
        ["07", 0, 0, "bad runtime version"],
      ],
    );
    const v = run("verify", dir, "--versions", "1..7");
    assert.equal(v.code, 1);
    assert.deepEqual(v.stdout.trim().split("\n"), [
      "p/03: short file (no complete header)",
      "p/04: short file (no complete header)",
      "p/05: bad magic",
      "p/06: bad runtime version",
      "p/07: bad runtime version",
      "5 problems in 1 partitions, 7 blobs",
    ]);
    const c = run("cat", dir, "p", "hex:06");
    assert.equal(c.code, 1);
    assert.equal(c.stderr, "blobrt: p/06 has no valid header (bad runtime version)\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

slow.test("cli: verify finds a partition with an invalid name and a stray file", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "good_1"));
    fs.writeFileSync(join(dir, "good_1", "00"), new Uint8Array(header(0)));
    fs.mkdirSync(join(dir, "bad.name"));
    fs.writeFileSync(join(dir, "bad.name", "00"), new Uint8Array(header(0)));
    fs.mkdirSync(join(dir, "with space"));
    fs.writeFileSync(join(dir, "stray"), "x");
    const r = run("verify", dir);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "bad.name: not a valid partition name",
      "stray: not a partition directory",
      "with space: not a valid partition name",
      "3 problems in 1 partitions, 1 blobs",
    ]);
    const cat = run("cat", dir, "bad.name", "hex:00");
    assert.equal(cat.code, 2);
    assert.equal(cat.stderr, "blobrt: invalid partition name: bad.name\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const BIN = new URL("../cli/bin.ts", import.meta.url).pathname;
const VERSION: string = JSON.parse(
  fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;

slow.test("cli: --version prints the package version, from main.ts and from the bin entry", () => {
  for (const script of [CLI, BIN]) {
    const r = runScript(script, ["--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`, script);
    assert.equal(r.stderr, "");
  }
  const extra = run("--version", "x");
  assert.equal(extra.code, 2);
  assert.equal(extra.stderr, "blobrt: --version takes no arguments\n");
});

slow.test("cli: the bin entry always runs: usage, exit codes and output as main.ts", () =>
  withFixture((dir) => {
    const none = runScript(BIN, []);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /^blobrt: .*\n\nusage: blobrt <command> \[options\]\n/);
    const help = runScript(BIN, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /blobrt --version \| --help/);
    assert.match(help.stdout, /verify <dir> .*--json/);
    const verify = runScript(BIN, ["verify", dir]);
    assert.equal(verify.code, 1);
    assert.equal(verify.stdout, run("verify", dir).stdout);
    const missing = runScript(BIN, ["inspect", join(dir, "missing")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^blobrt: no such directory: /);
  }));

slow.test("cli: verify --json lists every problem as data and exits 1", () =>
  withFixture((dir) => {
    const r = run("verify", dir, "--versions", "0..1", "--json");
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      ok: false,
      partitions: 2,
      blobs: 3,
      problems: [
        {
          partition: "q",
          entry: "README",
          entryHex: "524541444d45",
          problem: "not a lowercase hex blob name",
        },
        { partition: "p", entry: "00ff", entryHex: "30306666", problem: "bad magic" },
        {
          partition: "p",
          entry: "6869",
          entryHex: "36383639",
          problem: "blob version 2 outside 0..=1",
        },
        {
          partition: "q",
          entry: "01",
          entryHex: "3031",
          problem: "short file (no complete header)",
        },
      ],
    });
    const help = run("verify", "--help");
    assert.match(help.stdout, /\[--json\]/);
    const bad = run("verify", dir, "--json=yes");
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "blobrt: --json takes no value\n");
  }));

slow.test("cli: verify --json on a sound directory is ok: true with no problems, exit 0", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    fs.writeFileSync(join(dir, "p", "00"), new Uint8Array(header(3)));
    const r = run("verify", "--json", dir, "--versions=0..3");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, partitions: 1, blobs: 1, problems: [] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A V1 blob file: `CWIK`, runtime version 1, blob version, CRC32C of those 8 bytes, zeros to 4096, data. */
function v1File(version: number, data: number[] = []): Uint8Array {
  const out = new Uint8Array(4096 + data.length);
  out.set([0x43, 0x57, 0x49, 0x4b, 0, 1, version >> 8, version & 0xff]);
  new DataView(out.buffer).setUint32(8, crc32c(out.subarray(0, 8)));
  out.set(data, 4096);
  return out;
}

slow.test("cli: inspect and verify show V1 blobs: layout, logical size, checksum and padding", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    const badCrc = v1File(3, [1]);
    badCrc[9]! ^= 0xff;
    const badPadding = v1File(3, [1, 2]);
    badPadding[12] = 1;
    const truncated = v1File(3).subarray(0, 100).slice();
    truncated[99] = 7;
    const runtime = v1File(3);
    runtime[5] = 2;
    const files: [string, Uint8Array][] = [
      ["01", v1File(2, [...new TextEncoder().encode("hello")])],
      ["02", v1File(0)],
      ["03", badCrc],
      ["04", badPadding],
      ["05", truncated],
      ["06", runtime],
      ["07", new Uint8Array(8)], // torn: open resets it
      ["08", v1File(5).subarray(0, 10)], // torn mid-checksum
      ["09", new Uint8Array([...header(1), 9, 9, 9])],
    ];
    for (const [hex, bytes] of files) fs.writeFileSync(join(dir, "p", hex), bytes);
    const before = snapshot(dir);
    const r = run("inspect", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).blobs.map((
        b: { hex: string; layout?: string; size: number; version?: number; status: string },
      ) => [b.hex, b.layout, b.size, b.version, b.status]),
      [
        ["01", "v1", 5, 2, "ok"],
        ["02", "v1", 0, 0, "ok"],
        ["03", "v1", 1, 3, "bad checksum"],
        ["04", "v1", 2, 3, "bad padding"],
        ["05", "v1", 0, 3, "truncated"],
        ["06", "v1", 0, 3, "bad runtime version"],
        ["07", undefined, 0, undefined, "torn"],
        ["08", undefined, 0, undefined, "torn"],
        ["09", "v0", 3, 1, "ok"],
      ],
    );
    const table = run("inspect", dir);
    const rows = table.stdout.trim().split("\n").map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows[0], [
      "PARTITION",
      "NAME (HEX)",
      "TEXT",
      "LAYOUT",
      "SIZE",
      "VERSION",
      "STATUS",
    ]);
    assert.deepEqual(rows[1], ["p", "01", "v1", "5", "2", "ok"]); // a control character: no text
    assert.deepEqual(rows[7], ["p", "07", "-", "0", "-", "torn"]);
    assert.deepEqual(rows.at(-1), ["total: 1 partitions, 9 blobs, 11 bytes, 6 problems"]);
    const v = run("verify", dir, "--versions", "0..2");
    assert.equal(v.code, 1);
    assert.deepEqual(v.stdout.trim().split("\n"), [
      "p/03: bad checksum",
      "p/04: bad padding",
      "p/05: truncated",
      "p/06: bad runtime version",
      "p/07: torn creation (open resets it)",
      "p/08: torn creation (open resets it)",
      "6 problems in 1 partitions, 9 blobs",
    ]);
    assert.equal(snapshot(dir), before, "read-only");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

slow.test("cli: cat reads a V1 blob's logical bytes from file byte 4096", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    fs.writeFileSync(join(dir, "p", "6869"), v1File(2, [...new TextEncoder().encode("hello v1")]));
    const bad = v1File(2, [1]);
    bad[12] = 1;
    fs.writeFileSync(join(dir, "p", "00"), bad);
    const all = run("cat", dir, "p", "hi");
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.raw, new TextEncoder().encode("hello v1"));
    const part = run("cat", dir, "p", "hi", "--offset", "6", "--length", "2", "--hex");
    assert.equal(part.stdout, "7631\n");
    const past = run("cat", dir, "p", "hi", "--offset", "8", "--length", "1");
    assert.equal(past.code, 1);
    assert.equal(past.stderr, "blobrt: p/6869: range 8..9 is past the end (8 bytes)\n");
    const padding = run("cat", dir, "p", "hex:00");
    assert.equal(padding.code, 1);
    assert.equal(padding.stderr, "blobrt: p/00 has no valid header (bad padding)\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** `run`, killed after `ms`: `timedOut` says whether it had to be. */
/** Runs the CLI, killed after `ms`: a command that blocks shows as `timedOut`. */
const runWithin = (ms: number, ...args: string[]): RunResult =>
  runScript(CLI, args, { timeoutMs: ms });

const hasMkfifo = spawnSync("mkfifo", ["--version"]).error === undefined;

test(
  "cli: cat refuses a FIFO blob at once (never waits for a writer); inspect and verify finish",
  { skip: hasMkfifo ? false : "no mkfifo command here", ...SLOW },
  async () => {
    const dir = await tempDir();
    try {
      fs.mkdirSync(join(dir, "p"));
      const made = spawnSync("mkfifo", [join(dir, "p", "6869")]);
      assert.equal(made.status, 0, String(made.stderr));
      const c = runWithin(10_000, "cat", dir, "p", "hi");
      assert.equal(c.timedOut, false, "cat blocked on the FIFO");
      assert.equal(c.code, 1);
      assert.equal(c.raw.length, 0);
      assert.equal(c.stderr, "blobrt: cannot read p/6869: not a regular file (a FIFO)\n");
      const i = runWithin(10_000, "inspect", dir);
      assert.equal(i.timedOut, false, "inspect blocked on the FIFO");
      assert.equal(i.code, 0, i.stderr);
      assert.match(i.stdout, /^foreign: p\/6869: not a file$/m);
      const v = runWithin(10_000, "verify", dir);
      assert.equal(v.timedOut, false, "verify blocked on the FIFO");
      assert.equal(v.code, 1);
      assert.deepEqual(v.stdout.trim().split("\n"), [
        "p/6869: not a file",
        "1 problems in 1 partitions, 0 blobs",
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

slow.test("cli: cat refuses a symlinked blob and never prints its target", async () => {
  const dir = await tempDir();
  const outside = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    const target = join(outside, "secret");
    // A valid blob, so only the link itself stops cat.
    fs.writeFileSync(
      target,
      new Uint8Array([...header(1), ...new TextEncoder().encode("TOPSECRET")]),
    );
    fs.symlinkSync(target, join(dir, "p", "6869"));
    const c = runWithin(10_000, "cat", dir, "p", "hi");
    assert.equal(c.timedOut, false);
    assert.equal(c.code, 1);
    assert.equal(c.raw.length, 0);
    assert.doesNotMatch(c.stdout + c.stderr, /TOPSECRET/);
    assert.equal(c.stderr, "blobrt: cannot read p/6869: not a regular file (a symbolic link)\n");
    const v = run("verify", dir);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /^p\/6869: not a file$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

slow.test("cli: control characters in names are escaped for humans, exact in --json", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    const name = "\x1b[31mred\u009b2J\\x1b\u202egnp.exe";
    fs.writeFileSync(join(dir, "p", name), "x");
    fs.writeFileSync(join(dir, ".blobrt-lock"), "1 2\n"); // a storage's lock: not foreign
    fs.writeFileSync(join(dir, "p", "6869"), new Uint8Array(header(1)));
    fs.mkdirSync(join(dir, "q\u009bq"));
    const shown = "p/\\x1b[31mred\\u009b2J\\\\x1b\\u202egnp.exe: not a lowercase hex blob name";
    const shownPartition = "q\\u009bq: not a valid partition name";
    // ESC, any other C0 control but newline, DEL, a C1 control (U+0080..U+009F), or a
    // bidirectional control (which reorders what a terminal shows).
    // deno-lint-ignore no-control-regex
    const raw = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    const i = run("inspect", dir);
    assert.equal(i.code, 0, i.stderr);
    assert.doesNotMatch(i.stdout, raw);
    assert.ok(!i.raw.includes(0x1b), "a raw ESC byte");
    assert.ok(i.stdout.split("\n").includes(`foreign: ${shown}`), i.stdout);
    assert.ok(i.stdout.split("\n").includes(`foreign: ${shownPartition}`), i.stdout);
    const v = run("verify", dir);
    assert.equal(v.code, 1);
    assert.doesNotMatch(v.stdout, raw);
    assert.ok(!v.raw.includes(0x1b), "a raw ESC byte");
    assert.deepEqual(v.stdout.trim().split("\n"), [
      shown,
      shownPartition,
      "2 problems in 1 partitions, 1 blobs",
    ]);
    for (const command of ["inspect", "verify"]) {
      const j = run(command, dir, "--json");
      assert.doesNotMatch(j.stdout, raw, command);
      const parsed = JSON.parse(j.stdout);
      const entries = (command === "inspect" ? parsed.foreign : parsed.problems)
        .map((p: { entry: string }) => p.entry);
      assert.deepEqual(entries, [name, "q\u009bq"], command);
    }
    // An argument echoed in an error is escaped too.
    const c = run("cat", join(dir, "no\x1b[2J"), "p", "hi");
    assert.equal(c.code, 2);
    assert.ok(!c.stderr.includes("\x1b"), "a raw ESC in stderr");
    assert.match(c.stderr, /no\\x1b\[2J/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("cli: bidi, format and separator characters in a blob's TEXT are escaped, exact in --json", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    // RLO, LRI, PDI, LINE SEPARATOR, PARAGRAPH SEPARATOR, ZERO WIDTH SPACE, SOFT HYPHEN,
    // ALM, a TAG character (above the BMP), and a plain é.
    const text = "a\u202eb\u2066c\u2069d\u2028e\u2029f\u200bg\u00adh\u061ci\u{e0041}j\u00e9";
    const hex = Buffer.from(text, "utf8").toString("hex");
    fs.writeFileSync(join(dir, "p", hex), new Uint8Array([...header(1), 7]));
    // Anything a name must not print raw (the é stays).
    const raw = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}](?<!\n)/u;
    const i = run("inspect", dir);
    assert.equal(i.code, 0, i.stderr);
    const row = i.stdout.split("\n")[1]!;
    assert.doesNotMatch(row, raw, row);
    assert.deepEqual(row.split(/\s{2,}/), [
      "p",
      hex,
      '"a\\u202eb\\u2066c\\u2069d\\u2028e\\u2029f\\u200bg\\u00adh\\u061ci\\u{e0041}j\u00e9"',
      "v0",
      "1",
      "1",
      "ok",
    ]);
    const j = run("inspect", dir, "--json");
    assert.equal(j.code, 0, j.stderr);
    assert.doesNotMatch(j.stdout.replaceAll("\n", ""), raw);
    assert.equal(JSON.parse(j.stdout).blobs[0].text, text);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("cli: cat refuses a symlinked partition and never prints what is outside", async () => {
  const dir = await tempDir();
  const outside = await tempDir();
  try {
    // A valid blob outside the directory, reached through the partition p -> outside.
    fs.writeFileSync(
      join(outside, "6869"),
      new Uint8Array([...header(1), ...new TextEncoder().encode("TOPSECRET")]),
    );
    fs.symlinkSync(outside, join(dir, "p"));
    const c = runWithin(10_000, "cat", dir, "p", "hi");
    assert.equal(c.timedOut, false);
    assert.equal(c.code, 1);
    assert.equal(c.raw.length, 0);
    assert.doesNotMatch(c.stdout + c.stderr, /TOPSECRET/);
    assert.equal(c.stderr, "blobrt: cannot read p/6869: the partition is a symbolic link\n");
    // A file where the partition should be is refused as well.
    fs.rmSync(join(dir, "p"));
    fs.writeFileSync(join(dir, "p"), "x");
    const f = run("cat", dir, "p", "hi");
    assert.equal(f.code, 1);
    assert.equal(f.stderr, "blobrt: cannot read p/6869: the partition is not a directory\n");
    // A real partition still reads.
    fs.rmSync(join(dir, "p"));
    fs.mkdirSync(join(dir, "p"));
    fs.writeFileSync(join(dir, "p", "6869"), new Uint8Array([...header(1), 33]));
    const ok = run("cat", dir, "p", "hi");
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual([...ok.raw], [33]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

test("cli: names that are not UTF-8 stay distinct: hex in --json, \\xHH for humans", async () => {
  const dir = await tempDir();
  try {
    fs.mkdirSync(join(dir, "p"));
    fs.writeFileSync(join(dir, "p", "00"), new Uint8Array(header(1)));
    // Raw bytes in names through the shell: Deno's node:fs cannot make them.
    const made = spawnSync("sh", [
      "-c",
      `touch "$(printf 'p/a\\377')" "$(printf 'p/a\\376')" && mkdir "$(printf 'q\\377')"`,
    ], { cwd: dir });
    assert.equal(made.status, 0, String(made.stderr));
    const problems = [
      { partition: "p", entryHex: "61fe", problem: "not a lowercase hex blob name" },
      { partition: "p", entryHex: "61ff", problem: "not a lowercase hex blob name" },
      { entryHex: "71ff", problem: "not a valid partition name" },
    ];
    const j = run("inspect", dir, "--json");
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout).foreign, problems);
    const vj = run("verify", dir, "--json");
    assert.equal(vj.code, 1, vj.stderr);
    assert.deepEqual(JSON.parse(vj.stdout).problems, problems);
    const v = run("verify", dir);
    assert.deepEqual(v.stdout.trim().split("\n"), [
      "p/a\\xfe: not a lowercase hex blob name",
      "p/a\\xff: not a lowercase hex blob name",
      "q\\xff: not a valid partition name",
      "3 problems in 1 partitions, 1 blobs",
    ]);
  } finally {
    spawnSync("rm", ["-rf", dir]);
  }
});
