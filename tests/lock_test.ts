/**
 * One process per directory (SPEC §4): a filesystem storage locks its
 * directory at its first operation; storages in one process share the lock,
 * another process gets `StorageLocked` on every operation, and SIGKILL
 * releases it. The other process is real: this runtime running
 * `tests/fixtures/lock_holder.ts`, and Node running the same file bundled
 * (Node has no `flock`, so it takes the lock-file-only path).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import { DenoStorage } from "../drivers/deno.ts";
import { BunStorage } from "../drivers/bun.ts";
import { NodeStorage } from "../drivers/node.ts";
import type { Storage } from "../core/types.ts";
import { rejectsCode } from "./assert.ts";
import { isDeno } from "./spawn.ts";
import { enc } from "./util.ts";
import { inTempDir } from "./fs_fixture.ts";
import { slow } from "./limits.ts";

const isBun = "Bun" in globalThis;
const here = import.meta.dirname ?? ".";
const fixture = join(here, "fixtures", "lock_holder.ts");
const LOCK = ".blobrt-lock";

/** Why these tests cannot run here, or `false`. */
const noChild = isDeno || isBun
  ? false
  : "the other process runs a TypeScript file under deno or bun";

/** The drivers of this runtime. */
const locals: { name: string; make: (directory: string) => Storage }[] = [
  { name: "NodeStorage", make: (directory) => new NodeStorage({ directory }) },
  ...(isDeno
    ? [{ name: "DenoStorage", make: (d: string) => new DenoStorage({ directory: d }) }]
    : []),
  ...(isBun ? [{ name: "BunStorage", make: (d: string) => new BunStorage({ directory: d }) }] : []),
];

/** `node` on the PATH and the fixture bundled for it, or why not. */
function nodeChild(): { script: string } | string {
  const esbuild = join(here, "..", "node_modules", ".bin", "esbuild");
  if (spawnSync("node", ["--version"]).status !== 0) return "node is not on the PATH";
  const out = join(
    fs.mkdtempSync(join(tmpdir(), "blobrt-lock-")),
    "holder.mjs",
  );
  execFileSync(esbuild, [
    fixture,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    `--outfile=${out}`,
    "--log-level=warning",
  ]);
  return { script: out };
}

/** The ways to start the other process: this runtime (each of its drivers), and Node. */
function others(): { name: string; argv: (mode: string, dir: string) => [string, string[]] }[] {
  const self = (driver: string) => ({
    name: `${isDeno ? "deno" : "bun"} ${driver}`,
    argv: (mode: string, dir: string): [string, string[]] => [
      process.execPath,
      isDeno ? ["run", "-A", "--quiet", fixture, mode, driver, dir] : [fixture, mode, driver, dir],
    ],
  });
  const list = locals.map((l) => self(l.name));
  const node = nodeChild();
  if (typeof node !== "string") {
    list.push({
      name: "node NodeStorage",
      argv: (mode, dir) => ["node", [node.script, mode, "NodeStorage", dir]],
    });
  }
  return list;
}

/** Starts a holder and waits for it to say `held`. */
async function hold(
  argv: [string, string[]],
): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(argv[0], argv[1], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the holder did not start in 20 s")), 20_000);
    let text = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n")) {
        clearTimeout(timer);
        if (text === "held\n") resolve();
        else reject(new Error(`the holder said ${JSON.stringify(text)}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the holder exited (${code})`));
    });
  });
  return { child, exited };
}

