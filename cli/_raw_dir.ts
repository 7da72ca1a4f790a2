/**
 * A directory's entries with their names as the bytes on disk, for the CLI:
 * `readdir` in Node and Bun with `encoding: "buffer"`, and in Deno (whose
 * `node:fs` decodes names lossily, every invalid byte to U+FFFD) libc's
 * `opendir`/`readdir` through `Deno.dlopen` when the process may use FFI.
 * Without FFI, Deno's names are its lossy text, marked `lossy`.
 *
 * @module
 */

import * as fs from "node:fs";
import { Buffer } from "node:buffer";

/** One entry of a directory. */
export interface RawEntry {
  /** The name's bytes (from the lossy text where `lossy`). */
  bytes: Uint8Array;
  /** The name as text when its bytes are valid UTF-8. */
  text?: string;
  /** What the entry is; a symbolic link is `other`, never followed. */
  kind: "file" | "dir" | "other";
  /** Deno without FFI: `bytes` encode a lossy decoding, not the name on disk. */
  lossy?: true;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text, or `undefined` when they are not valid UTF-8. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether `path` names an entry (a U+FFFD in a real name round-trips; a lossy one does not). */
function exists(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function kindOf(st: fs.Stats): RawEntry["kind"] {
  return st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
}

interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void };
  permissions: { querySync(d: { name: string }): { state: string } };
  build: { os: string };
  UnsafePointerView: new (pointer: unknown) => { getUint8(offset: number): number };
}

/** `struct dirent` on Linux (glibc and musl, 64-bit): d_type at 18, d_name at 19. */
const D_TYPE = 18;
const D_NAME = 19;
const DT_DIR = 4;
const DT_REG = 8;
const DT_UNKNOWN = 0;

/** Deno's FFI where it may be used (Linux, `--allow-ffi`), else `undefined`. */
function denoFfi(): DenoFfi | undefined {
  const deno = (globalThis as { Deno?: DenoFfi }).Deno;
  if (deno === undefined || deno.build.os !== "linux") return undefined;
  if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  return deno;
}

/** libc's readdir through Deno's FFI; `undefined` when libc cannot be opened. */
function readDirDeno(deno: DenoFfi, dir: string): RawEntry[] | undefined {
  let lib;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      lib = deno.dlopen(name, {
        opendir: { parameters: ["buffer"], result: "pointer" },
        readdir: { parameters: ["pointer"], result: "pointer" },
        closedir: { parameters: ["pointer"], result: "i32" },
      });
      break;
    } catch {
      // the next name
    }
  }
  if (lib === undefined) return undefined;
  try {
    const handle = lib.symbols.opendir!(new TextEncoder().encode(dir + "\0"));
    if (handle === null) return undefined; // the caller's readdirSync reports the OS error
    const out: RawEntry[] = [];
    try {
      for (
        let ent = lib.symbols.readdir!(handle);
        ent !== null;
        ent = lib.symbols.readdir!(handle)
      ) {
        const view = new deno.UnsafePointerView(ent);
        const bytes: number[] = [];
        for (let b = view.getUint8(D_NAME); b !== 0; b = view.getUint8(D_NAME + bytes.length)) {
          bytes.push(b);
        }
        const name = Uint8Array.from(bytes);
        const text = utf8(name);
        if (text === "." || text === "..") continue;
        const type = view.getUint8(D_TYPE);
        let kind: RawEntry["kind"] = type === DT_DIR ? "dir" : type === DT_REG ? "file" : "other";
        if (type === DT_UNKNOWN && text !== undefined) {
          kind = kindOf(fs.lstatSync(`${dir}/${text}`));
        }
        out.push({ bytes: name, text, kind });
      }
    } finally {
      lib.symbols.closedir!(handle);
    }
    return out;
  } finally {
    lib.close();
  }
}

/**
 * The entries of `dir` (no `.` or `..`), in no particular order, each with
 * its name's bytes and its kind from `lstat` (links are not followed).
 *
 * @param dir The directory.
 * @returns Its entries.
 * @throws The OS error when `dir` cannot be listed.
 */
export function readRawDir(dir: string): RawEntry[] {
  const deno = denoFfi();
  if (deno !== undefined) {
    const entries = readDirDeno(deno, dir);
    if (entries !== undefined) return entries;
  }
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) {
    // Lossy names: a name with U+FFFD that does not lstat is marked `lossy`.
    return fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
      const bytes = new TextEncoder().encode(e.name);
      const kind = e.isFile() ? "file" : e.isDirectory() ? "dir" : "other";
      return e.name.includes("\ufffd") && !exists(`${dir}/${e.name}`)
        ? { bytes, text: e.name, kind, lossy: true as const }
        : { bytes, text: e.name, kind };
    });
  }
  const base = Buffer.from(dir + "/");
  return fs.readdirSync(dir, { encoding: "buffer" }).map((name) => {
    const bytes = new Uint8Array(name);
    return {
      bytes,
      text: utf8(bytes),
      kind: kindOf(fs.lstatSync(Buffer.concat([base, name]))),
    };
  });
}
