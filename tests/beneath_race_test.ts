/**
 * Nothing outside the directory, even under a race (SPEC §4): while another
 * process swaps partition `p` with a symbolic link to a directory outside the
 * storage (`renameat2(RENAME_EXCHANGE)` in a tight loop), many `open`,
 * `remove` and `scan` calls on `p` must leave that directory byte for byte as
 * it was. Runs where the ports resolve paths beneath the root (FFI on Linux:
 * Bun, Deno with `--allow-ffi`); the racer is a small C program built with
 * `cc`, or python3's ctypes; without either the test says why it skips.
 * `BLOBRT_RACE_ROUNDS` sets the rounds per driver (default 300).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { isStorageError } from "../core/errors.ts";
import type { Storage } from "../core/types.ts";
import type { FileSystemPort } from "../fs/port.ts";
import { nodeFileSystem } from "../fs/node_port.ts";
import { denoFileSystem } from "../fs/deno_port.ts";
import { loadLibc } from "../fs/_libc.ts";
import { createStorage, type DriverName } from "../drivers/select.ts";
import { tempDir } from "./fs_fixture.ts";
import { isDeno } from "./spawn.ts";

const isBun = "Bun" in globalThis;
const ROUNDS = Number(process.env.BLOBRT_RACE_ROUNDS ?? 300);
const drivers: DriverName[] = [
  "node",
  ...(isDeno ? ["deno" as const] : isBun ? ["bun" as const] : []),
];

const RACER_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long max = atol(argv[3]), swaps = 0;
  for (long i = 0; i < max; i++) {
    if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2 /* RENAME_EXCHANGE */) == 0) {
      if (swaps++ == 0) { printf("go\\n"); fflush(stdout); }
    }
  }
  return 0;
}
`;

const RACER_PY = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b, n = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), int(sys.argv[3])
swaps = 0
for _ in range(n):
    if libc.syscall(316 if os.uname().machine == "x86_64" else 276, -100, a, -100, b, 2) == 0:
        swaps += 1
        if swaps == 1:
            print("go", flush=True)
`;

/** How to start a racer (`argv` before the two paths and the count), or why there is none. */
function racer(dir: string): string[] | string {
  if (process.platform !== "linux") return "renameat2 and openat2 are Linux only";
  if (!isDeno && !isBun) return "Node has no FFI: paths are checked, not resolved beneath the root";
  const c = join(dir, "racer.c");
  fs.writeFileSync(c, RACER_C);
  const cc = spawnSync("cc", ["-O2", "-o", join(dir, "racer"), c], { encoding: "utf8" });
  if (cc.status === 0) return [join(dir, "racer")];
  const py = spawnSync("python3", ["-c", "import ctypes"], { encoding: "utf8" });
  if (py.status === 0) {
    fs.writeFileSync(join(dir, "racer.py"), RACER_PY);
    return ["python3", join(dir, "racer.py")];
  }
  return "neither cc nor python3 (ctypes) is available to run a racing process";
}

/** A directory outside the storage with blob-like files in it, and its snapshot. */
function makeOutside(outside: string): string[] {
  fs.mkdirSync(join(outside, "sub"), { recursive: true });
  for (const hex of ["61", "62", "63", "64"]) fs.writeFileSync(join(outside, hex), "outside!");
  fs.writeFileSync(join(outside, "sub", "61"), "deeper");
  return snapshot(outside);
}

/** Every entry below `dir` with its bytes (or `<dir>`), sorted. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const path = join(d, name);
      const st = fs.lstatSync(path);
      if (st.isDirectory()) {
        out.push(`${prefix}${name}/`);
        walk(path, `${prefix}${name}/`);
      } else out.push(`${prefix}${name} ${fs.readFileSync(path).toString("hex")}`);
    }
  };
  walk(dir, "");
  return out;
}

/** Starts the racer; resolves once it has swapped at least once. */
function startRacer(argv: string[], a: string, b: string): Promise<ChildProcess> {
  const child = spawn(argv[0]!, [...argv.slice(1), a, b, "200000000"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`racer exited early: ${code}`)));
  });
}

/** Runs `op`, swallowing the StorageErrors the race causes; counts them. */
async function attempt(op: () => Promise<unknown>, errors: Map<string, number>): Promise<void> {
  try {
    await op();
  } catch (err) {
    if (!isStorageError(err)) throw err;
    errors.set(err.code, (errors.get(err.code) ?? 0) + 1);
  }
}

