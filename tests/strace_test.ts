/**
 * Durable open, checked on real system calls with `strace` (SPEC §4 "Durable
 * open, always"): an open whose fsync fails (injected EIO) leaves no blob
 * behind, and a blob file left by an open that was killed after writing its
 * header is fsynced by the next process's first open before it resolves, and
 * so is the whole chain above it: the root's entry in its parent, the root,
 * the partition directory (the root may have been created by a process that
 * died before it fsynced its parent).
 * CI installs strace; where it is missing or cannot trace, the test says so.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { createHeader } from "../core/header.ts";
import { tempDir } from "./fs_fixture.ts";
import { fixtureArgv, straceSkip, tracedDrivers } from "./_strace.ts";

const fixture = join(import.meta.dirname ?? ".", "fixtures", "durable_open.ts");

const skip = straceSkip();

/** Runs the fixture under strace, tracing fsync calls on `file` only; its stdout lines and the trace. */
function traced(driver: string, dir: string, file: string, inject: boolean) {
  const log = join(dir, "..", `${driver}.strace`);
  const runtime = fixtureArgv(fixture, driver, dir);
  const r = spawnSync("strace", [
    "-f",
    "-qq",
    "-o",
    log,
    "-P",
    file,
    "-e",
    "trace=fsync,fdatasync",
    ...(inject ? ["-e", "inject=fsync:error=EIO"] : []),
    ...runtime,
  ], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const trace = fs.readFileSync(log, "utf8").split("\n").filter((l) => l.includes("sync("));
  fs.rmSync(log);
  return { lines: r.stdout.trim().split("\n"), trace };
}

/** Runs the fixture under strace with `-y`: the fsync calls on any of `paths`, fds named. */
function tracedChain(driver: string, dir: string, paths: string[]): string[] {
  const log = join(dir, "..", `${driver}.chain.strace`);
  const runtime = fixtureArgv(fixture, driver, dir);
  const r = spawnSync("strace", [
    "-f",
    "-qq",
    "-y",
    "-o",
    log,
    ...paths.flatMap((p) => ["-P", p]),
    "-e",
    "trace=fsync,fdatasync",
    ...runtime,
  ], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["first ok", "second ok", "scan 62"]);
  const trace = fs.readFileSync(log, "utf8").split("\n").filter((l) => /sync\(.*= 0/.test(l));
  fs.rmSync(log);
  return trace;
}

for (const driver of tracedDrivers) {
  test(
    `strace ${driver}: a fresh process's first open on an existing root fsyncs parent, root, partition, file`,
    { skip, timeout: 120_000 },
    async () => {
      const top = await tempDir();
      try {
        const parent = join(top, "parent");
        const dir = join(parent, "store");
        fs.mkdirSync(join(dir, "p"), { recursive: true }); // as by a process killed at once
        const file = join(dir, "p", "62");
        fs.writeFileSync(file, createHeader("v0", 0));
        const trace = tracedChain(driver, dir, [parent, dir, join(dir, "p"), file]);
        const at = (path: string) => trace.findIndex((l) => l.includes(`<${path}>)`));
        const text = trace.join("\n");
        for (const path of [parent, dir, join(dir, "p"), file]) {
          assert.ok(at(path) >= 0, `${path} fsynced:\n${text}`);
        }
        assert.equal(
          trace.filter((l) => l.includes(`<${parent}>)`)).length,
          1,
          `parent once:\n${text}`,
        );
        assert.ok(at(parent) < at(file), `the parent before the file:\n${text}`);
      } finally {
        fs.rmSync(top, { recursive: true, force: true });
      }
    },
  );

  test(
    `strace ${driver}: an open whose fsync fails (EIO) rejects and leaves no blob`,
    { skip, timeout: 120_000 },
    async () => {
      const root = await tempDir();
      try {
        const dir = join(root, "store");
        fs.mkdirSync(join(dir, "p"), { recursive: true });
        const { lines, trace } = traced(driver, dir, join(dir, "p", "62"), true);
        assert.deepEqual(lines, ["first BlobOpenFailed", "second BlobOpenFailed", "scan"]);
        assert.ok(
          trace.length >= 2 && trace.every((l) => l.includes("INJECTED")),
          trace.join("\n"),
        );
        assert.deepEqual(fs.readdirSync(join(dir, "p")), [], "no file left behind");
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  );

  test(
    `strace ${driver}: a header left by a killed open is fsynced before the next open resolves`,
    { skip, timeout: 120_000 },
    async () => {
      const root = await tempDir();
      try {
        const dir = join(root, "store");
        fs.mkdirSync(join(dir, "p"), { recursive: true });
        const file = join(dir, "p", "62");
        fs.writeFileSync(file, createHeader("v0", 0)); // written, never fsynced
        const { lines, trace } = traced(driver, dir, file, false);
        assert.deepEqual(lines, ["first ok", "second ok", "scan 62"]);
        const synced = trace.filter((l) => /f(data)?sync\(\d+\)\s+= 0/.test(l));
        assert.equal(
          synced.length,
          1,
          `one fsync of the file, by the first open only:\n${trace.join("\n")}`,
        );
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  );
}
