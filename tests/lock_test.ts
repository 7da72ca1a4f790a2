/**
 * One process per directory (SPEC §4): a filesystem storage locks its
 * directory at its first operation; storages in one process share the lock,
 * another process gets `StorageLocked` on every operation, and SIGKILL or
 * `storage.close()` releases it. The other process is real: this runtime
 * running `tests/fixtures/lock_holder.ts` (on Deno also without FFI, where
 * the lock is `FsFile.tryLock`), and Node running the same file bundled
 * (Node has no `flock`, so it takes the lock-file-only path).
 *
 * The lock cannot be walked around: a FIFO or a link at `.blobrt-lock` is
 * refused without hanging; removing, renaming or replacing the lock file
 * under a Deno or Bun holder lets nobody in; a holder in another PID
 * namespace (a container sharing the volume) is never taken for dead; the
 * same directory reached through a bind mount or a link is one lock. The
 * namespace and bind-mount tests need root and util-linux's `unshare`; they
 * are skipped, with the reason, where that is missing.
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

const isBun = "Bun" in globalThis;
const here = import.meta.dirname ?? ".";
const fixture = join(here, "fixtures", "lock_holder.ts");
const LOCK = ".blobrt-lock";
/** Generous for a busy 2-core machine: each test starts a few processes. */
const SLOW = { timeout: 120_000 };

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

type Argv = [string, string[]];

/**
 * A way to start the other process; `flock`: whether its runtime locks by
 * `flock`; `proc`: whether it can read `/proc` (Deno needs `--allow-all`).
 */
interface Other {
  name: string;
  flock: boolean;
  proc: boolean;
  argv: (mode: string, ...args: string[]) => Argv;
}

let bundled: { script: string } | string | undefined;

/** `node` on the PATH and the fixture bundled for it (once), or why not. */
function nodeChild(): { script: string } | string {
  if (bundled !== undefined) return bundled;
  const esbuild = join(here, "..", "node_modules", ".bin", "esbuild");
  if (spawnSync("node", ["--version"]).status !== 0) return bundled = "node is not on the PATH";
  const dir = fs.mkdtempSync(join(tmpdir(), "blobrt-lock-"));
  // Removed at exit (it was left behind by every run): Deno's test runner fires "unload", not "exit".
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  process.on("exit", remove);
  globalThis.addEventListener?.("unload", remove);
  const out = join(dir, "holder.mjs");
  execFileSync(esbuild, [
    fixture,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    `--outfile=${out}`,
    "--log-level=warning",
  ]);
  return bundled = { script: out };
}

/** This runtime running the fixture with `driver` (on Deno, `flags` instead of `-A`). */
function self(driver: string, flags = ["-A"], label = ""): Other {
  return {
    name: `${isDeno ? "deno" : "bun"}${label} ${driver}`,
    flock: true,
    proc: flags.includes("-A"),
    argv: (mode, ...args) => [
      process.execPath,
      isDeno
        ? ["run", ...flags, "--quiet", fixture, mode, driver, ...args]
        : [fixture, mode, driver, ...args],
    ],
  };
}

/** The node child, or undefined where there is none. */
function node(): Other | undefined {
  const child = nodeChild();
  if (typeof child === "string") return undefined;
  return {
    name: "node NodeStorage",
    flock: false,
    proc: true,
    argv: (mode, ...args) => ["node", [child.script, mode, "NodeStorage", ...args]],
  };
}

/** The ways to start the other process: this runtime (each of its drivers), and Node. */
function others(): Other[] {
  const list = locals.map((l) => self(l.name));
  // Deno without --allow-ffi: the flock is FsFile.tryLock on the directory.
  if (isDeno) list.push(self("DenoStorage", ["--allow-read", "--allow-write"], " (no FFI)"));
  const n = node();
  if (n !== undefined) list.push(n);
  return list;
}

/** A running holder: ask it a line, read one line back. */
interface Holder {
  child: ChildProcess;
  exited: Promise<void>;
  ask(line: string): Promise<string>;
  kill(): Promise<void>;
}

