/**
 * The measuring loop shared by the comparison scripts (bench/fs_compare.ts,
 * bench/compare.ts), for Deno and Bun alike: fixed-time runs of an operation,
 * interleaved in rounds so that the drift of a noisy machine hits every
 * contender alike, and ratios taken per round.
 *
 * @module
 */

import { detectRuntime } from "../core/_runtime.ts";

/** One operation; a returned promise is awaited before the next. */
export type Op = () => unknown;

/** Runs `op` for `ms`, awaiting it when it returns a promise; returns ops/s. */
export async function measure(op: Op, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) {
      const r = op();
      if (r instanceof Promise) await r;
    }
    n += 64;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** The median (upper median for an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Warms every op up for `warmupMs`, then runs `rounds` rounds of `roundMs` per
 * op, rotating which op goes first so none always runs on a warmer cache.
 *
 * @returns ops/s per op (outer) and round (inner).
 */
export async function interleave(
  ops: Op[],
  rounds: number,
  roundMs: number,
  warmupMs = 100,
): Promise<number[][]> {
  for (const op of ops) await measure(op, warmupMs);
  const runs: number[][] = ops.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < ops.length; k++) {
      const i = (k + r) % ops.length;
      runs[i].push(await measure(ops[i], roundMs));
    }
  }
  return runs;
}

/** The median of the per-round ratios `a[r] / b[r]` (pairing rounds cancels drift). */
export const pairedRatio = (a: number[], b: number[]): number => median(a.map((x, r) => x / b[r]));

/** The command-line arguments under Deno or Bun (without the program name). */
export function args(): string[] {
  if ("Deno" in globalThis) return Deno.args;
  return (globalThis as { process?: { argv: string[] } }).process?.argv.slice(2) ?? [];
}

/** `"deno 2.9.6"`, `"bun 1.4.5"`, … */
export function runtimeVersion(): string {
  const runtime = detectRuntime();
  const g = globalThis as { Bun?: { version: string }; process?: { version: string } };
  if (runtime === "deno") return `deno ${Deno.version.deno}`;
  if (runtime === "bun") return `bun ${g.Bun?.version}`;
  return `${runtime} ${g.process?.version ?? "?"}`;
}

/** Formats ops/s for a table: `123,456`. */
export const fmtOps = (x: number): string => Math.round(x).toLocaleString("en");
