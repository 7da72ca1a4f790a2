/**
 * The anchors of the workload harness: the same operations as blobrt's, on the
 * same file at the same offsets, through plain `node:fs` and a popular npm
 * package, so that a run says what blobrt costs over the floor in this process.
 *
 * - `sync`: `fs.readSync`/`fs.writeSync` with explicit positions on one fd,
 *   each call inside an `async` function (awaited per operation, as blobrt's are),
 *   each read into a fresh buffer (blobrt's reads are `readAt`, which returns one);
 * - `promises`: `fs.promises`, one `FileHandle` per operation in flight;
 * - `random-access-file`: the npm package (a devDependency), loaded on first
 *   use; "n/a" with the reason when it does not load or work here.
 *
 * @module
 */

import * as fs from "node:fs";
import type { Lag } from "./_lag.ts";

/** One worker's way to read and write the file (positions are blob offsets). */
export interface Io {
  /** Reads `size` bytes at `position`. */
  read(position: number, size: number): Promise<unknown>;
  /** Writes `data` at `position`. */
  write(position: number, data: Uint8Array): Promise<unknown>;
  /** Makes the writes durable (blobrt's only: write_sync has no anchors). */
  sync?(): Promise<unknown>;
}

/** An anchor opened on a file. */
export interface OpenAnchor {
  /** The I/O of worker `w` (0 ≤ w < inflight). */
  io(worker: number): Io;
  /** Closes what {@linkcode Anchor.open} opened. */
  close(): Promise<void>;
}

/** The anchors' names, as in the JSON output. */
export type AnchorName = "sync" | "promises" | "random-access-file";

/** One anchor. */
export interface Anchor {
  /** Its name in the JSON output. */
  name: AnchorName;
  /** Its name in the table. */
  label: string;
  /**
   * Opens `path`, where blob offset 0 is at file position `base`, for
   * `inflight` workers doing operations of up to `size` bytes.
   */
  open(path: string, base: number, inflight: number, size: number): Promise<OpenAnchor>;
}

function short(what: string, got: number, want: number): Error {
  return new Error(`${what}: ${got} of ${want} bytes`);
}

const sync: Anchor = {
  name: "sync",
  label: "node:fs sync",
  open(path, base) {
    const fd = fs.openSync(path, "r+");
    return Promise.resolve({
      io: () => {
        return {
          read: async (position, n) => {
            const buf = new Uint8Array(n);
            const got = fs.readSync(fd, buf, 0, n, base + position);
            if (got !== n) throw short("readSync", got, n);
          },
          write: async (position, data) => fs.writeSync(fd, data, 0, data.length, base + position),
        };
      },
      close: async () => fs.closeSync(fd),
    });
  },
};

const promises: Anchor = {
  name: "promises",
  label: "fs.promises",
  async open(path, base, inflight, size) {
    const handles: fs.promises.FileHandle[] = [];
    try {
      for (let i = 0; i < inflight; i++) handles.push(await fs.promises.open(path, "r+"));
    } catch (e) {
      await Promise.all(handles.map((h) => h.close()));
      throw e;
    }
    return {
      io: (w) => {
        const handle = handles[w % handles.length]!;
        const buf = new Uint8Array(size);
        return {
          read: async (position, n) => {
            const { bytesRead } = await handle.read(buf, 0, n, base + position);
            if (bytesRead !== n) throw short("FileHandle.read", bytesRead, n);
          },
          write: (position, data) => handle.write(data, 0, data.length, base + position),
        };
      },
      close: async () => {
        await Promise.all(handles.map((h) => h.close()));
      },
    };
  },
};

