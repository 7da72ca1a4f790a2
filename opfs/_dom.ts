/**
 * The slice of the Origin Private File System DOM API that `OpfsStorage`
 * uses, declared here (as `fs/deno_port.ts` declares Deno's) so that the
 * sources type-check without the DOM library: under `deno check`, and under a
 * strict `tsc` with only Node's types. Everything is reached through
 * `globalThis` at call time, so importing the module anywhere is harmless.
 *
 * @module
 */

/** `FileSystemHandle`: what a directory listing yields. */
export interface OpfsHandle {
  readonly kind: "file" | "directory";
  readonly name: string;
}

/** `FileSystemSyncAccessHandle` (dedicated workers only). */
export interface OpfsAccessHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** `FileSystemFileHandle`. */
export interface OpfsFileHandle extends OpfsHandle {
  readonly kind: "file";
  createSyncAccessHandle(): Promise<OpfsAccessHandle>;
  getFile(): Promise<{ readonly size: number; arrayBuffer(): Promise<ArrayBuffer> }>;
  /** Renames the file within its directory (Chromium ≥ 110 for OPFS files). */
  move?(newName: string): Promise<void>;
}

/** `FileSystemDirectoryHandle`. */
export interface OpfsDirectoryHandle extends OpfsHandle {
  readonly kind: "directory";
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterableIterator<[string, OpfsHandle]>;
  resolve(possibleDescendant: OpfsHandle): Promise<string[] | null>;
}

/** The slice of `navigator` used: OPFS and the Web Locks API. */
interface NavigatorSlice {
  storage?: { getDirectory?(): Promise<OpfsDirectoryHandle> };
  locks?: {
    request(
      name: string,
      options: { ifAvailable?: boolean; signal?: unknown },
      callback: (lock: unknown) => Promise<unknown> | unknown,
    ): Promise<unknown>;
  };
}

function nav(): NavigatorSlice | undefined {
  return (globalThis as { navigator?: NavigatorSlice }).navigator;
}

/** The OPFS root of this origin; rejects where there is none. */
export function opfsRoot(): Promise<OpfsDirectoryHandle> {
  const getDirectory = nav()?.storage?.getDirectory;
  if (getDirectory === undefined) {
    return Promise.reject(
      new TypeError("OpfsStorage needs the Origin Private File System (navigator.storage)"),
    );
  }
  return getDirectory.call(nav()!.storage);
}

/** The Web Locks API, where the context has it. */
export function webLocks(): NavigatorSlice["locks"] {
  return nav()?.locks;
}

/** `AbortSignal.timeout(ms)`, where the context has it. */
export function timeoutSignal(ms: number): unknown {
  const abort = (globalThis as { AbortSignal?: { timeout?(ms: number): unknown } }).AbortSignal;
  return abort?.timeout?.(ms);
}

/** The DOMException name of an error (`NotFoundError`, `TypeMismatchError`, …), or `undefined`. */
export function domName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : undefined;
}