/** Runs `try` in the other process; what it printed. */
function tryOnce(argv: [string, string[]]): string {
  const r = spawnSync(argv[0], argv[1], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test("lock: storages on one directory in one process share the lock", () =>
  inTempDir(async (dir) => {
    const storages = [...locals, ...locals].map((l) => l.make(dir));
    for (const [i, storage] of storages.entries()) {
      const { blob } = await storage.open("p", `b${i}`);
      await blob.close();
    }
    for (const storage of storages) assert.equal((await storage.scan("p")).length, storages.length);
    assert.deepEqual(fs.readdirSync(dir).sort(), [LOCK, "p"]);
    assert.match(fs.readFileSync(join(dir, LOCK), "utf8"), new RegExp(`^${process.pid} \\d*\\n$`));
  }));

if (noChild) {
  test("lock: another process", { skip: noChild }, () => {});
} else {
  for (const other of others()) {
    for (const local of locals) {
      slow.test(`lock: ${other.name} holds the directory: ${local.name} gets StorageLocked until SIGKILL`, () =>
        inTempDir(async (dir) => {
          const { child, exited } = await hold(other.argv("hold", dir));
          try {
            const storage = local.make(dir);
            const err = await rejectsCode(storage.open("p", "b"), "StorageLocked");
            assert.equal(err.partition, "p");
            assert.equal(err.blob, "62");
            assert.match(err.message, new RegExp(`storage locked: .*process ${child.pid}`));
            await rejectsCode(storage.scan("held"), "StorageLocked");
            await rejectsCode(storage.remove("held", "b"), "StorageLocked");
            await rejectsCode(storage.remove("held"), "StorageLocked");
            assert.deepEqual(fs.readdirSync(dir).sort(), [LOCK, "held"], "nothing made or removed");
            assert.deepEqual(fs.readdirSync(join(dir, "held")), ["62"]);
          } finally {
            child.kill("SIGKILL");
            await exited;
          }
          // The holder is gone: the lock is this process's now.
          const storage = local.make(dir);
          assert.deepEqual(await storage.scan("held"), [enc("b")]);
          await (await storage.open("p", "b")).blob.close();
          assert.match(fs.readFileSync(join(dir, LOCK), "utf8"), new RegExp(`^${process.pid} `));
        }));
    }

    slow.test(`lock: while this process holds the directory, ${other.name} gets StorageLocked`, () =>
      inTempDir(async (dir) => {
        await (await locals[0]!.make(dir).open("p", "b")).blob.close();
        assert.equal(tryOnce(other.argv("try", dir)), "StorageLocked");
        assert.ok(!fs.existsSync(join(dir, "held")), "the other process made nothing");
      }));

    slow.test(`lock: ${other.name} takes over a stale lock (dead pid, reused pid)`, () =>
      inTempDir(async (dir) => {
        fs.writeFileSync(join(dir, LOCK), "999999999 1\n"); // beyond any pid_max
        assert.equal(tryOnce(other.argv("try", dir)), "ok");
        fs.writeFileSync(join(dir, LOCK), `${process.pid} 1\n`); // a live pid, another start time
        assert.equal(tryOnce(other.argv("try", dir)), "ok");
        assert.equal(tryOnce(other.argv("try", dir)), "ok", "a record of a finished process");
      }));
  }
}

test("lock: a stale record is taken over by this process too", () =>
  inTempDir(async (dir) => {
    fs.writeFileSync(join(dir, LOCK), "999999999 1\n");
    await (await locals[0]!.make(dir).open("p", "b")).blob.close();
    assert.match(fs.readFileSync(join(dir, LOCK), "utf8"), new RegExp(`^${process.pid} \\d*\\n$`));
  }));

test("lock: a lock file that is a symbolic link is refused, its target untouched", () =>
  inTempDir(async (dir) => {
    const store = join(dir, "store");
    const target = join(dir, "target");
    fs.mkdirSync(store);
    fs.writeFileSync(target, "outside");
    fs.symlinkSync(target, join(store, LOCK));
    for (const local of locals) {
      const storage = local.make(store);
      const scanned = await rejectsCode(storage.scan("p"), "Io");
      assert.equal(scanned.partition, "p");
      const opened = await rejectsCode(storage.open("p", "b"), "PartitionCreationFailed");
      assert.equal(opened.blob, "62");
    }
    assert.equal(fs.readFileSync(target, "utf8"), "outside");
    assert.deepEqual(fs.readdirSync(store), [LOCK], "nothing created");
  }));

test("lock: no root, no lock: scan and remove touch nothing", () =>
  inTempDir(async (dir) => {
    const root = join(dir, "none");
    for (const local of locals) {
      const storage = local.make(root);
      await rejectsCode(storage.scan("p"), "PartitionMissing");
      await rejectsCode(storage.remove("p"), "PartitionMissing");
    }
    assert.ok(!fs.existsSync(root));
  }));