/** Starts a holder and waits for it to say `held`. */
async function hold(argv: Argv): Promise<Holder> {
  const child = spawn(argv[0], argv[1], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let text = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    text += chunk;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n")) {
      const line = text.slice(0, i);
      text = text.slice(i + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${what} from the holder in 30 s`)),
        30_000,
      );
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      const queued = lines.shift();
      if (queued !== undefined) done(queued);
      else waiters.push(done);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the holder exited (${code})`));
      });
    });
  const holder: Holder = {
    child,
    exited,
    ask: (line) => {
      child.stdin!.write(`${line}\n`);
      return next(`answer to ${line}`);
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
  try {
    const first = await next("start");
    if (first !== "held") throw new Error(`the holder said ${JSON.stringify(first)}`);
  } catch (err) {
    await holder.kill();
    throw err;
  }
  return holder;
}

/** Runs `try` (or another one-shot mode) in the other process: the code it printed, and the message. */
function tryOnce(argv: Argv): { code: string; message: string } {
  const r = spawnSync(argv[0], argv[1], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.error, undefined, `the other process failed or hung: ${r.error}`);
  assert.equal(r.status, 0, r.stderr);
  const [code = "", message = ""] = r.stdout.split("\n");
  return { code, message };
}

const LOCKED_BY = (pid: number | undefined) => new RegExp(`storage locked: .*process ${pid}`);

/** Every local driver, in this process, gets `StorageLocked` from every operation. */
async function allLocked(dir: string, why?: RegExp): Promise<void> {
  for (const local of locals) {
    const storage = local.make(dir);
    const err = await rejectsCode(storage.open("p", "b"), "StorageLocked");
    if (why) assert.match(err.message, why, local.name);
    await rejectsCode(storage.scan("held"), "StorageLocked");
    await rejectsCode(storage.remove("held", "b"), "StorageLocked");
  }
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
    assert.match(fs.readFileSync(join(dir, LOCK), "utf8"), new RegExp(`^${process.pid} `));
    for (const storage of storages) await storage.close();
    assert.deepEqual(fs.readdirSync(dir), ["p"], "the last close deletes the lock file");
  }));

test("lock: a symbolic link to the directory and the directory are one lock", () =>
  inTempDir(async (dir) => {
    const real = join(dir, "real");
    fs.mkdirSync(real);
    fs.symlinkSync(real, join(dir, "link"));
    const storages = locals.flatMap((l) => [l.make(real), l.make(join(dir, "link"))]);
    for (const [i, storage] of storages.entries()) {
      await (await storage.open("p", `b${i}`)).blob.close();
    }
    for (const storage of storages) await storage.close();
  }));

