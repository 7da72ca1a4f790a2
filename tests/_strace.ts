/**
 * What the strace tests share: the drivers a traced child runs, why strace
 * cannot run here, and the argv of a fixture run under this runtime.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import { isDeno } from "./spawn.ts";

const isBun = "Bun" in globalThis;

/** NodeStorage and this runtime's own driver (DenoStorage or BunStorage). */
export const tracedDrivers: string[] = [
  "NodeStorage",
  ...(isDeno ? ["DenoStorage"] : isBun ? ["BunStorage"] : []),
];

/** Why a traced child cannot run here, or `false` (CI installs strace). */
export function straceSkip(): string | false {
  if (!isDeno && !isBun) return "the traced child runs a TypeScript file under deno or bun";
  if (process.platform !== "linux") return "strace is Linux only";
  const r = spawnSync("strace", ["-o", "/dev/null", "true"]);
  return r.status === 0 ? false : "strace is not installed or cannot trace here";
}

/** The command line that runs `fixture` with `args` under this runtime. */
export function fixtureArgv(fixture: string, ...args: string[]): string[] {
  return isDeno
    ? [process.execPath, "run", "-A", "--quiet", fixture, ...args]
    : [process.execPath, fixture, ...args];
}
