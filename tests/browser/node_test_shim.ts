/**
 * The slice of `node:test` the shared suites use, for the browser bundle (the
 * runner aliases `node:test` here): `test(name, fn)`, `test(name, options,
 * fn)` with `{ skip }`, and `t.test` for nested tests. Tests register; the
 * worker entry runs them one at a time with {@linkcode runRegistered}.
 *
 * @module
 */

/** What a test body receives: a context whose `test` registers a nested test. */
export interface TestContext {
  /** The test's name. */
  readonly name: string;
  /** Runs a nested test (awaited by the caller, as in node:test). */
  test(name: string, options: TestOptions | TestFn, fn?: TestFn): Promise<void>;
}

/** The options the suites pass. */
export interface TestOptions {
  /** Skip the test: `true`, or the reason. */
  skip?: boolean | string;
  /** Ignored here (the runner has its own per-test limit). */
  timeout?: number;
}

/** A test body. */
export type TestFn = (t: TestContext) => unknown;

/** One test's outcome. */
export interface Outcome {
  /** Full name (nested names joined by ` > `). */
  name: string;
  /** `pass`, `fail` or `skip`. */
  status: "pass" | "fail" | "skip";
  /** The failure, formatted. */
  error?: string;
  /** Milliseconds. */
  ms: number;
}

interface Registered {
  name: string;
  options: TestOptions;
  fn: TestFn;
}

const registry: Registered[] = [];

function normalize(options: TestOptions | TestFn | undefined, fn?: TestFn): [TestOptions, TestFn] {
  if (typeof options === "function") return [{}, options];
  return [options ?? {}, fn ?? (() => {})];
}

/**
 * Registers a test, as `node:test`'s `test` does at top level.
 *
 * @param name The test's name.
 * @param options `{ skip }`, or the body.
 * @param fn The body.
 */
export function test(name: string, options?: TestOptions | TestFn, fn?: TestFn): void {
  const [opts, body] = normalize(options, fn);
  registry.push({ name, options: opts, fn: body });
}

/** `it` is `test`. */
export const it = test;

/** Formats a thrown value: message, then stack. */
export function formatError(err: unknown): string {
  if (err instanceof Error) {
    const extra = (err as { code?: unknown }).code;
    const head = `${err.name}${extra === undefined ? "" : ` [${String(extra)}]`}: ${err.message}`;
    const stack = (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)).slice(0, 8);
    const cause = (err as { cause?: unknown }).cause;
    return [head, ...stack, ...(cause === undefined ? [] : [`cause: ${formatError(cause)}`])]
      .join("\n");
  }
  return String(err);
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms: ${name}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function runOne(
  name: string,
  options: TestOptions,
  fn: TestFn,
  report: (o: Outcome) => void,
  timeoutMs: number,
): Promise<boolean> {
  const start = performance.now();
  if (options.skip) {
    report({ name, status: "skip", ms: 0, error: String(options.skip) });
    return true;
  }
  const nested: Promise<boolean>[] = [];
  const context: TestContext = {
    name,
    test: (sub, o, f) => {
      const [so, sf] = normalize(o, f);
      const run = runOne(`${name} > ${sub}`, so, sf, report, timeoutMs);
      nested.push(run);
      return run.then(() => {});
    },
  };
  try {
    await withTimeout(Promise.resolve().then(() => fn(context)), timeoutMs, name);
    const subs = await Promise.all(nested);
    if (subs.some((ok) => !ok)) throw new Error("a nested test failed");
    report({ name, status: "pass", ms: performance.now() - start });
    return true;
  } catch (err) {
    report({ name, status: "fail", error: formatError(err), ms: performance.now() - start });
    return false;
  }
}

/**
 * Runs every registered test whose name contains `filter`, one at a time, in
 * registration order, and empties the registry.
 *
 * @param report Called with each outcome as it happens.
 * @param options `filter` (substring of the name), `timeoutMs` per test.
 * @returns Every outcome.
 */
export async function runRegistered(
  report: (o: Outcome) => void,
  options: { filter?: string; timeoutMs?: number } = {},
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const tests = registry.splice(0);
  for (const t of tests) {
    if (options.filter && !t.name.includes(options.filter)) continue;
    await runOne(t.name, t.options, t.fn, (o) => {
      outcomes.push(o);
      report(o);
    }, options.timeoutMs ?? 30_000);
  }
  return outcomes;
}

/** `describe` is not used by the suites; present so a stray import fails loudly at run time. */
export function describe(): never {
  throw new Error("describe is not supported by the browser test shim");
}
