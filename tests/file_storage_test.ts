/**
 * FileStorage over an adversarial in-memory port: every read and write moves
 * at most a few bytes, `writev` takes at most 1024 buffers and stops short, so
 * the retry loops of the shared filesystem logic are exercised on every
 * runtime, through the whole conformance suite.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { FileStorage } from "../fs/file_storage.ts";
import { MAX_IO, readInto, writeFully, writevFully } from "../fs/_file_blob.ts";
import type { DirEntry, FilePort, FileSystemPort } from "../fs/port.ts";
import { toHex } from "../core/names.ts";
import { assertBytes, rejectsCode } from "./assert.ts";
import { read } from "./util.ts";
import { runConformance } from "./conformance.ts";
import { slow } from "./limits.ts";

const enoent = (path: string) =>
  Object.assign(new Error(`no such entry: ${path}`), { code: "ENOENT" });

/** A tiny in-memory filesystem whose calls move few bytes at a time. */
class ChoppyFs implements FileSystemPort {
  readonly name = "choppy";
  readonly files = new Map<string, { data: Uint8Array }>();
  readonly dirs = new Set<string>();
  writevCalls: number[] = [];
  /** Every fsync (`fsync <path>`) and directory sync (`syncDir <path>`), in order. */
  readonly syncs: string[] = [];
  /** The error the next file fsync rejects with, once. */
  failNextFsync: Error | undefined;
  /**
   * Set: the next write writes nothing, grows the file to this many bytes
   * past its position, and throws ENOSPC (a full disk can leave such a tail).
   */
  failNextWriteGrowing: number | undefined;

  constructor(readonly step: number) {}

  mkdir(path: string): Promise<void> {
    for (let p = path; p !== "" && p !== "."; p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
      this.dirs.add(p);
    }
    return Promise.resolve();
  }
  readDir(path: string): Promise<DirEntry[]> {
    if (!this.dirs.has(path)) return Promise.reject(enoent(path));
    const out: DirEntry[] = [];
    for (const f of this.files.keys()) {
      if (f.startsWith(path + "/") && !f.slice(path.length + 1).includes("/")) {
        out.push({ name: f.slice(path.length + 1), isFile: true });
      }
    }
    return Promise.resolve(out);
  }
  /** Directories whose sync rejects with this error, every time. */
  readonly unreadable = new Map<string, Error>();
  syncDir(path: string): Promise<void> {
    const err = this.unreadable.get(path);
    if (err !== undefined) return Promise.reject(err);
    this.syncs.push(`syncDir ${path}`);
    return Promise.resolve();
  }
  removeFile(path: string): Promise<void> {
    return this.files.delete(path) ? Promise.resolve() : Promise.reject(enoent(path));
  }
  removeDir(path: string): Promise<void> {
    if (!this.dirs.delete(path)) return Promise.reject(enoent(path));
    for (const f of [...this.files.keys()]) if (f.startsWith(path + "/")) this.files.delete(f);
    return Promise.resolve();
  }
  open(path: string): Promise<FilePort> {
    let file = this.files.get(path);
    if (file === undefined) this.files.set(path, file = { data: new Uint8Array(0) });
    const f = file;
    const step = this.step;
    // Grows by doubling the backing store, so many small writes stay linear.
    let store = f.data;
    const grow = (end: number) => {
      if (end > f.data.length) {
        if (end > store.length || store.buffer !== f.data.buffer) {
          const next = new Uint8Array(Math.max(end, store.length * 2));
          next.set(f.data);
          store = next;
        }
        f.data = store.subarray(0, end);
      }
    };
    const port: FilePort = {
      size: () => f.data.length,
      read: (buf, position) => {
        const n = Math.max(0, Math.min(buf.length, step, f.data.length - position));
        buf.set(f.data.subarray(position, position + n));
        return n;
      },
      write: (buf, position) => {
        const extra = this.failNextWriteGrowing;
        if (extra !== undefined) {
          this.failNextWriteGrowing = undefined;
          grow(position + extra);
          throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
        }
        const n = Math.min(buf.length, step);
        grow(position + n);
        f.data.set(buf.subarray(0, n), position);
        return n;
      },
      writev: (bufs, position) => {
        assert.ok(bufs.length <= 1024, `writev of ${bufs.length} buffers`);
        this.writevCalls.push(bufs.length);
        // Write all of the first buffers and half of the last one: a short write.
        let done = 0;
        bufs.forEach((b, i) => {
          const take = i === bufs.length - 1 && b.length > 1 ? b.length >> 1 : b.length;
          grow(position + done + take);
          f.data.set(b.subarray(0, take), position + done);
          done += take;
        });
        return done;
      },
      truncate: (length) => {
        const next = new Uint8Array(length);
        next.set(f.data.subarray(0, length));
        f.data = store = next;
      },
      datasync: () => Promise.resolve(),
      fsync: () => {
        this.syncs.push(`fsync ${path}`);
        const err = this.failNextFsync;
        this.failNextFsync = undefined;
        return err === undefined ? Promise.resolve() : Promise.reject(err);
      },
      close: () => {},
    };
    return Promise.resolve(port);
  }
}

