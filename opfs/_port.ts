/**
 * The Origin Private File System {@linkcode FileSystemPort} behind
 * `OpfsStorage`. Not a driver itself; see `opfs/mod.ts` for the design in
 * the user's terms.
 *
 * ## Files and handles
 *
 * A blob file is read and written through one `FileSystemSyncAccessHandle`
 * (dedicated workers only): synchronous `read`/`write` at a position,
 * `truncate`, `getSize`, and `flush` for `datasync`/`fsync`. OPFS allows one
 * such handle per file (a second one fails with `NoModificationAllowedError`),
 * so every blob handle of one file, from any storage of this worker, shares
 * one access handle, counted: the last `close` closes it. There is no file
 * descriptor, so no read workers: every read is synchronous (and OPFS data is
 * always a few microseconds away). OPFS has no directory fsync: `syncDir` does
 * nothing, and directory entries are as durable as the browser makes them.
 *
 * ## Removal while open: generations and tombstones
 *
 * OPFS refuses to remove (or move) a file that has an open access handle, yet
 * handles opened before a removal must keep reading and writing the removed
 * blob, and re-opening the name must give a new, independent, empty blob. So
 * the physical name of a blob file carries a *generation*, and a removed file
 * that is still open gets a *tombstone*:
 *
 * ```text
 * <hex>                 generation 0: the plain commonware layout
 * <hex>.<g>             generation g ≥ 1 (decimal)
 * <hex>.<g>.removed     tombstone: generation g (0 included) is removed
 * .partition.removed    in a partition directory: the partition is removed
 * ```
 *
 * - `remove(partition, name)` of a file nobody has open deletes it, as on any
 *   filesystem. Of an open file: its tombstone is created (that is the durable
 *   removal), the file stays until its last handle closes, and the name's next
 *   file takes the next generation. The last `close` deletes the file, then
 *   its tombstone.
 * - `remove(partition)` with no open file deletes the directory. With open
 *   files: the partition marker is created first (the durable removal), every
 *   open file gets its tombstone, everything else in the directory is
 *   deleted; the last `close` of the last open file deletes the directory.
 *   Re-creating the partition in the meantime deletes the marker (the open
 *   files keep their tombstones).
 * - **Only its own entries.** Before it creates a generation ≥ 1, a tombstone
 *   or the marker, the port lists the name in the partition's ledger
 *   (`.blobrt-opfs-owned`, written and flushed first; deleted when it lists
 *   nothing). Healing and listing trust only what the ledger lists: a
 *   `<hex>.<g>`, `<hex>.<g>.removed` or `.partition.removed` that it does not
 *   list was made by someone else, is never deleted or renamed, and is passed
 *   through as a foreign entry (`scan` refuses it as `PartitionCorrupt`, as
 *   `NodeStorage` does).
 * - The engine lists a partition through {@linkcode FileSystemPort.readDir},
 *   which shows each name whose current generation exists as its plain hex
 *   and hides generations, tombstones and the marker, so `scan` sees the
 *   commonware layout. Entries that are none of these are passed through (and
 *   `scan` refuses them as `PartitionCorrupt`, as on any filesystem).
 *
 * ## Crashes and healing
 *
 * The first time a worker touches a partition directory (no file of it can be
 * open in this worker yet), the port *heals* it:
 *
 * - a partition marker (listed in the ledger) means a removal that resolved
 *   (or was under way): the whole directory is deleted, and the partition is
 *   missing;
 * - otherwise, for each name, the live file is the highest generation without
 *   a tombstone; every other generation of the name is deleted, file first,
 *   then its tombstone (so a crash in between leaves a tombstone without a
 *   file, deleted next time, and never resurrects a removed file); tombstones
 *   without a file are deleted;
 * - a live file of generation g ≥ 1 that is now the name's only file is moved
 *   back to its plain hex name where the browser can move OPFS files (a crash
 *   during the move leaves one of the two names, both valid).
 *
 * So a crash between a removal's tombstone and the file's deletion leaves both
 * (the blob is removed, and stays removed); a crash after `open` created
 * generation g+1 leaves a live file as a fresh `open` would; the directory
 * never lists a removed blob.
 *
 * Every call of this port, and every deletion that a last `close` starts,
 * runs one at a time per worker, in call order.
 *
 * @module
 */

