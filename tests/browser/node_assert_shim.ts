/**
 * The slice of `node:assert/strict` the shared suites use, for the browser
 * bundle (the runner aliases `node:assert/strict` and `node:assert` here), with
 * node's strict semantics: `equal` is `Object.is`, `deepEqual` is
 * `deepStrictEqual` (prototypes, typed-array contents, own enumerable keys),
 * `rejects`/`throws` take an error class, a validation function, an object of
 * expected properties or a RegExp.
 *
 * @module
 */

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  /** Always `ERR_ASSERTION`, as node's. */
  readonly code = "ERR_ASSERTION";
  /** The value under test. */
  readonly actual: unknown;
  /** What was expected. */
  readonly expected: unknown;
  /** The assertion. */
  readonly operator: string;

  constructor(message: string, actual?: unknown, expected?: unknown, operator = "fail") {
    super(message);
    this.name = "AssertionError";
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const head = [...bytes.subarray(0, 32)].join(", ");
    return `${value.constructor.name}(${value.byteLength}) [${head}${
      bytes.length > 32 ? ", …" : ""
    }]`;
  }
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    const json = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
    if (json !== undefined) return json.length > 300 ? json.slice(0, 300) + "…" : json;
  } catch {
    // fall through
  }
  return String(value);
}

function failWith(
  message: string | Error | undefined,
  fallback: string,
  actual: unknown,
  expected: unknown,
  operator: string,
): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback, actual, expected, operator);
}

/** Node's `isDeepStrictEqual`, for the values tests compare. */
export function isDeepStrictEqual(
  a: unknown,
  b: unknown,
  seen = new Map<object, object>(),
): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown> & ArrayBufferView;
    const y = b as unknown as ArrayLike<unknown> & ArrayBufferView;
    if (x.byteLength !== y.byteLength) return false;
    if (a instanceof DataView) {
      const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
      for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return false;
    } else {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    }
    return sameKeys(a, b, seen, true);
  }
  if (a instanceof ArrayBuffer) {
    return isDeepStrictEqual(new Uint8Array(a), new Uint8Array(b as ArrayBuffer), seen);
  }
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof RegExp) {
    return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags;
  }
  if (a instanceof Error) {
    const e = b as Error;
    if (a.message !== e.message || a.name !== e.name) return false;
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !isDeepStrictEqual(v, m.get(k), seen)) return false;
    return true;
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    for (const v of a) if (!s.has(v)) return false;
    return true;
  }
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!isDeepStrictEqual(a[i], y[i], seen)) return false;
    }
    return sameKeys(a, b, seen, true);
  }
  return sameKeys(a, b, seen, false);
}

function sameKeys(a: object, b: object, seen: Map<object, object>, skipIndices: boolean): boolean {
  const keep = (k: string) => !skipIndices || !/^(0|[1-9][0-9]*)$/.test(k);
  const ka = Object.keys(a).filter(keep);
  const kb = Object.keys(b).filter(keep);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (
      !isDeepStrictEqual(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        seen,
      )
    ) return false;
  }
  const sa = Object.getOwnPropertySymbols(a).filter((s) =>
    Object.prototype.propertyIsEnumerable.call(a, s)
  );
  const sb = Object.getOwnPropertySymbols(b).filter((s) =>
    Object.prototype.propertyIsEnumerable.call(b, s)
  );
  if (sa.length !== sb.length) return false;
  for (const s of sa) {
    if (
      !isDeepStrictEqual(
        (a as Record<symbol, unknown>)[s],
        (b as Record<symbol, unknown>)[s],
        seen,
      )
    ) return false;
  }
  return true;
}

type Expected =
  | (new (...args: never[]) => unknown)
  | ((err: unknown) => unknown)
  | RegExp
  | Record<string, unknown>
  | Error;

/** Checks a caught error against `expected`, as node's `throws`/`rejects` do. */
function checkError(
  err: unknown,
  expected: Expected | undefined,
  message: string | Error | undefined,
  op: string,
): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(err))) {
      failWith(message, `The error did not match ${expected}: ${show(err)}`, err, expected, op);
    }
    return;
  }
  if (typeof expected === "function") {
    const proto = (expected as { prototype?: unknown }).prototype;
    if (proto !== undefined && err instanceof (expected as new () => unknown)) return;
    if (expected === Error || Object.prototype.isPrototypeOf.call(Error, expected)) {
      failWith(
        message,
        `The error is expected to be an instance of "${expected.name}". Received ${show(err)}`,
        err,
        expected,
        op,
      );
    }
    const ok = (expected as (e: unknown) => unknown).call({}, err);
    if (ok !== true) {
      failWith(
        message,
        `The ${
          expected.name ? `"${expected.name}" ` : ""
        }validation function is expected to return "true". Received ${show(ok)}`,
        err,
        expected,
        op,
      );
    }
    return;
  }
  // An object (or an Error): each of its own keys must match.
  const keys = Object.keys(expected);
  if (expected instanceof Error) keys.push("name", "message");
  for (const key of keys) {
    const want = (expected as Record<string, unknown>)[key];
    const got = (err as Record<string, unknown> | null)?.[key];
    if (want instanceof RegExp && typeof got === "string") {
      if (!want.test(got)) {
        failWith(message, `error.${key} ${show(got)} does not match ${want}`, err, expected, op);
      }
    } else if (!isDeepStrictEqual(got, want)) {
      failWith(message, `error.${key} is ${show(got)}, expected ${show(want)}`, err, expected, op);
    }
  }
}