if (noChild) {
  test("lock: another process", { skip: noChild }, () => {});
} else {
  const all = others();
  for (const other of all) {
    for (const local of locals) {
      test(
        `lock: ${other.name} holds the directory: ${local.name} gets StorageLocked until SIGKILL`,
        SLOW,
        () =>
          inTempDir(async (dir) => {
            const holder = await hold(other.argv("hold", dir));
            try {
              const storage = local.make(dir);
              const err = await rejectsCode(storage.open("p", "b"), "StorageLocked");
              assert.equal(err.partition, "p");
              assert.equal(err.blob, "62");
              assert.match(err.message, LOCKED_BY(holder.child.pid));
              await rejectsCode(storage.scan("held"), "StorageLocked");
              await rejectsCode(storage.remove("held", "b"), "StorageLocked");
              await rejectsCode(storage.remove("held"), "StorageLocked");
              assert.deepEqual(
                fs.readdirSync(dir).sort(),
                [LOCK, "held"],
                "nothing made or removed",
              );
              assert.deepEqual(fs.readdirSync(join(dir, "held")), ["62"]);
            } finally {
              await holder.kill();
            }
            // The holder is gone: the lock is this process's now.
            const storage = local.make(dir);
            assert.deepEqual(await storage.scan("held"), [enc("b")]);
            await (await storage.open("p", "b")).blob.close();
            assert.match(fs.readFileSync(join(dir, LOCK), "utf8"), new RegExp(`^${process.pid} `));
            await storage.close();
          }),
      );
    }

    test(
      `lock: while this process holds the directory, ${other.name} gets StorageLocked`,
      SLOW,
      () =>
        inTempDir(async (dir) => {
          const storage = locals[0]!.make(dir);
          await (await storage.open("p", "b")).blob.close();
          assert.equal(tryOnce(other.argv("try", dir)).code, "StorageLocked");
          assert.ok(!fs.existsSync(join(dir, "held")), "the other process made nothing");
          // Closed: the directory is free for the other process.
          await storage.close();
          assert.equal(tryOnce(other.argv("try", dir)).code, "ok");
        }),
    );

    test(
      `lock: ${other.name} takes over a stale lock (dead pid, reused pid, earlier boot)`,
      SLOW,
      () =>
        inTempDir(async (dir) => {
          const stale = [
            "999999999 - - - flock\n", // a flock holder's: it is gone if the flock is free
            // Provably stale only where /proc can be read: a pid beyond any pid_max
            // (also in an earlier version's record), a live pid with another start time.
            ...(other.proc
              ? [
                "999999999 1\n",
                "999999999 - - - pid\n",
                `${process.pid} 1\n`,
                `${process.pid} 1 - - pid\n`,
              ]
              : []),
          ];
          for (const record of stale) {
            fs.writeFileSync(join(dir, LOCK), record);
            assert.equal(tryOnce(other.argv("try", dir)).code, "ok", record);
          }
          assert.equal(
            tryOnce(other.argv("try", dir)).code,
            "ok",
            "a record of a finished process",
          );
        }),
    );

    test(
      `lock: ${other.name} refuses a FIFO or a link at the lock file, at once`,
      SLOW,
      () =>
        inTempDir(async (dir) => {
          const target = join(dir, "target");
          fs.writeFileSync(target, "outside");
          const store = join(dir, "store");
          fs.mkdirSync(store);
          const lock = join(store, LOCK);
          const cases: [string, () => void, RegExp][] = [
            ["a FIFO", () => execFileSync("mkfifo", [lock]), /FIFO/],
            ["a link to /dev/zero", () => fs.symlinkSync("/dev/zero", lock), /symbolic link/],
            ["a link to a file outside", () => fs.symlinkSync(target, lock), /symbolic link/],
            ["a directory", () => fs.mkdirSync(lock), /directory/],
          ];
          for (const [what, make, why] of cases) {
            fs.rmSync(lock, { recursive: true, force: true });
            make();
            const started = Date.now();
            const { code, message } = tryOnce(other.argv("try", store));
            assert.equal(code, "StorageLocked", `${what}: ${message}`);
            assert.match(message, why, what);
            assert.ok(Date.now() - started < 20_000, `${what}: took ${Date.now() - started} ms`);
            assert.deepEqual(fs.readdirSync(store), [LOCK], `${what}: nothing created`);
          }
          assert.equal(fs.readFileSync(target, "utf8"), "outside");
        }),
    );
  }

  for (const holderSide of all.filter((o) => o.flock)) {
    test(
      `lock: the lock file removed, renamed or replaced under ${holderSide.name}: nobody else gets in`,
      SLOW,
      () =>
        inTempDir(async (dir) => {
          const holder = await hold(holderSide.argv("hold", dir));
          const lock = join(dir, LOCK);
          const tampers: [string, () => void][] = [
            ["renamed", () => fs.renameSync(lock, join(dir, "moved-lock"))],
            ["replaced by a stale record", () => {
              fs.writeFileSync(join(dir, "new"), "999999999 - - - pid\n");
              fs.renameSync(join(dir, "new"), lock);
            }],
            ["replaced by a dead flock holder's record", () => {
              fs.writeFileSync(join(dir, "new"), "999999999 - - - flock\n");
              fs.renameSync(join(dir, "new"), lock);
            }],
            ["removed", () => fs.rmSync(lock, { force: true })],
          ];
          try {
            for (const [what, tamper] of tampers) {
              tamper();
              await allLocked(dir);
              for (const other of all) {
                assert.equal(
                  tryOnce(other.argv("try", dir)).code,
                  "StorageLocked",
                  `${what}: ${other.name}`,
                );
              }
              assert.equal(await holder.ask("open"), "ok", `${what}: the holder goes on`);
              assert.deepEqual(fs.readdirSync(join(dir, "held")).sort(), ["62", "63"]);
            }
          } finally {
            await holder.kill();
          }
        }),
    );
  }

  const nodeOther = node();
  if (nodeOther !== undefined) {
    test(
      "lock: a Node holder whose lock file is removed or replaced refuses to go on",
      SLOW,
      () =>
        inTempDir(async (dir) => {
          const holder = await hold(nodeOther.argv("hold", dir));
          try {
            assert.equal(await holder.ask("open"), "ok");
            fs.rmSync(join(dir, LOCK));
            assert.equal(await holder.ask("open"), "StorageLocked", "removed");
            execFileSync("mkfifo", [join(dir, LOCK)]);
            assert.equal(await holder.ask("open"), "StorageLocked", "a FIFO now: no hang");
          } finally {
            await holder.kill();
          }
        }),
    );
  }

  for (const other of all) {
    test(
      `lock: ${other.name} closes its storage: the directory is free while it lives on`,
      SLOW,
      () =>
        inTempDir(async (dir) => {
          const holder = await hold(other.argv("hold", dir));
          try {
            await allLocked(dir, LOCKED_BY(holder.child.pid));
            assert.equal(await holder.ask("close"), "closed");
            assert.deepEqual(fs.readdirSync(dir), ["held"], "no lock file left behind");
            const storage = locals[0]!.make(dir);
            assert.deepEqual(await storage.scan("held"), [enc("b")]);
            assert.equal(await holder.ask("open"), "Closed");
            assert.equal(tryOnce(other.argv("try", dir)).code, "StorageLocked");
            await storage.close();
          } finally {
            await holder.kill();
          }
        }),
    );
  }
}

