/**
 * Runs a script file under the running runtime (Deno or Bun) in a child
 * process, as a user would from a shell.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import process from "node:process";

/** Whether the tests run under Deno. */
export const isDeno = "Deno" in globalThis;

/** What a child process left behind. */
export interface RunResult {
  /** Exit code (-1 when killed). */
  code: number;
  /** Standard output, raw. */
  raw: Uint8Array;
  /** Standard output as text. */
  stdout: string;
  /** Standard error as text. */
  stderr: string;
  /** Whether it was killed for running past `timeoutMs`. */
  timedOut: boolean;
}

/**
 * Runs `script` with `args` under this runtime: `deno run -A [denoFlags] script`
 * or `bun script`, in `cwd` (default: the current directory), killed after
 * `timeoutMs` if given.
 */
export function runScript(
  script: string,
  args: string[] = [],
  options: { cwd?: string; denoFlags?: string[]; timeoutMs?: number } = {},
): RunResult {
  const argv = isDeno
    ? ["run", "-A", ...(options.denoFlags ?? []), script, ...args]
    : [script, ...args];
  const r = spawnSync(process.execPath, argv, {
    encoding: "buffer",
    cwd: options.cwd,
    timeout: options.timeoutMs,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const raw = new Uint8Array(r.stdout ?? []);
  return {
    code: r.status ?? -1,
    raw,
    stdout: new TextDecoder().decode(raw),
    stderr: String(r.stderr ?? ""),
    timedOut: r.signal !== null || (r.error as { code?: string } | undefined)?.code === "ETIMEDOUT",
  };
}