import {
  type DirEntry,
  type FilePort,
  type FileSystemPort,
  LOCKED,
  NOT_REGULAR,
} from "../fs/port.ts";
import {
  domName,
  type OpfsAccessHandle,
  type OpfsDirectoryHandle,
  timeoutSignal,
  webLocks,
} from "./_dom.ts";
import {
  coded,
  entryKind,
  listing,
  lookup,
  makeDirs,
  mapError,
  segmentsOf,
  tryRemove,
} from "./_dirs.ts";
import {
  fileName,
  isSpecial,
  LEDGER,
  ledgerBytes,
  parseLedger,
  parsePhysical,
  PARTITION_REMOVED,
  type Physical,
  tombstoneName,
} from "./_names.ts";
import { StorageError } from "../core/errors.ts";

/** What this worker knows of one partition directory (built when it heals it). */
interface Partition {
  readonly key: string;
  readonly segments: readonly string[];
  /** Removed with files still open: the marker is on disk. */
  removed: boolean;
  /** The generation of each name's current file, where it is not 0. */
  live: Map<string, number>;
  /** Tombstoned generations whose files still exist (open here, or not deletable). */
  dead: Map<string, Set<number>>;
  /** The special entries this driver made here: what the ledger lists. */
  owned: Set<string>;
  /** A file named like the ledger that is not one: foreign, never overwritten. */
  foreignLedger: boolean;
}

/** One open file: the access handle every blob handle of it shares. */
interface SharedFile {
  readonly key: string;
  readonly handle: OpfsAccessHandle;
  readonly partition: Partition;
  readonly hex: string;
  readonly gen: number;
  refs: number;
  dead: boolean;
}

// ---- State shared by every storage of this worker ----

const partitions = new Map<string, Partition>();
const files = new Map<string, SharedFile>();
/** The directories' Web Locks this worker holds (or is taking), with how many storages share each. */
const locks = new Map<string, { taking: Promise<() => void>; shares: number }>();
let tail: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every call queued before it (per worker). */
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn);
  tail = run.then(noop, noop);
  return run;
}

function noop(): void {}

function addDead(partition: Partition, hex: string, gen: number): void {
  let set = partition.dead.get(hex);
  if (set === undefined) partition.dead.set(hex, set = new Set());
  set.add(gen);
}

/** The generation a new file of `hex` takes once its current one is tombstoned. */
function nextGeneration(partition: Partition, hex: string): number {
  let gen = partition.live.get(hex) ?? 0;
  for (const g of partition.dead.get(hex) ?? []) gen = Math.max(gen, g);
  return gen + 1;
}

/** What `name` in `partition`'s directory is: special names it does not own are foreign. */
function classify(partition: Partition, name: string): Physical | { kind: "ledger" } {
  if (name === LEDGER) return partition.foreignLedger ? { kind: "foreign" } : { kind: "ledger" };
  if (isSpecial(name) && !partition.owned.has(name)) return { kind: "foreign" };
  return parsePhysical(name);
}

/** The names the ledger of `dir` lists: empty without one, `undefined` when the file is not one. */
async function readLedger(
  dir: OpfsDirectoryHandle,
  present: boolean,
): Promise<Set<string> | undefined> {
  if (!present) return new Set();
  try {
    const file = await (await dir.getFileHandle(LEDGER)).getFile();
    return parseLedger(new TextDecoder().decode(await file.arrayBuffer()));
  } catch (err) {
    if (domName(err) === "NotFoundError") return new Set();
    return undefined;
  }
}