runConformance("FileStorage (3-byte reads and writes)", () => {
  const fs = new ChoppyFs(3);
  const key = (partition: string, name: Uint8Array) => `/root/${partition}/${toHex(name)}`;
  return {
    storage: new FileStorage({ directory: "/root" }, fs),
    writeRaw: (partition, name, raw) => {
      fs.dirs.add("/root").add(`/root/${partition}`);
      fs.files.set(key(partition, name), { data: raw.slice() });
    },
    readRaw: (partition, name) => fs.files.get(key(partition, name))?.data.slice(),
  };
});

test("FileStorage: a failed write that grew the file leaves the handle and a reopen agreeing", async () => {
  const fs = new ChoppyFs(1 << 30);
  const storage = new FileStorage({ directory: "/root" }, fs);
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, new Uint8Array([1, 2, 3]), { sync: true });
  fs.failNextWriteGrowing = 7; // the file grows 7 bytes past the write's start, to 10, with none written
  const err = await rejectsCode(blob.writeAt(3, new Uint8Array(20).fill(9)), "WriteFailed");
  assert.equal((err.cause as { code?: string }).code, "ENOSPC");
  // The handle learned the file's size: it reads the tail the disk left.
  assertBytes(await read(blob, 0, 10), new Uint8Array([1, 2, 3, 0, 0, 0, 0, 0, 0, 0]));
  await rejectsCode(blob.readAt(10, 1), "BlobInsufficientLength");
  await blob.close();
  const again = await storage.open("p", "b");
  assert.equal(again.size, 10, "the reopen sees the size the handle had");
  await again.blob.close();
});

slow.test("FileStorage: vectored writes of large chunks go through pwritev in batches of 1024", async () => {
  const fs = new ChoppyFs(1 << 30);
  const storage = new FileStorage({ directory: "/root" }, fs);
  const { blob } = await storage.open("p", "b");
  const chunks = Array.from({ length: 2500 }, (_, i) => new Uint8Array(16 * 1024).fill(i & 0xff));
  await blob.writeAt(5, chunks);
  // Each call is short by half its last buffer, which the next call finishes.
  assert.ok(fs.writevCalls.length >= 3);
  assert.ok(fs.writevCalls.every((n) => n <= 1024));
  const data = fs.files.get("/root/p/62")!.data;
  assert.equal(data.length, 8 + 5 + 2500 * 16 * 1024);
  for (let i = 0; i < 2500; i++) {
    const at = 8 + 5 + i * 16 * 1024;
    assertBytes(data.subarray(at, at + 16 * 1024), chunks[i], `chunk ${i}`);
  }
  await blob.close();
});