/** The callback API of random-access-storage, as far as the harness uses it. */
interface RandomAccess {
  read(offset: number, size: number, cb: (err: Error | null, data?: Uint8Array) => void): void;
  write(offset: number, data: Uint8Array, cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
}
type RandomAccessClass = new (filename: string, opts?: object) => RandomAccess;

const call = <T>(f: (cb: (err: Error | null, v?: T) => void) => void): Promise<T | undefined> =>
  new Promise((ok, fail) => f((err, v) => err ? fail(err) : ok(v)));

let loaded: Promise<RandomAccessClass> | undefined;

/** Loads random-access-file once; rejects with the reason when it cannot be loaded. */
function loadRandomAccessFile(): Promise<RandomAccessClass> {
  return loaded ??= (async () => {
    const specifier = "random-access-file"; // a variable: no types, and optional at run time
    const mod = await import(specifier) as { default?: unknown };
    const RAF = mod.default ?? mod;
    if (typeof RAF !== "function") throw new Error("random-access-file exports no class");
    return RAF as RandomAccessClass;
  })();
}

const randomAccessFile: Anchor = {
  name: "random-access-file",
  label: "random-access-file",
  async open(path, base, _inflight, size) {
    const RAF = await loadRandomAccessFile();
    const file = new RAF(path);
    // It opens the file on the first request: make that one here, and see it work.
    const got = await call<Uint8Array>((cb) => file.read(base, Math.min(size, 1), cb));
    if (got?.length !== Math.min(size, 1)) throw new Error("random-access-file read nothing");
    const io: Io = {
      read: (position, n) => call<Uint8Array>((cb) => file.read(base + position, n, cb)),
      write: (position, data) => call((cb) => file.write(base + position, data, cb)),
    };
    return {
      io: () => io,
      close: async () => {
        await call((cb) => file.close(cb));
      },
    };
  },
};

/** The anchors, in the order they run and are printed. */
export const ANCHORS: readonly Anchor[] = [sync, promises, randomAccessFile];

/** An anchor's outcome: its ops/s and blobrt's ops/s over it, or why it could not run. */
export type AnchorResult =
  | ({ anchor: AnchorName; status: "ok"; ops: number; opsPerSec: number; ratio: number } & Lag)
  | { anchor: AnchorName; status: "n/a"; reason: string };

/**
 * Runs one anchor on the file: opens it, lets `run` drive the workload through
 * its I/O, closes it. A failure anywhere makes it "n/a" with the reason.
 *
 * @param anchor The anchor.
 * @param path The blob's file.
 * @param base The file position of blob offset 0 (the header's size).
 * @param o Operations in flight and bytes per operation.
 * @param blobrtOpsPerSec blobrt's ops/s on the same workload, for the ratio.
 * @param run Runs the workload's workers over the given I/O.
 * @returns Its ops/s and the ratio, or why it could not run.
 */
export async function runAnchor(
  anchor: Anchor,
  path: string,
  base: number,
  o: { inflight: number; ioSize: number },
  blobrtOpsPerSec: number,
  run: (ioOf: (worker: number) => Io) => Promise<{ done: number; elapsed: number; lag: Lag }>,
): Promise<AnchorResult> {
  let opened: OpenAnchor | undefined;
  try {
    opened = await anchor.open(path, base, o.inflight, o.ioSize);
    const { done, elapsed, lag } = await run(opened.io);
    const opsPerSec = done / elapsed;
    const ratio = blobrtOpsPerSec / opsPerSec;
    return { anchor: anchor.name, status: "ok", ops: done, opsPerSec, ratio, ...lag };
  } catch (e) {
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { anchor: anchor.name, status: "n/a", reason: reason.split("\n")[0] ?? reason };
  } finally {
    await opened?.close().catch(() => {});
  }
}

/**
 * The comparison table: per workload, blobrt's ops/s, each anchor's and
 * blobrt ÷ anchor; then the reason of each "n/a".
 *
 * @param rows The workloads that ran anchors.
 * @param f Formats a number with `d` decimals.
 * @returns The lines to print.
 */
export function anchorTable(
  rows: { workload: string; opsPerSec: number; anchors?: AnchorResult[] }[],
  f: (x: number, d?: number) => string,
): string[] {
  const lines = [
    "",
    "blobrt ÷ anchors: same file, offsets and operations in flight (above 1: blobrt is faster)",
    "",
    `| workload | blobrt ops/s | ${ANCHORS.map((a) => `${a.label} ops/s | ÷`).join(" | ")} |`,
    `| --- | ---: | ${ANCHORS.map(() => "---: | ---:").join(" | ")} |`,
  ];
  const reasons = new Set<string>();
  for (const r of rows) {
    const cells = ANCHORS.map((a) => {
      const x = r.anchors?.find((x) => x.anchor === a.name);
      if (x === undefined) return "– | –";
      if (x.status === "ok") return `${f(x.opsPerSec)} | ${f(x.ratio, 2)}`;
      reasons.add(`${a.label}: ${x.reason}`);
      return "n/a | –";
    });
    lines.push(`| ${r.workload} | ${f(r.opsPerSec)} | ${cells.join(" | ")} |`);
  }
  for (const reason of reasons) lines.push("", `n/a: ${reason}`);
  return lines;
}
