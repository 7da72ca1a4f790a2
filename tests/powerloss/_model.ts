/**
 * What a power loss may leave of a writer's operations, byte by byte. The
 * writer (`writer.ts`) logs every operation before it issues it and an `ok`
 * line once it resolved (a durability point acknowledged); the verifier
 * (`verify.ts`) replays that log here and checks what it reads back.
 *
 * Each blob keeps, for every logical byte, the value it must have (`base`:
 * set by an acknowledged `sync()` or `{ sync: true }` write) and the values
 * that later, unacknowledged operations may have left there instead (`alts`:
 * a write's new bytes, zeros where it extended the blob and a torn write left a
 * hole, {@linkcode ABSENT} where a resize cut it). A byte is checked against
 * both; a byte whose `base` is a value is an acknowledged byte.
 *
 * @module
 */

/** The byte is past the end of the blob. */
export const ABSENT = -1;
/** Nothing is known (never written and never synced). */
export const ANY = -2;

/** One line of a writer's log. */
export type LogOp =
  | { t: "open"; p: string; b: string; kind: Kind; page?: number }
  | { t: "write"; p: string; b: string; off: number; len: number; id: number; sync?: boolean }
  | { t: "resize"; p: string; b: string; n: number }
  | { t: "sync"; p: string; b: string }
  | { t: "flush"; p: string; b: string }
  | { t: "remove"; p: string; b?: string }
  | { t: "ok" }
  | { t: "done" };

/** How the writer used a blob: raw `Blob`, `BufferedWriter` or `PagedWriter`. */
export type Kind = "raw" | "buffered" | "paged";

/**
 * Byte `i` of write `id`: differs between writes and positions, so a stale,
 * torn or misplaced byte rarely matches by chance (and never all of a run).
 *
 * @param id The write's id.
 * @param i The byte's index within the write.
 * @returns The byte.
 */
export function dataByte(id: number, i: number): number {
  const x = Math.imul(id + 1, 0x9e3779b1) ^ Math.imul(i + 7, 0x85ebca6b);
  return (x ^ (x >>> 13) ^ (x >>> 24)) & 0xff;
}

/**
 * The bytes of write `id`, `len` long.
 *
 * @param id The write's id.
 * @param len Its length.
 * @returns The bytes.
 */
export function dataFor(id: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = dataByte(id, i);
  return out;
}

/** What one blob may look like after the power loss. */
export class BlobModel {
  /** Whether the blob must exist (`yes`), must not (`no`), or either. */
  exists: "yes" | "no" | "maybe" = "no";
  /** How the writer used it. */
  kind: Kind = "raw";
  /** The page size of a `paged` blob. */
  page = 0;
  /** The logical bytes as the writer last left them. */
  cur: Uint8Array = new Uint8Array(0);
  /** The logical length as the writer last left it. */
  len = 0;
  /** Per byte: the acknowledged value, {@linkcode ABSENT} or {@linkcode ANY}. */
  base: Int16Array = new Int16Array(0).fill(ABSENT);
  /**
   * Per byte: the values unacknowledged operations may have left instead, as
   * a 257-bit set (bit `v + 1`, so {@linkcode ABSENT} is bit 0), 9 words a byte.
   */
  alts: Uint32Array = new Uint32Array(0);
  #grow(n: number): void {
    if (n <= this.cur.length) return;
    const size = Math.max(n, this.cur.length * 2, 4096);
    const cur = new Uint8Array(size);
    cur.set(this.cur);
    const base = new Int16Array(size).fill(ABSENT);
    base.set(this.base);
    const alts = new Uint32Array(size * 9);
    alts.set(this.alts);
    this.cur = cur;
    this.base = base;
    this.alts = alts;
  }

  #alt(o: number, v: number): void {
    this.alts[o * 9 + ((v + 1) >>> 5)]! |= 1 << ((v + 1) & 31);
  }

  /** Whether an unacknowledged operation may have left `v` at `o`. */
  mayHold(o: number, v: number): boolean {
    if (o >= this.cur.length) return false;
    return (this.alts[o * 9 + ((v + 1) >>> 5)]! & (1 << ((v + 1) & 31))) !== 0;
  }

  /** A write issued: each byte may now be new, and an extension may leave zeros. */
  write(off: number, data: Uint8Array): void {
    const end = off + data.length;
    this.#grow(end);
    for (let o = this.len; o < off; o++) {
      this.#alt(o, 0);
      this.cur[o] = 0;
    }
    for (let i = 0; i < data.length; i++) {
      const o = off + i;
      if (o >= this.len) this.#alt(o, 0);
      this.#alt(o, data[i]!);
      this.cur[o] = data[i]!;
    }
    this.len = Math.max(this.len, end);
  }

  /** A resize issued: a cut byte may be gone, a new one zero. */
  resize(n: number): void {
    this.#grow(n);
    for (let o = n; o < this.len; o++) this.#alt(o, ABSENT);
    for (let o = this.len; o < n; o++) {
      this.#alt(o, 0);
      this.cur[o] = 0;
    }
    this.len = n;
  }

  /** A `{ sync: true }` write acknowledged: its range is durable. */
  ackRange(off: number, len: number): void {
    for (let o = off; o < off + len; o++) this.base[o] = this.cur[o]!;
    this.alts.fill(0, off * 9, (off + len) * 9);
  }

  /** A `sync()` acknowledged: every byte as the writer left it is durable. */
  ackAll(): void {
    for (let o = 0; o < this.base.length; o++) this.base[o] = o < this.len ? this.cur[o]! : ABSENT;
    this.alts.fill(0);
  }

  /** Forgets everything: the blob was removed. */
  reset(): void {
    this.cur = new Uint8Array(0);
    this.base = new Int16Array(0);
    this.alts = new Uint32Array(0);
    this.len = 0;
  }
}