test("FileStorage: small vectored chunks are coalesced into one write", async () => {
  const fs = new ChoppyFs(1 << 30);
  const storage = new FileStorage({ directory: "/root" }, fs);
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, Array.from({ length: 1500 }, (_, i) => new Uint8Array([i & 0xff, i >> 8])));
  assert.deepEqual(fs.writevCalls, []);
  const data = fs.files.get("/root/p/62")!.data;
  assert.equal(data.length, 8 + 3000);
  assert.deepEqual([...data.subarray(8 + 2998)], [1499 & 0xff, 1499 >> 8]);
  await blob.close();
});

test("FileStorage: a file that shrinks under a handle reads as BlobInsufficientLength", async () => {
  const fs = new ChoppyFs(5);
  const storage = new FileStorage({ directory: "/root" }, fs);
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, new Uint8Array(100).fill(1));
  fs.files.get("/root/p/62")!.data = new Uint8Array(50);
  await assert.rejects(blob.readAt(0, 100), { code: "BlobInsufficientLength" });
  await blob.close();
});

test("FileStorage: needs a directory", () => {
  const fs = new ChoppyFs(1);
  assert.throws(() => new FileStorage({ directory: "" }, fs), TypeError);
  assert.throws(() => new FileStorage({} as { directory: string }, fs), TypeError);
});

/** A valid V0 header (`CWIC`, version 0) followed by `data`. */
function v0(data: number[]): Uint8Array {
  return new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0, 0, ...data]);
}

test("FileStorage: the first open of an existing blob makes it durable before resolving", async () => {
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/root").add("/root/p");
  fs.files.set("/root/p/62", { data: v0([1, 2, 3]) });
  fs.files.set("/root/p/63", { data: v0([4]) });
  const storage = new FileStorage({ directory: "/root" }, fs);
  const first = await storage.open("p", "b");
  assert.equal(first.size, 3);
  // The header was already valid: nothing rewritten, but the root's entry
  // in its parent, the file, its partition directory and the root are
  // fsynced before open resolves.
  assert.deepEqual(fs.syncs, [
    "syncDir /",
    "fsync /root/p/62",
    "syncDir /root/p",
    "syncDir /root",
  ]);
  assertBytes(fs.files.get("/root/p/62")!.data, v0([1, 2, 3]));
  // Opened again by the same storage: already durable, no sync at all.
  fs.syncs.length = 0;
  const again = await storage.open("p", "b");
  assert.deepEqual(fs.syncs, []);
  // Another blob of the same partition: its file only, the directories once per partition.
  const other = await storage.open("p", "c");
  assert.deepEqual(fs.syncs, ["fsync /root/p/63"]);
  await Promise.all([first.blob.close(), again.blob.close(), other.blob.close()]);
  // A new storage on the same directory knows nothing yet: it syncs again.
  fs.syncs.length = 0;
  const fresh = await new FileStorage({ directory: "/root" }, fs).open("p", "b");
  assert.deepEqual(fs.syncs, [
    "syncDir /",
    "fsync /root/p/62",
    "syncDir /root/p",
    "syncDir /root",
  ]);
  await fresh.blob.close();
});

test("FileStorage: a blob this storage created is not fsynced again on its next open", async () => {
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/root");
  const storage = new FileStorage({ directory: "/root" }, fs);
  const created = await storage.open("p", "b");
  assert.deepEqual(fs.syncs, [
    "syncDir /",
    "syncDir /root/p",
    "syncDir /root",
    "fsync /root/p/62",
  ]);
  fs.syncs.length = 0;
  const again = await storage.open("p", "b");
  assert.deepEqual(fs.syncs, []);
  await Promise.all([created.blob.close(), again.blob.close()]);
});

test("FileStorage: an open whose fsync fails rejects, and the next open fsyncs again", async () => {
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/root").add("/root/p");
  fs.files.set("/root/p/62", { data: v0([7]) });
  const storage = new FileStorage({ directory: "/root" }, fs);
  fs.failNextFsync = Object.assign(new Error("injected"), { code: "EIO" });
  await assert.rejects(storage.open("p", "b"), { code: "BlobOpenFailed" });
  assert.deepEqual(fs.syncs, ["syncDir /", "fsync /root/p/62"]);
  fs.syncs.length = 0;
  const opened = await storage.open("p", "b");
  assert.equal(opened.size, 1);
  assert.deepEqual(fs.syncs, ["fsync /root/p/62", "syncDir /root/p", "syncDir /root"]);
  await opened.blob.close();
});