test("lock: a stale record is taken over by this process too", () =>
  inTempDir(async (dir) => {
    fs.writeFileSync(join(dir, LOCK), "999999999 1\n");
    const storage = locals[0]!.make(dir);
    await (await storage.open("p", "b")).blob.close();
    assert.match(fs.readFileSync(join(dir, LOCK), "utf8"), new RegExp(`^${process.pid} \\S+ `));
    await storage.close();
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
      const scanned = await rejectsCode(storage.scan("p"), "StorageLocked");
      assert.equal(scanned.partition, "p");
      assert.match(scanned.message, /the lock file is a symbolic link/);
      const opened = await rejectsCode(storage.open("p", "b"), "StorageLocked");
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

test("lock: the directory renamed away and replaced: the holder stops", () =>
  inTempDir(async (dir) => {
    const root = join(dir, "root");
    const storage = locals[0]!.make(root);
    await (await storage.open("p", "b")).blob.close();
    fs.renameSync(root, join(dir, "old"));
    fs.mkdirSync(root);
    const err = await rejectsCode(storage.open("p", "b"), "StorageLocked");
    assert.match(err.message, /replaced/);
    assert.deepEqual(fs.readdirSync(root), [], "nothing made in the new directory");
    await storage.close();
  }));

// ---- PID namespaces and bind mounts (root, util-linux) ----

/** Why `unshare --pid` cannot run here, or `false`. */
function noPidNs(): string | false {
  if (noChild) return noChild;
  const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", "true"]);
  return r.status === 0 ? false : `unshare --pid is not permitted here (${r.error ?? r.status})`;
}

/** Why a bind mount in a private mount namespace cannot be made here, or `false`. */
function noBind(): string | false {
  if (noChild) return noChild;
  const r = spawnSync("unshare", ["--mount", "sh", "-c", 'mount --bind "$0" "$0"', tmpdir()]);
  return r.status === 0 ? false : `mount --bind is not permitted here (${r.error ?? r.status})`;
}

/** `argv` run as the first process of a new PID namespace (SIGKILLed with its parent). */
function inPidNs(argv: Argv): Argv {
  return ["unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", argv[0], ...argv[1]]];
}

const pidNsSkip = noPidNs();
const nsOthers = pidNsSkip ? [] : others();
const nsNode = nsOthers.find((o) => !o.flock);

test("lock: a Node holder in another PID namespace is never taken for dead", {
  ...SLOW,
  skip: pidNsSkip || (nsNode === undefined && "node is not on the PATH"),
}, () =>
  inTempDir(async (dir) => {
    const holder = await hold(inPidNs(nsNode!.argv("hold", dir)));
    try {
      // Its record says pid 1 (itself, in its namespace): alive here too, but another process.
      await allLocked(dir);
      for (const other of nsOthers) {
        const { code, message } = tryOnce(other.argv("try", dir));
        assert.equal(code, "StorageLocked", other.name);
        assert.match(message, /another PID namespace.*delete the lock file/, other.name);
      }
    } finally {
      await holder.kill();
    }
    // Dead, but not provably so from here: cleared by hand, as the message says.
    assert.equal(tryOnce(nsNode!.argv("try", dir)).code, "StorageLocked");
    fs.rmSync(join(dir, LOCK));
    assert.equal(tryOnce(nsNode!.argv("try", dir)).code, "ok");
  }));

test("lock: holders of this PID namespace keep out Node in another one", {
  ...SLOW,
  skip: pidNsSkip || (nsNode === undefined && "node is not on the PATH"),
}, () =>
  inTempDir(async (dir) => {
    for (const holderSide of nsOthers) {
      const holder = await hold(holderSide.argv("hold", dir));
      try {
        const { code } = tryOnce(inPidNs(nsNode!.argv("try", dir)));
        assert.equal(code, "StorageLocked", holderSide.name);
      } finally {
        await holder.kill();
      }
      if (holderSide.flock) {
        // Its flock is gone with it: a flock holder's record proves nothing more.
        for (const other of nsOthers.filter((o) => o.flock)) {
          assert.equal(tryOnce(inPidNs(other.argv("try", dir))).code, "ok", other.name);
        }
      }
      fs.rmSync(join(dir, LOCK), { force: true });
    }
  }));

test("lock: a Deno or Bun holder in another PID namespace keeps Node out until it dies", {
  ...SLOW,
  skip: pidNsSkip || (nsNode === undefined && "node is not on the PATH"),
}, () =>
  inTempDir(async (dir) => {
    const holder = await hold(inPidNs(nsOthers[0]!.argv("hold", dir)));
    try {
      assert.equal(tryOnce(nsNode!.argv("try", dir)).code, "StorageLocked");
      await allLocked(dir);
    } finally {
      await holder.kill();
    }
    // From the first PID namespace /proc/locks shows every flock: none is left.
    assert.equal(tryOnce(nsNode!.argv("try", dir)).code, "ok");
  }));

const bindSkip = noBind();
for (const local of bindSkip ? [] : others().filter((o) => o.flock)) {
  test(
    `lock: ${local.name}: the directory and a bind mount of it in one process are one lock`,
    SLOW,
    () =>
      inTempDir(async (dir) => {
        const a = join(dir, "a");
        const b = join(dir, "b");
        fs.mkdirSync(a);
        fs.mkdirSync(b);
        const [cmd, args] = local.argv("two", a, b);
        const { code, message } = tryOnce([
          "unshare",
          [
            "--mount",
            "sh",
            "-c",
            'mount --bind "$0" "$1" && shift && exec "$@"',
            a,
            b,
            cmd,
            ...args,
          ],
        ]);
        assert.equal(code, "ok", message);
      }),
  );
}
if (bindSkip) test("lock: bind mounts", { skip: bindSkip }, () => {});