function splitArgs(
  expected: Expected | string | undefined,
  message: string | Error | undefined,
): [Expected | undefined, string | Error | undefined] {
  return typeof expected === "string" ? [undefined, expected] : [expected, message];
}

const NONE = Symbol("none");

/** The strict assertions, as `node:assert/strict` exports them. */
const assert = Object.assign(
  (value: unknown, message?: string | Error): void => ok(value, message),
  {
    AssertionError,
    ok,
    equal,
    strictEqual: equal,
    notEqual,
    notStrictEqual: notEqual,
    deepEqual,
    deepStrictEqual: deepEqual,
    notDeepEqual,
    notDeepStrictEqual: notDeepEqual,
    fail,
    throws,
    doesNotThrow,
    rejects,
    doesNotReject,
    match,
    doesNotMatch,
    strict: undefined as unknown,
  },
);
assert.strict = assert;

/** Asserts `value` is truthy. */
export function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) {
    failWith(
      message,
      `The expression evaluated to a falsy value: ${show(value)}`,
      value,
      true,
      "==",
    );
  }
}

/** `Object.is(actual, expected)`. */
export function equal(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!Object.is(actual, expected)) {
    failWith(
      message,
      `Expected values to be strictly equal: ${show(actual)} !== ${show(expected)}`,
      actual,
      expected,
      "strictEqual",
    );
  }
}

/** `!Object.is(actual, expected)`. */
export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) {
    failWith(
      message,
      `Expected "actual" to be strictly unequal to: ${show(expected)}`,
      actual,
      expected,
      "notStrictEqual",
    );
  }
}

/** Deep strict equality. */
export function deepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!isDeepStrictEqual(actual, expected)) {
    failWith(
      message,
      `Expected values to be strictly deep-equal:\n  actual:   ${show(actual)}\n  expected: ${
        show(expected)
      }`,
      actual,
      expected,
      "deepStrictEqual",
    );
  }
}

/** Not deep strict equal. */
export function notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (isDeepStrictEqual(actual, expected)) {
    failWith(
      message,
      `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`,
      actual,
      expected,
      "notDeepStrictEqual",
    );
  }
}

/** Fails. */
export function fail(message: string | Error = "Failed"): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message);
}

/** Asserts `fn` throws (matching `expected`). */
export function throws(
  fn: () => unknown,
  expected?: Expected | string,
  message?: string | Error,
): void {
  const [exp, msg] = splitArgs(expected, message);
  let caught: unknown = NONE;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  if (caught === NONE) failWith(msg, "Missing expected exception.", undefined, exp, "throws");
  checkError(caught, exp, msg, "throws");
}

/** Asserts `fn` does not throw. */
export function doesNotThrow(fn: () => unknown, message?: string | Error): void {
  try {
    fn();
  } catch (err) {
    failWith(
      typeof message === "string" ? message : undefined,
      `Got unwanted exception: ${show(err)}`,
      err,
      undefined,
      "doesNotThrow",
    );
  }
}

/** Asserts the promise (or the one `fn` returns) rejects (matching `expected`). */
export async function rejects(
  promise: Promise<unknown> | (() => Promise<unknown>),
  expected?: Expected | string,
  message?: string | Error,
): Promise<void> {
  const [exp, msg] = splitArgs(expected, message);
  let caught: unknown = NONE;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (err) {
    caught = err;
  }
  if (caught === NONE) failWith(msg, "Missing expected rejection.", undefined, exp, "rejects");
  checkError(caught, exp, msg, "rejects");
}

/** Asserts the promise resolves. */
export async function doesNotReject(
  promise: Promise<unknown> | (() => Promise<unknown>),
  message?: string | Error,
): Promise<void> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (err) {
    failWith(
      typeof message === "string" ? message : undefined,
      `Got unwanted rejection: ${show(err)}`,
      err,
      undefined,
      "doesNotReject",
    );
  }
}

/** Asserts `string` matches `re`. */
export function match(string: string, re: RegExp, message?: string | Error): void {
  if (typeof string !== "string" || !re.test(string)) {
    failWith(message, `The input did not match ${re}: ${show(string)}`, string, re, "match");
  }
}

/** Asserts `string` does not match `re`. */
export function doesNotMatch(string: string, re: RegExp, message?: string | Error): void {
  if (typeof string === "string" && re.test(string)) {
    failWith(
      message,
      `The input was expected to not match ${re}: ${show(string)}`,
      string,
      re,
      "doesNotMatch",
    );
  }
}

export { assert as strict };
export default assert;