test("FileStorage: a creation whose fsync failed leaves no blob, and the next open creates it durably", async () => {
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/root");
  const storage = new FileStorage({ directory: "/root" }, fs);
  fs.failNextFsync = Object.assign(new Error("injected"), { code: "EIO" });
  await assert.rejects(storage.open("p", "b"), { code: "BlobOpenFailed" });
  assert.equal(fs.files.has("/root/p/62"), false, "the half-created file is removed");
  assert.deepEqual(await storage.scan("p"), []);
  fs.syncs.length = 0;
  const opened = await storage.open("p", "b");
  assert.ok(fs.syncs.includes("fsync /root/p/62"), fs.syncs.join(", "));
  await opened.blob.close();
});

test("FileStorage: creating the root fsyncs the parent of each directory it created", async () => {
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/data");
  const storage = new FileStorage({ directory: "/data/a/root/" }, fs);
  const opened = await storage.open("p", "b");
  assert.ok(fs.dirs.has("/data/a/root/p"));
  // Nearest the filesystem root first, before anything inside is synced.
  assert.deepEqual(fs.syncs.slice(0, 2), ["syncDir /data", "syncDir /data/a"]);
  fs.syncs.length = 0;
  // The root now exists: no more parent syncs.
  const other = await storage.open("q", "b");
  assert.ok(!fs.syncs.some((s) => s === "syncDir /data" || s === "syncDir /data/a"));
  await Promise.all([opened.blob.close(), other.blob.close()]);
  // An existing root, in a new storage: its entry in its parent made durable
  // again (the process that created it may have died before its fsync).
  fs.syncs.length = 0;
  const existing = await new FileStorage({ directory: "/data/a/root" }, fs).open("p", "b");
  assert.deepEqual(fs.syncs, [
    "syncDir /data/a",
    "fsync /data/a/root/p/62",
    "syncDir /data/a/root/p",
    "syncDir /data/a/root",
  ]);
  await existing.blob.close();
});

test("FileStorage: a first scan or remove on an existing root makes the root's entry durable, once", async () => {
  for (const first of ["scan", "remove"] as const) {
    const fs = new ChoppyFs(1 << 30);
    fs.dirs.add("/data").add("/data/root").add("/data/root/p");
    const storage = new FileStorage({ directory: "/data/root" }, fs);
    if (first === "scan") assert.deepEqual(await storage.scan("p"), []);
    else await storage.remove("q").catch(() => {});
    assert.deepEqual(fs.syncs.slice(0, 2), ["syncDir /data", "syncDir /data/root"], first);
    fs.syncs.length = 0;
    await storage.scan("p");
    const opened = await storage.open("p", "b");
    assert.ok(!fs.syncs.includes("syncDir /data"), `${first}: once per storage`);
    await opened.blob.close();
  }
  // No root: nothing synced, nothing created.
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/data");
  await assert.rejects(new FileStorage({ directory: "/data/root" }, fs).scan("p"), {
    code: "PartitionMissing",
  });
  assert.deepEqual(fs.syncs, []);
});