/** The result of checking one blob's bytes. */
export interface Check {
  /** Acknowledged bytes compared. */
  acked: number;
  /** Acknowledged bytes that were missing or wrong. */
  lost: number;
  /** Other bytes holding a value no operation could have left. */
  garbage: number;
  /** The first few differences, for the report. */
  first: string[];
}

/**
 * Compares what the verifier read (`got`, the whole logical content) with the
 * model.
 *
 * @param m The blob's model.
 * @param got Its bytes after the power loss.
 * @returns The counts.
 */
export function checkBytes(m: BlobModel, got: Uint8Array): Check {
  const r: Check = { acked: 0, lost: 0, garbage: 0, first: [] };
  const n = Math.max(m.base.length, got.length);
  for (let o = 0; o < n; o++) {
    const base = o < m.base.length ? m.base[o]! : ABSENT;
    const actual = o < got.length ? got[o]! : ABSENT;
    if (base >= 0) r.acked++;
    if (base === ANY || actual === base || m.mayHold(o, actual)) continue;
    if (base >= 0) r.lost++;
    else r.garbage++;
    if (r.first.length < 4) {
      r.first.push(`byte ${o}: got ${actual}, acknowledged ${base}, size ${got.length}`);
    }
  }
  return r;
}

/**
 * Replays a writer's log into one model per blob (keyed `partition/name`).
 *
 * @param lines The log's lines (a last partial line is ignored).
 * @returns The models.
 */
export function replay(lines: string[]): Map<string, BlobModel> {
  const blobs = new Map<string, BlobModel>();
  const get = (p: string, b: string) => {
    let m = blobs.get(`${p}/${b}`);
    if (m === undefined) blobs.set(`${p}/${b}`, m = new BlobModel());
    return m;
  };
  let last: Issued | undefined;
  for (const line of lines) {
    let op: LogOp;
    try {
      op = JSON.parse(line) as LogOp;
    } catch {
      continue; // the line being written when the writer died
    }
    if (op.t === "done") continue;
    if (op.t === "ok") {
      if (last !== undefined) acknowledge(last, blobs, get);
      last = undefined;
      continue;
    }
    last = op;
    issue(op, blobs, get);
  }
  return blobs;
}

type Get = (p: string, b: string) => BlobModel;

type Issued = Exclude<LogOp, { t: "ok" } | { t: "done" }>;

function issue(op: Issued, blobs: Map<string, BlobModel>, get: Get): void {
  if (op.t === "remove") {
    for (const [key, m] of blobs) {
      if (inRemove(key, op) && m.exists === "yes") m.exists = "maybe";
    }
    return;
  }
  const m = get(op.p, op.b);
  if (op.t === "open") {
    m.kind = op.kind;
    m.page = op.page ?? 0;
    if (m.exists === "no") m.exists = "maybe";
  } else if (op.t === "write") m.write(op.off, dataFor(op.id, op.len));
  else if (op.t === "resize") m.resize(op.n);
}

function acknowledge(op: Issued, blobs: Map<string, BlobModel>, get: Get) {
  if (op.t === "remove") {
    for (const [key, m] of blobs) {
      if (!inRemove(key, op)) continue;
      m.exists = "no";
      m.reset();
    }
    return;
  }
  const m = get(op.p, op.b);
  if (op.t === "open") m.exists = "yes";
  else if (op.t === "write" && op.sync) m.ackRange(op.off, op.len);
  else if (op.t === "sync") m.ackAll();
}

function inRemove(key: string, op: { p: string; b?: string }): boolean {
  return op.b === undefined ? key.startsWith(`${op.p}/`) : key === `${op.p}/${op.b}`;
}
