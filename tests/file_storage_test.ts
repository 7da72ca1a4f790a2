/**
 * FileStorage over an adversarial in-memory port: every read and write moves
 * at most a few bytes, `writev` takes at most 1024 buffers and stops short, so
 * the retry loops of the shared filesystem logic are exercised on every
 * runtime, through the whole conformance suite.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { FileStorage } from "../fs/file_storage.ts";
import type { DirEntry, FilePort, FileSystemPort } from "../fs/port.ts";
import { toHex } from "../core/names.ts";
import { assertBytes } from "./assert.ts";
import { runConformance } from "./conformance.ts";

const enoent = (path: string) =>
  Object.assign(new Error(`no such entry: ${path}`), { code: "ENOENT" });

/** A tiny in-memory filesystem whose calls move few bytes at a time. */
class ChoppyFs implements FileSystemPort {
  readonly name = "choppy";
  readonly files = new Map<string, { data: Uint8Array }>();
  readonly dirs = new Set<string>();
  writevCalls: number[] = [];

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
  syncDir(): Promise<void> {
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
      fsync: () => Promise.resolve(),
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

test("FileStorage: vectored writes of large chunks go through pwritev in batches of 1024", async () => {
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