test("FileStorage: the parent of an existing root that cannot be opened is skipped; other failures are not", async () => {
  const denied = [
    Object.assign(new Error("denied"), { code: "EACCES" }),
    Object.assign(new Error("Requires read access"), { name: "NotCapable" }),
  ];
  for (const err of denied) {
    for (const first of ["open", "scan"] as const) {
      const fs = new ChoppyFs(1 << 30);
      fs.dirs.add("/data").add("/data/root").add("/data/root/p");
      fs.unreadable.set("/data", err);
      const storage = new FileStorage({ directory: "/data/root" }, fs);
      if (first === "scan") assert.deepEqual(await storage.scan("p"), []);
      else await (await storage.open("p", "b")).blob.close();
      assert.ok(fs.syncs.includes("syncDir /data/root"), `${first}: ${fs.syncs.join(", ")}`);
    }
  }
  // An I/O error on that parent fails the operation.
  const fs = new ChoppyFs(1 << 30);
  fs.dirs.add("/data").add("/data/root").add("/data/root/p");
  fs.unreadable.set("/data", Object.assign(new Error("io"), { code: "EIO" }));
  const storage = new FileStorage({ directory: "/data/root" }, fs);
  await assert.rejects(storage.open("p", "b"), { code: "PartitionCreationFailed" });
  await assert.rejects(new FileStorage({ directory: "/data/root" }, fs).scan("p"), { code: "Io" });
  // A root this storage creates: its parent must be synced, whatever the error.
  const fresh = new ChoppyFs(1 << 30);
  fresh.dirs.add("/data");
  fresh.unreadable.set("/data", denied[0]!);
  await assert.rejects(new FileStorage({ directory: "/data/root" }, fresh).open("p", "b"), {
    code: "PartitionCreationFailed",
  });
});

/** A file port over `data` whose calls record the lengths they are given. */
function recordingFile(data: Uint8Array, calls: number[]): FilePort {
  return {
    size: () => data.length,
    read: (buf, position) => {
      calls.push(buf.length);
      const n = Math.max(0, Math.min(buf.length, data.length - position));
      buf.set(data.subarray(position, position + n));
      return n;
    },
    write: (buf, position) => {
      calls.push(buf.length);
      data.set(buf, position);
      return buf.length;
    },
    writev: (bufs, position) => {
      const n = bufs.reduce((sum, b) => sum + b.length, 0);
      calls.push(n);
      for (const b of bufs) data.set(b, position), position += b.length;
      return n;
    },
    truncate: () => {},
    datasync: () => Promise.resolve(),
    fsync: () => Promise.resolve(),
    close: () => {},
  };
}

slow.test("readInto, writeFully, writevFully: no port call moves more than maxIo bytes", () => {
  const MiB = 1 << 20;
  assert.equal(MAX_IO, 1 << 30); // the limit every real call is held to
  const data = new Uint8Array(3 * MiB + 5).map((_, i) => i * 7);
  const calls: number[] = [];
  const buf = new Uint8Array(3 * MiB + 100);
  // Reads a 3 MiB + 100 buffer from position 0 of a 3 MiB + 5 file: four calls
  // of at most 1 MiB (the last one short at end of file), then one that reads 0.
  assert.equal(readInto(recordingFile(data, calls), buf, 0, MiB), data.length);
  assert.deepEqual(calls, [MiB, MiB, MiB, 100, 95]);
  assertBytes(buf.subarray(0, data.length), data);
  // The default limit keeps a whole 3 MiB read in one call.
  calls.length = 0;
  assert.equal(readInto(recordingFile(data, calls), buf.subarray(0, 3 * MiB), 5), 3 * MiB);
  assert.deepEqual(calls, [3 * MiB]);

  const out = new Uint8Array(3 * MiB + 5);
  calls.length = 0;
  writeFully(recordingFile(out, calls), data, 0, undefined, MiB);
  assert.deepEqual(calls, [MiB, MiB, MiB, 5]);
  assertBytes(out, data);

  // pwritev batches stop at maxIo bytes; a chunk larger than that is written alone, in pieces.
  const chunks = [
    data.subarray(0, MiB / 2),
    data.subarray(MiB / 2, MiB),
    data.subarray(MiB, 3 * MiB + 5),
  ];
  const vout = new Uint8Array(3 * MiB + 5);
  calls.length = 0;
  let progress = 0;
  writevFully(
    recordingFile(vout, calls) as Required<FilePort>,
    chunks,
    0,
    (n) => progress += n,
    MiB,
  );
  assert.deepEqual(calls, [MiB, MiB, MiB, 5]);
  assert.equal(progress, data.length);
  assertBytes(vout, data);
});