/**
 * Writes (and flushes) `partition`'s ledger, or deletes it when it lists
 * nothing; refuses to overwrite a foreign file of that name.
 */
async function saveLedger(dir: OpfsDirectoryHandle, partition: Partition): Promise<void> {
  if (partition.foreignLedger) {
    throw coded("EEXIST", `a foreign ${LEDGER} file is in the way`, partition.key);
  }
  if (partition.owned.size === 0) {
    await tryRemove(dir, LEDGER);
    return;
  }
  const handle = await (await dir.getFileHandle(LEDGER, { create: true }))
    .createSyncAccessHandle();
  try {
    const bytes = ledgerBytes(partition.owned);
    handle.truncate(0);
    handle.write(bytes, { at: 0 });
    handle.flush();
  } finally {
    handle.close();
  }
}

/** Lists `names` in the ledger (durably) before the caller creates them. */
async function own(dir: OpfsDirectoryHandle, partition: Partition, ...names: string[]) {
  const before = partition.owned.size;
  for (const name of names) partition.owned.add(name);
  if (partition.owned.size !== before) await saveLedger(dir, partition);
}

/**
 * The state of the partition directory `dir` (at `segments`), healing it the
 * first time this worker touches it (see the module docs); `undefined` when a
 * leftover marker made the heal delete the directory.
 */
async function partitionOf(
  dir: OpfsDirectoryHandle,
  segments: readonly string[],
): Promise<Partition | undefined> {
  const key = segments.join("/");
  const known = partitions.get(key);
  if (known !== undefined) return known;
  const entries = await listing(dir);
  const ledger = await readLedger(dir, entries.some(([name]) => name === LEDGER));
  const partition: Partition = {
    key,
    segments,
    removed: false,
    live: new Map(),
    dead: new Map(),
    owned: new Set(ledger),
    foreignLedger: ledger === undefined,
  };
  const ours = (name: string, kind: string) =>
    kind === "file" && classify(partition, name).kind !== "foreign";
  if (entries.some(([name, kind]) => name === PARTITION_REMOVED && ours(name, kind))) {
    // A partition removal of this driver that resolved (or was under way): finish it.
    const parent = await lookup(segments.slice(0, -1));
    if (parent !== undefined && await tryRemove(parent, segments.at(-1)!, true)) return undefined;
  }
  // Names listed but gone (a crash between a deletion and the ledger's update, or a name
  // listed before its file was made) are forgotten.
  const names = new Set(entries.map(([name]) => name));
  for (const name of partition.owned) if (!names.has(name)) partition.owned.delete(name);
  const listed = ledgerText(partition);
  const gens = new Map<string, Set<number>>();
  const tombs = new Map<string, Set<number>>();
  for (const [name, kind] of entries) {
    if (!ours(name, kind)) continue; // foreign: left as it is
    const p = classify(partition, name);
    if (p.kind === "marker") {
      partition.removed = true; // the directory could not be deleted: still removed
      continue;
    }
    if (p.kind !== "file" && p.kind !== "tombstone") continue;
    // Deleted or renamed below: each name leaves the ledger once it is gone.
    const map = p.kind === "file" ? gens : tombs;
    let set = map.get(p.hex);
    if (set === undefined) map.set(p.hex, set = new Set());
    set.add(p.gen);
  }
  for (const hex of new Set([...gens.keys(), ...tombs.keys()])) {
    await healName(dir, partition, hex, gens.get(hex) ?? new Set(), tombs.get(hex) ?? new Set());
  }
  if (ledgerText(partition) !== listed && !partition.foreignLedger) {
    await saveLedger(dir, partition).catch(noop); // stale names are harmless: next time
  }
  partitions.set(key, partition);
  return partition;
}

/** What the ledger would say: to write it only when healing changed it. */
function ledgerText(partition: Partition): string {
  return [...partition.owned].sort().join("/");
}

