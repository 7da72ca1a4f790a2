/**
 * The command line's grammar, shared by `blobrt` and the workload harness:
 * `node:util`'s `parseArgs` (strict, positionals allowed, `--name=value` and
 * `--` understood), with its errors turned into one-line
 * {@linkcode UsageError}s that name the option.
 *
 * @module
 */

import { parseArgs } from "node:util";

/**
 * A bad command line: the CLI prints `blobrt: <message>` and exits 2. A
 * `RangeError`, since an argument is outside what the command accepts.
 */
export class UsageError extends RangeError {
  override name = "UsageError";
}

/** The options a command takes: each long name (without `--`) and its kind. */
export type OptionSpec = Record<string, "string" | "boolean">;

/** The options found: a string for each valued option given, `true` for each flag given. */
export type OptionValues<S extends OptionSpec> = {
  [K in keyof S]?: S[K] extends "string" ? string : boolean;
};

/**
 * Checks one option's value in the command's own words (throwing a
 * {@linkcode UsageError}); see {@linkcode parseCommandLine}.
 */
export type ValueCheck = (value: string, flag: string) => unknown;

/**
 * Parses `args` against `spec`: options anywhere, `--name value` or
 * `--name=value`, and everything after `--` positional.
 *
 * A value that starts with `-` must be written `--name=value`: `--offset -1`
 * is refused, as `parseArgs` cannot tell it from a forgotten value. When
 * `checks` has a check for that option, it runs on the value first, so that
 * `--offset -1` gets the same message as `--offset=-1`.
 *
 * @param args The arguments (after the command).
 * @param spec The options the command takes.
 * @param checks Per option, a check that throws when a value is not acceptable.
 * @returns The options given and the positionals, in order.
 * @throws {UsageError} On an unknown option, a missing value, or a value given to a flag.
 */
export function parseCommandLine<S extends OptionSpec>(
  args: readonly string[],
  spec: S,
  checks: Partial<Record<string, ValueCheck>> = {},
): { values: OptionValues<S>; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    // Strict parsing gives each option the type of its spec entry.
    return { values: values as OptionValues<S>, positionals };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS_")) throw e;
    throw new UsageError(explain(args, options, checks) ?? (e as Error).message.split("\n")[0]);
  }
}

/**
 * What strict parsing refused, found again by a lenient parse, which keeps
 * every token: the first unknown option, missing value or unwanted value.
 */
function explain(
  args: readonly string[],
  options: Record<string, { type: "string" | "boolean" }>,
  checks: Partial<Record<string, ValueCheck>>,
): string | undefined {
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const type = Object.hasOwn(options, token.name) ? options[token.name]?.type : undefined;
    const flag = token.rawName;
    if (type === undefined) return `unknown option: ${flag}`;
    if (type === "boolean" && token.value !== undefined) return `${flag} takes no value`;
    if (type === "string" && token.value === undefined) return `${flag} needs a value`;
    if (type === "string" && token.value?.startsWith("-") && !token.inlineValue) {
      checks[token.name]?.(token.value, flag);
      return `${flag} needs a value; to give it ${token.value}, write ${flag}=${token.value}`;
    }
  }
  return undefined;
}