/** The open/remove/scan workload on partition `p`. */
async function workload(storage: Storage, errors: Map<string, number>): Promise<void> {
  const names = ["a", "b", "c", "d", "x", "y"]; // 61..64 exist outside, 78 and 79 do not
  for (let i = 0; i < ROUNDS; i++) {
    const name = names[i % names.length]!;
    await attempt(async () => {
      const { blob } = await storage.open("p", name);
      await blob.close();
    }, errors);
    await attempt(() => storage.scan("p"), errors);
    await attempt(() => storage.remove("p", names[(i + 3) % names.length]!), errors);
    if (i % 50 === 49) await attempt(() => storage.remove("p"), errors);
  }
}

/**
 * The same on the port alone, with no engine check before each call: every
 * call on `p` is given the root, so it must resolve beneath it.
 */
async function portWorkload(port: FileSystemPort, root: string, errors: Map<string, number>) {
  const p = join(root, "p");
  const names = ["61", "62", "63", "64", "78", "79"];
  const count = (err: unknown) => {
    const code = (err as { code?: string }).code ?? String(err);
    errors.set(code, (errors.get(code) ?? 0) + 1);
  };
  for (let i = 0; i < ROUNDS; i++) {
    const name = names[i % names.length]!;
    await port.mkdir(p, root).catch(count);
    await port.open(join(p, name), root).then((f) => {
      f.write(new Uint8Array([1, 2, 3]), 0);
      f.close();
    }, count);
    await port.readDir(p, root).catch(count);
    await port.kind?.(join(p, name), root).catch(count);
    await port.syncDir(p, root).catch(count);
    await port.removeFile(join(p, names[(i + 3) % names.length]!), root).catch(count);
    if (i % 50 === 49) await port.removeDir(p, root).catch(count);
  }
}

const setup = await tempDir();
const how = racer(setup);
const ffi = process.platform === "linux" && await loadLibc() !== undefined;
const skip = typeof how === "string"
  ? how
  : ffi
  ? false
  : "no FFI here (Deno needs --allow-ffi): paths are checked, not resolved beneath the root";
if (skip) console.log(`beneath_race_test skipped: ${skip}`);

for (const driver of drivers) {
  test(
    `${driver}: a partition swapped for a link to outside, in a loop, redirects nothing`,
    { skip, timeout: 240_000 },
    async () => {
      const top = await tempDir();
      let child: ChildProcess | undefined;
      try {
        const root = join(top, "store");
        const outside = join(top, "outside");
        fs.mkdirSync(join(root, "p"), { recursive: true });
        const before = makeOutside(outside);
        fs.symlinkSync(outside, join(root, "swap"));
        const storage = createStorage({ driver, directory: root });
        await (await storage.open("p", "a")).blob.close(); // the lock and the root, first
        child = await startRacer(how as string[], join(root, "p"), join(root, "swap"));
        const errors = new Map<string, number>();
        await workload(storage, errors);
        child.kill("SIGKILL");
        await new Promise((resolve) => child!.once("exit", resolve));
        child = undefined;
        console.log(`${driver}: ${ROUNDS} rounds, errors ${JSON.stringify([...errors])}`);
        assert.deepEqual(snapshot(outside), before, "the outside directory is unchanged");
        assert.ok(errors.size > 0, "the race was on: some operations met the link");
      } finally {
        if (child !== undefined) {
          child.kill("SIGKILL");
          await new Promise((resolve) => child!.once("exit", resolve));
        }
        fs.rmSync(top, { recursive: true, force: true });
      }
    },
  );
}

const ports = [nodeFileSystem, ...(isDeno ? [denoFileSystem] : [])];
for (const port of ports) {
  test(
    `port ${port.name}: every call given the root resolves beneath it, under the race`,
    { skip, timeout: 240_000 },
    async () => {
      const top = await tempDir();
      let child: ChildProcess | undefined;
      try {
        const root = join(top, "store");
        const outside = join(top, "outside");
        fs.mkdirSync(join(root, "p"), { recursive: true });
        const before = makeOutside(outside);
        fs.symlinkSync(outside, join(root, "swap"));
        child = await startRacer(how as string[], join(root, "p"), join(root, "swap"));
        const errors = new Map<string, number>();
        await portWorkload(port, root, errors);
        child.kill("SIGKILL");
        await new Promise((resolve) => child!.once("exit", resolve));
        child = undefined;
        console.log(`${port.name}: ${ROUNDS} rounds, errors ${JSON.stringify([...errors])}`);
        assert.deepEqual(snapshot(outside), before, "the outside directory is unchanged");
        assert.ok((errors.get("ENOTDIR") ?? 0) + (errors.get("ELOOP") ?? 0) > 0, "the race was on");
      } finally {
        if (child !== undefined) {
          child.kill("SIGKILL");
          await new Promise((resolve) => child!.once("exit", resolve));
        }
        fs.rmSync(top, { recursive: true, force: true });
      }
    },
  );
}

test("beneath race: the racer's scratch directory goes", () => {
  fs.rmSync(setup, { recursive: true, force: true });
});