/**
 * Heals the files of one name (`present`: its generations, `removed`: its
 * tombstones, all of them this driver's): see the module docs.
 */
async function healName(
  dir: OpfsDirectoryHandle,
  partition: Partition,
  hex: string,
  present: Set<number>,
  removed: Set<number>,
): Promise<void> {
  let live = -1;
  for (const g of present) if (!removed.has(g) && g > live) live = g;
  let clean = true;
  for (const g of present) {
    if (g === live) continue;
    // File first, then its tombstone: a crash in between never resurrects it.
    if (await tryRemove(dir, fileName(hex, g))) {
      partition.owned.delete(fileName(hex, g));
      if (!await dropTombstone(dir, partition, hex, g)) clean = false;
    } else {
      clean = false;
      addDead(partition, hex, g);
      if (!removed.has(g)) {
        // An older generation without a tombstone: give it one, it is not live.
        if (await own(dir, partition, tombstoneName(hex, g)).then(() => true, () => false)) {
          await dir.getFileHandle(tombstoneName(hex, g), { create: true }).catch(noop);
        }
      }
    }
  }
  for (const g of removed) {
    if (!present.has(g) && !await dropTombstone(dir, partition, hex, g)) clean = false;
  }
  if (live > 0 && clean && !partition.removed) {
    // Back to the plain commonware name where the browser can move files.
    try {
      const handle = await dir.getFileHandle(fileName(hex, live));
      if (handle.move !== undefined) {
        await handle.move(hex);
        partition.owned.delete(fileName(hex, live));
        live = 0;
      }
    } catch {
      // keep the generation name
    }
  }
  if (live > 0) partition.live.set(hex, live);
  else if (live < 0 && partition.dead.has(hex)) {
    partition.live.set(hex, nextGeneration(partition, hex));
  }
}

/**
 * Deletes the tombstone of generation `gen` of `hex`, whose file is gone. When
 * it cannot, the generation stays counted as dead, so that no new file of the
 * name takes it (a later heal would take the leftover tombstone for its removal).
 */
async function dropTombstone(
  dir: OpfsDirectoryHandle,
  partition: Partition,
  hex: string,
  gen: number,
): Promise<boolean> {
  if (await tryRemove(dir, tombstoneName(hex, gen))) {
    partition.owned.delete(tombstoneName(hex, gen));
    return true;
  }
  addDead(partition, hex, gen);
  return false;
}

/** Deletes a removed file once its last handle has closed, then its partition if that is removed too. */
async function purge(file: SharedFile): Promise<void> {
  const { partition } = file;
  const dir = await lookup(partition.segments);
  if (dir === undefined) return;
  if (await tryRemove(dir, fileName(file.hex, file.gen))) {
    partition.owned.delete(fileName(file.hex, file.gen));
    if (await tryRemove(dir, tombstoneName(file.hex, file.gen))) {
      partition.owned.delete(tombstoneName(file.hex, file.gen));
      const set = partition.dead.get(file.hex);
      set?.delete(file.gen);
      if (set?.size === 0) partition.dead.delete(file.hex);
    }
    if (!partition.removed) await saveLedger(dir, partition).catch(noop);
  }
  if (!partition.removed || partitions.get(partition.key) !== partition) return;
  for (const f of files.values()) if (f.partition === partition) return;
  const parent = await lookup(partition.segments.slice(0, -1));
  if (parent !== undefined && await tryRemove(parent, partition.segments.at(-1)!, true)) {
    partitions.delete(partition.key);
  }
}

function release(file: SharedFile): void {
  if (--file.refs > 0) return;
  files.delete(file.key);
  try {
    file.handle.close();
  } catch {
    // closing is best effort; the handle is gone either way
  }
  if (file.dead) serial(() => purge(file)).catch(noop);
}

