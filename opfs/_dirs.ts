/**
 * Directory helpers of the OPFS port: the origin's root, paths as name
 * segments, lookups and listings, and DOM errors mapped to the POSIX-style
 * codes the filesystem engine understands.
 *
 * @module
 */

import { portError } from "../fs/port.ts";
import { domName, type OpfsDirectoryHandle, opfsRoot } from "./_dom.ts";

let root: Promise<OpfsDirectoryHandle> | undefined;

/** The origin's OPFS root, asked for once. */
export function getRoot(): Promise<OpfsDirectoryHandle> {
  root ??= opfsRoot();
  root.catch(() => root = undefined);
  return root;
}

/** The non-empty components of a `/`-separated path. */
export function segmentsOf(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** A port error of `code` for `path`, with the DOM error as its cause. */
export function coded(code: string, message: string, path: string, cause?: unknown): Error {
  const err = portError(code, message, path);
  if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
  return err;
}

/** Maps a DOM error to the POSIX-style code the engine understands. */
export function mapError(err: unknown, path: string, notDir = "ENOTDIR"): unknown {
  switch (domName(err)) {
    case "NotFoundError":
      return coded("ENOENT", "no such file or directory", path, err);
    case "TypeMismatchError":
      return coded(notDir, notDir === "EISDIR" ? "a directory" : "not a directory", path, err);
    case "NoModificationAllowedError":
      return coded("EBUSY", "in use by another context (an open access handle)", path, err);
    default:
      return err;
  }
}

/** The directory at `segments`, or `undefined` when a component is missing or not a directory. */
export async function lookup(
  segments: readonly string[],
): Promise<OpfsDirectoryHandle | undefined> {
  let dir = await getRoot();
  for (const name of segments) {
    try {
      dir = await dir.getDirectoryHandle(name);
    } catch (err) {
      const name = domName(err);
      if (name === "NotFoundError" || name === "TypeMismatchError") return undefined;
      throw err;
    }
  }
  return dir;
}

/** The directory at `segments`, created with its parents. */
export async function makeDirs(
  segments: readonly string[],
  path: string,
): Promise<OpfsDirectoryHandle> {
  let dir = await getRoot();
  for (const name of segments) {
    try {
      dir = await dir.getDirectoryHandle(name, { create: true });
    } catch (err) {
      throw mapError(err, path);
    }
  }
  return dir;
}

/** What `name` is inside `dir`. */
export async function entryKind(
  dir: OpfsDirectoryHandle,
  name: string,
): Promise<"file" | "dir" | "missing"> {
  try {
    await dir.getDirectoryHandle(name);
    return "dir";
  } catch (err) {
    if (domName(err) === "TypeMismatchError") return "file";
    if (domName(err) === "NotFoundError") return "missing";
    throw err;
  }
}

/** The entries of `dir`: names and kinds. */
export async function listing(dir: OpfsDirectoryHandle): Promise<[string, "file" | "directory"][]> {
  const out: [string, "file" | "directory"][] = [];
  for await (const [name, handle] of dir.entries()) out.push([name, handle.kind]);
  return out;
}

/** Deletes `name` from `dir`; false when it could not (still open somewhere, say). */
export async function tryRemove(
  dir: OpfsDirectoryHandle,
  name: string,
  recursive = false,
): Promise<boolean> {
  try {
    await dir.removeEntry(name, { recursive });
    return true;
  } catch (err) {
    return domName(err) === "NotFoundError";
  }
}