/** A blob handle's view of a shared access handle; its `close` drops one reference. */
function filePort(file: SharedFile): FilePort {
  const { handle } = file;
  let closed = false;
  const flush = (): Promise<void> => {
    try {
      handle.flush();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    size: () => handle.getSize(),
    read: (buf, position) => handle.read(buf, { at: position }),
    write: (buf, position) => handle.write(buf, { at: position }),
    truncate: (length) => handle.truncate(length),
    datasync: flush,
    fsync: flush,
    close: () => {
      if (closed) return;
      closed = true;
      release(file);
    },
  };
}

/**
 * How long the first operation waits for the directory's Web Lock before it
 * gives up with `StorageLocked`: long enough for the worker of a page being
 * reloaded to end and release it.
 */
const LOCK_WAIT_MS = 1000;

/** Takes the Web Lock named after the directory; resolves with what releases it. */
function acquire(key: string, directory: string): Promise<() => void> {
  const api = webLocks();
  if (api === undefined) return Promise.resolve(noop);
  const signal = timeoutSignal(LOCK_WAIT_MS);
  return new Promise<() => void>((resolve, reject) => {
    const options = signal === undefined ? { ifAvailable: true } : { signal };
    api.request(`blobrt-opfs:/${key}`, options, (lock) => {
      if (lock === null) {
        reject(coded(LOCKED, "another worker or tab holds the storage directory", directory));
        return;
      }
      // Held until the last storage sharing it closes, or the worker ends.
      return new Promise<void>((release) => resolve(() => release()));
    }).catch((err) => {
      const timedOut = domName(err) === "TimeoutError" || domName(err) === "AbortError";
      reject(
        timedOut
          ? coded(LOCKED, "another worker or tab holds the storage directory", directory, err)
          : err,
      );
    });
  });
}

/** Whether this context has `FileSystemSyncAccessHandle`: a browser's dedicated worker. */
export function hasSyncAccessHandles(): boolean {
  const g = globalThis as {
    FileSystemFileHandle?: { prototype?: { createSyncAccessHandle?: unknown } };
  };
  return typeof g.FileSystemFileHandle?.prototype?.createSyncAccessHandle === "function";
}

/** The error of every operation where there are no sync access handles. */
function needsWorker(): StorageError {
  return new StorageError("Io", {
    reason: "OpfsStorage needs FileSystemSyncAccessHandle, which browsers offer only in a " +
      "dedicated worker: create the storage in a dedicated worker (new Worker(url)), not on " +
      "a page's main thread or in a shared or service worker",
  });
}

/**
 * `port` with every call checked first: where sync access handles do not
 * exist, each rejects with {@linkcode needsWorker}'s error before it takes
 * the lock or creates anything.
 */
function checked(port: FileSystemPort): FileSystemPort {
  const out: Record<string, unknown> = { ...port };
  const calls = ["kind", "mkdir", "readDir", "syncDir", "removeFile", "removeDir", "lock", "open"];
  for (const key of calls) {
    const call = (port as unknown as Record<string, (...args: unknown[]) => unknown>)[key];
    if (call === undefined) continue;
    out[key] = (...args: unknown[]) =>
      hasSyncAccessHandles() ? call(...args) : Promise.reject(needsWorker());
  }
  return out as unknown as FileSystemPort;
}

/**
 * The port for a storage rooted at `rootPath` (a `/`-separated path under the
 * OPFS root). Ports of different storages share this worker's handles and
 * partition state. Where the context has no sync access handles (a page's
 * main thread), every call rejects with a `StorageError` saying that a
 * dedicated worker is needed, touching nothing.
 *
 * @param rootPath The storage directory.
 * @returns The port.
 */
export function opfsPort(rootPath: string): FileSystemPort {
  return checked(uncheckedPort(rootPath));
}

// Over 70 lines: one short method per port call, sharing this storage's closure.
function uncheckedPort(rootPath: string): FileSystemPort {
  const rootDepth = segmentsOf(rootPath).length;
  /** The path's components and its depth below the storage root (1: partition, 2: blob). */
  const parse = (path: string) => {
    const segments = segmentsOf(path);
    return { segments, depth: segments.length - rootDepth };
  };

  /** The live partition at `segments`, or `undefined` when it is missing or removed. */
  const livePartition = async (segments: readonly string[]) => {
    const dir = await lookup(segments);
    if (dir === undefined) return undefined;
    const partition = await partitionOf(dir, segments);
    if (partition === undefined || partition.removed) return undefined;
    return { dir, partition };
  };

  /** Rejects with `ENOENT`, or `ENOTDIR` when a file stands where the directory should be. */
  const missingDir = async (segments: readonly string[], path: string): Promise<never> => {
    const parent = await lookup(segments.slice(0, -1));
    if (parent !== undefined && await entryKind(parent, segments.at(-1)!) === "file") {
      throw coded("ENOTDIR", "not a directory", path);
    }
    throw coded("ENOENT", "no such file or directory", path);
  };

  return {
    name: "opfs",

    kind: (path) =>
      serial(async () => {
        const { segments, depth } = parse(path);
        if (segments.length === 0) return "dir";
        const parent = await lookup(segments.slice(0, -1));
        if (parent === undefined) return "missing";
        if (depth === 2) {
          const live = await livePartition(segments.slice(0, -1));
          if (live === undefined) return "missing";
          const hex = segments.at(-1)!;
          return await entryKind(live.dir, fileName(hex, live.partition.live.get(hex) ?? 0));
        }
        const kind = await entryKind(parent, segments.at(-1)!);
        if (depth === 1 && kind === "dir") {
          return (await livePartition(segments)) === undefined ? "missing" : "dir";
        }
        return kind;
      }),

    mkdir: (path) =>
      serial(async () => {
        const { segments, depth } = parse(path);
        const dir = await makeDirs(segments, path);
        if (depth !== 1) return;
        const partition = await partitionOf(dir, segments) ?? await partitionOf(
          await makeDirs(segments, path),
          segments,
        );
        if (partition?.removed) {
          // Re-created while files of its removed self are open: they keep their tombstones.
          await dir.removeEntry(PARTITION_REMOVED).catch((err: unknown) => {
            if (domName(err) !== "NotFoundError") throw mapError(err, path);
          });
          partition.removed = false;
          partition.owned.delete(PARTITION_REMOVED);
          await saveLedger(dir, partition).catch(noop);
        }
      }),

    readDir: (path) =>
      serial(async (): Promise<DirEntry[]> => {
        const { segments, depth } = parse(path);
        if (depth !== 1) {
          const dir = await lookup(segments);
          if (dir === undefined) return await missingDir(segments, path);
          return (await listing(dir)).map(([name, kind]) => ({ name, isFile: kind === "file" }));
        }
        const live = await livePartition(segments);
        if (live === undefined) return await missingDir(segments, path);
        const out: DirEntry[] = [];
        for (const [name, kind] of await listing(live.dir)) {
          const p = kind === "file" ? classify(live.partition, name) : { kind: "foreign" as const };
          if (p.kind === "foreign") out.push({ name, isFile: kind === "file" });
          else if (p.kind === "file" && p.gen === (live.partition.live.get(p.hex) ?? 0)) {
            out.push({ name: p.hex, isFile: true });
          }
        }
        return out;
      }),

    // OPFS has no directory fsync: entries are as durable as the browser makes them.
    syncDir: () => Promise.resolve(),

    removeFile: (path) =>
      serial(async () => {
        const { segments, depth } = parse(path);
        const hex = segments.at(-1)!;
        const live = depth === 2 ? await livePartition(segments.slice(0, -1)) : undefined;
        if (live === undefined) {
          const dir = depth === 2 ? undefined : await lookup(segments.slice(0, -1));
          if (dir === undefined) throw coded("ENOENT", "no such file or directory", path);
          await dir.removeEntry(hex).catch((err) => {
            throw mapError(err, path, "EISDIR");
          });
          return;
        }
        const { dir, partition } = live;
        const gen = partition.live.get(hex) ?? 0;
        const name = fileName(hex, gen);
        const open = files.get(`${partition.key}/${name}`);
        if (open !== undefined) {
          // Open here: the tombstone is the removal; the file goes with its last handle.
          const next = Math.max(gen, nextGeneration(partition, hex));
          await own(dir, partition, tombstoneName(hex, gen), fileName(hex, next)).catch((err) => {
            throw mapError(err, path);
          });
          await dir.getFileHandle(tombstoneName(hex, gen), { create: true }).catch((err) => {
            throw mapError(err, path);
          });
          open.dead = true;
          addDead(partition, hex, gen);
          partition.live.set(hex, nextGeneration(partition, hex));
          return;
        }
        if (await entryKind(dir, name) === "dir") throw coded("EISDIR", "a directory", path);
        await dir.removeEntry(name).catch((err) => {
          throw mapError(err, path, "EISDIR");
        });
        if (partition.owned.delete(name)) await saveLedger(dir, partition).catch(noop);
        if (!partition.dead.has(hex)) partition.live.delete(hex);
      }),

    removeDir: (path) =>
      serial(async () => {
        const { segments, depth } = parse(path);
        const parent = await lookup(segments.slice(0, -1));
        const name = segments.at(-1)!;
        const live = depth === 1 ? await livePartition(segments) : undefined;
        if (parent === undefined || (depth === 1 && live === undefined)) {
          return await missingDir(segments, path);
        }
        if (live === undefined) {
          await parent.removeEntry(name, { recursive: true }).catch((err) => {
            throw mapError(err, path);
          });
          return;
        }
        const { dir, partition } = live;
        const open = [...files.values()].filter((f) => f.partition === partition);
        if (open.length === 0) {
          await parent.removeEntry(name, { recursive: true }).catch((err) => {
            throw mapError(err, path);
          });
          partitions.delete(partition.key);
          return;
        }
        // Files are open: the marker is the removal; they keep their bytes until closed.
        const tombs = open.map((f) => tombstoneName(f.hex, f.gen));
        await own(dir, partition, PARTITION_REMOVED, ...tombs).catch((err) => {
          throw mapError(err, path);
        });
        await dir.getFileHandle(PARTITION_REMOVED, { create: true }).catch((err) => {
          throw mapError(err, path);
        });
        partition.removed = true;
        const keep = new Set<string>([PARTITION_REMOVED, LEDGER]);
        for (const f of open) {
          if (!f.dead) {
            await dir.getFileHandle(tombstoneName(f.hex, f.gen), { create: true });
            f.dead = true;
            addDead(partition, f.hex, f.gen);
          }
          keep.add(fileName(f.hex, f.gen)).add(tombstoneName(f.hex, f.gen));
        }
        for (const [entry] of await listing(dir)) {
          if (!keep.has(entry)) await tryRemove(dir, entry, true);
        }
        partition.live = new Map();
        for (const hex of partition.dead.keys()) {
          partition.live.set(hex, nextGeneration(partition, hex));
        }
      }),

    lock: async (directory) => {
      const key = segmentsOf(directory).join("/");
      let held = locks.get(key);
      if (held === undefined) {
        const taking = acquire(key, directory);
        locks.set(key, held = { taking, shares: 0 });
        taking.catch(() => {
          if (locks.get(key)?.taking === taking) locks.delete(key);
        });
      }
      const entry = held;
      entry.shares++; // counted before waiting, so a release meanwhile cannot reach 0
      let release: () => void;
      try {
        release = await entry.taking;
      } catch (err) {
        entry.shares--;
        throw err;
      }
      let released = false;
      return {
        check: noop,
        release: () => {
          if (released) return;
          released = true;
          if (--entry.shares > 0) return;
          locks.delete(key);
          release();
        },
      };
    },

    open: (path) =>
      serial(async () => {
        const { segments, depth } = parse(path);
        const live = depth === 2 ? await livePartition(segments.slice(0, -1)) : undefined;
        if (live === undefined) throw coded("ENOENT", "no such partition", path);
        const { dir, partition } = live;
        const hex = segments.at(-1)!;
        const gen = partition.live.get(hex) ?? 0;
        const name = fileName(hex, gen);
        const key = `${partition.key}/${name}`;
        let file = files.get(key);
        if (file === undefined) {
          let handle: OpfsAccessHandle;
          if (gen > 0) {
            await own(dir, partition, name).catch((err) => {
              throw mapError(err, path);
            });
          }
          try {
            const fh = await dir.getFileHandle(name, { create: true });
            handle = await fh.createSyncAccessHandle();
          } catch (err) {
            if (domName(err) === "TypeMismatchError") throw coded("EISDIR", "a directory", path);
            if (domName(err) === "InvalidStateError") {
              throw coded(NOT_REGULAR, "not a regular file", path, err);
            }
            throw mapError(err, path, "EISDIR");
          }
          file = { key, handle, partition, hex, gen, refs: 0, dead: false };
          files.set(key, file);
        }
        file.refs++;
        return filePort(file);
      }),
  };
}

/** How many access handles this worker holds open, for tests. */
export function openAccessHandles(): number {
  return files.size;
}

/**
 * Forgets what this worker knows of the partitions under the directory
 * `path`, as a new worker would: the next touch of each heals it again. Only
 * when none of their files is open; for tests of crash healing.
 */
export function forgetPartitions(path: string): void {
  const prefix = segmentsOf(path).join("/") + "/";
  for (const f of files.values()) {
    if (f.partition.key.startsWith(prefix)) throw new Error(`open: ${f.key}`);
  }
  for (const key of partitions.keys()) if (key.startsWith(prefix)) partitions.delete(key);
}

/**
 * The raw bytes (header included) of the current file of `hex` in the
 * partition directory at `segments`, or `undefined` when there is none. Reads
 * through the shared access handle when the file is open. For tests.
 */
export function readLiveFile(segments: string[], hex: string): Promise<Uint8Array | undefined> {
  return serial(async () => {
    const dir = await lookup(segments);
    if (dir === undefined) return undefined;
    const partition = await partitionOf(dir, segments);
    if (partition === undefined || partition.removed) return undefined;
    const name = fileName(hex, partition.live.get(hex) ?? 0);
    const open = files.get(`${partition.key}/${name}`);
    if (open !== undefined) {
      const out = new Uint8Array(open.handle.getSize());
      open.handle.read(out, { at: 0 });
      return out;
    }
    try {
      const fh = await dir.getFileHandle(name);
      return new Uint8Array(await (await fh.getFile()).arrayBuffer());
    } catch (err) {
      if (domName(err) === "NotFoundError") return undefined;
      throw err;
    }
  });
}

/**
 * Replaces the current file of `hex` in the partition directory at
 * `segments` with `bytes`, creating directories as needed. For tests.
 */
export function writeLiveFile(segments: string[], hex: string, bytes: Uint8Array): Promise<void> {
  return serial(async () => {
    const dir = await makeDirs(segments, segments.join("/"));
    const partition = await partitionOf(dir, segments) ??
      await partitionOf(await makeDirs(segments, segments.join("/")), segments);
    const name = fileName(hex, partition?.live.get(hex) ?? 0);
    const open = files.get(`${partition?.key}/${name}`);
    const handle = open?.handle ??
      await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
    try {
      handle.truncate(0);
      handle.write(bytes, { at: 0 });
      handle.flush();
    } finally {
      if (open === undefined) handle.close();
    }
  });
}
