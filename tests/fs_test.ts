/**
 * Filesystem-specific tests, beyond the shared conformance suite: the exact
 * on-disk layout and header, handwritten commonware files, short and corrupt
 * files, foreign entries, escaping names, OS errors as `cause`, concurrency,
 * read-after-remove, a real process crash (SIGKILL) and the serialisation of
 * `open`/`remove`/`scan`. They run for every filesystem driver the running
 * runtime has: DenoStorage and NodeStorage under Deno, BunStorage and
 * NodeStorage under Bun.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { BunStorage } from "../drivers/bun.ts";
import { DenoStorage } from "../drivers/deno.ts";
import { NodeStorage } from "../drivers/node.ts";
import { StorageError } from "../core/errors.ts";
import { type BlobLayout, createHeader, encodeHeader } from "../core/header.ts";
import type { Storage } from "../core/types.ts";
import { createStorage, type DriverName } from "../drivers/select.ts";
import { FileStorage } from "../fs/file_storage.ts";
import { nodeFileSystem } from "../fs/node_port.ts";
import type { FilePort, FileSystemPort } from "../fs/port.ts";
import { assertBytes, rejectsCode } from "./assert.ts";
import { runConformance } from "./conformance.ts";
import { fsFixture, inTempDir } from "./fs_fixture.ts";
import { CRASH_BLOB, CRASH_PARTITION, record, RECORD_SIZE } from "./fixtures/crash_writer.ts";
import { enc, pattern, read } from "./util.ts";
import { SLOW } from "./limits.ts";

const isDeno = "Deno" in globalThis;
const isBun = "Bun" in globalThis;

interface Driver {
  /** The class name, as the child process of the crash test knows it. */
  name: string;
  make: (directory: string, layout?: BlobLayout) => Storage;
  /** Why it cannot run here, or `false`. */
  skip: string | false;
}

const drivers: Driver[] = [
  {
    name: "DenoStorage",
    make: (directory, layout) => new DenoStorage({ directory, layout }),
    skip: isDeno ? false : "DenoStorage needs Deno.FsFile; it runs under deno test",
  },
  {
    name: "BunStorage",
    make: (directory, layout) => new BunStorage({ directory, layout }),
    skip: isBun ? false : "BunStorage is tuned for Bun; it runs under bun test",
  },
  {
    name: "NodeStorage",
    make: (directory, layout) => new NodeStorage({ directory, layout }),
    skip: false,
  },
];

/** A raw commonware blob file: `CWIC`, runtime version 0, blob version (BE), data. */
function cwic(version: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out.set([0x43, 0x57, 0x49, 0x43, 0x00, 0x00, version >> 8, version & 0xff]);
  out.set(data, 8);
  return out;
}

const readRaw = (path: string): Uint8Array => new Uint8Array(fs.readFileSync(path));

/** The OS error code of a StorageError's `cause`. */
function causeCode(err: StorageError): unknown {
  assert.ok(err.cause !== undefined, `${err.code} has no cause`);
  return (err.cause as { code?: unknown }).code;
}

/** The names and contents under `path`, not following links: what must not change. */
function tree(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(p)}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${(st.mode & 0o777).toString(8)}`;
      for (const name of fs.readdirSync(p).sort()) {
        // The storage's lock file appears at its first operation; it is not data.
        if (rel === "." && name === ".blobrt-lock") continue;
        walk(join(p, name), `${rel}/${name}`);
      }
    } else if (st.isFile()) out[rel] = `file ${fs.readFileSync(p).toString("hex")}`;
    else out[rel] = "other";
  };
  walk(path, ".");
  return out;
}

interface OutsideCheck {
  /** Records the store as it is now. */
  snapshot(): void;
  /** Asserts that neither the store since `snapshot` nor `outside/` changed. */
  unchanged(what: string): void;
  /** Asserts that `outside/` did not change. */
  outsideUnchanged(what: string): void;
}

/**
 * Runs `body` with `store` (not created) and, next to it, an `outside/`
 * directory holding `76`, `short` (3 bytes) and a subdirectory, which no
 * operation may change.
 */
function inOutsideFixture(
  body: (store: string, outside: string, check: OutsideCheck) => Promise<void>,
): Promise<void> {
  return inTempDir(async (dir) => {
    const store = join(dir, "store");
    const outside = join(dir, "outside");
    fs.mkdirSync(join(outside, "sub"), { recursive: true });
    fs.writeFileSync(join(outside, "76"), "outside file 76");
    fs.writeFileSync(join(outside, "short"), "abc");
    fs.writeFileSync(join(outside, "sub", "78"), cwic(0, enc("deep")));
    const outsideBefore = tree(outside);
    let storeBefore: Record<string, string> = {};
    const check: OutsideCheck = {
      snapshot: () => {
        storeBefore = tree(store);
      },
      outsideUnchanged: (what) =>
        assert.deepEqual(tree(outside), outsideBefore, `${what}: outside/`),
      unchanged: (what) => {
        check.outsideUnchanged(what);
        assert.deepEqual(tree(store), storeBefore, `${what}: the store`);
      },
    };
    await body(store, outside, check);
    check.outsideUnchanged("at the end");
  });
}

/** How the running runtime runs `script` in a child process. */
function childArgs(script: string, args: string[]): string[] {
  return isDeno ? ["run", "-A", "--quiet", script, ...args] : [script, ...args];
}

/** Why the 2 GiB test cannot run here (it needs 5 GiB of tmpfs for speed), or `false`. */
const hugeSkip = (() => {
  try {
    const st = fs.statfsSync("/dev/shm");
    return st.bavail * st.bsize >= 5 * 2 ** 30 ? false : "/dev/shm has less than 5 GiB free";
  } catch {
    return "no /dev/shm";
  }
})();

/** Why the crash test cannot run here, or `false`. */
const noChild = isDeno || isBun
  ? false
  : "the crash test runs a TypeScript child under deno or bun";

for (const driver of drivers) {
  const name = `${driver.name} fs`;
  if (driver.skip) {
    test(`${name}: filesystem tests`, { skip: driver.skip }, () => {});
    continue;
  }
  const make = driver.make;

  // The whole conformance suite once more, creating V1 blobs.
  runConformance(`${driver.name} (layout v1)`, () => fsFixture((d) => make(d, "v1")), {
    layout: "v1",
  });

  test(`${name}: a V1 blob is created, written, reopened and checked byte by byte`, () =>
    inTempDir(async (dir) => {
      const storage = make(dir, "v1");
      const path = join(dir, "p", "7631");
      const versions = { min: 2, max: 0x0304 };
      const header = new Uint8Array(4096);
      // CWIK, runtime version 1, blob version 0x0304, CRC32C of those 8 bytes (BE), zeros.
      header.set([0x43, 0x57, 0x49, 0x4b, 0x00, 0x01, 0x03, 0x04, 0xdb, 0x6e, 0xe7, 0x5a]);
      {
        const { blob, size, version } = await storage.open("p", "v1", { versions });
        assert.equal(size, 0);
        assert.equal(version, 0x0304);
        assertBytes(readRaw(path), header, "created: the header page alone");
        await blob.writeAt(0, enc("hello"));
        await blob.writeAt(10, [enc("wor"), enc("ld")]);
        await blob.sync();
        const data = new Uint8Array([...enc("hello"), 0, 0, 0, 0, 0, ...enc("world")]);
        assertBytes(readRaw(path), new Uint8Array([...header, ...data]), "data at byte 4096");
        await blob.resize(5);
        await blob.sync();
        assert.equal(fs.statSync(path).size, 4096 + 5);
        await blob.resize(0);
        await blob.sync();
        assertBytes(readRaw(path), header, "resize(0) leaves the header page");
        await blob.writeAt(0, enc("test data"), { sync: true });
        await blob.close();
      }
      const { blob, size, version } = await storage.open("p", "v1", { versions });
      assert.equal(size, 9);
      assert.equal(version, 0x0304);
      assertBytes(await read(blob, 0, 9), enc("test data"));
      await rejectsCode(blob.readAt(9, 1), "BlobInsufficientLength");
      await blob.close();
      assertBytes(readRaw(path), new Uint8Array([...header, ...enc("test data")]), "reopened");

      // A V0 storage opens it as V1 too: the blob's own header decides.
      const v0 = make(dir);
      const other = await v0.open("p", "v1", { versions });
      assert.equal(other.size, 9);
      await other.blob.writeAt(9, enc("!"), { sync: true });
      await other.blob.close();
      assertBytes(readRaw(path), new Uint8Array([...header, ...enc("test data!")]), "V1 kept");
      assert.deepEqual(fs.readdirSync(join(dir, "p")), ["7631"]);
    }));

  test(`${name}: layout v1 resets short and torn files to a V1 header, truncating first`, () =>
    inTempDir(async (dir) => {
      fs.mkdirSync(join(dir, "p"), { recursive: true });
      const storage = make(dir, "v1");
      const torn = new Uint8Array(4096);
      torn.set(createHeader("v1", 9).subarray(0, 10)); // a persisted length, a torn CRC
      const files: [string, Uint8Array][] = [
        ["00", new Uint8Array(0)],
        ["01", new Uint8Array(5).fill(0xee)],
        ["02", new Uint8Array(8)],
        ["03", torn],
        ["04", createHeader("v1", 9).subarray(0, 10)],
      ];
      for (const [file, raw] of files) {
        fs.writeFileSync(join(dir, "p", file), raw);
        const name = new Uint8Array([parseInt(file, 16)]);
        const opened = await storage.open("p", name, { versions: { min: 1, max: 2 } });
        assert.equal(opened.size, 0, file);
        assert.equal(opened.version, 2, file);
        await opened.blob.close();
        assertBytes(readRaw(join(dir, "p", file)), createHeader("v1", 2), `${file} reset`);
      }
      // A V0 storage heals the same files, and writes V0 headers.
      const v0 = make(dir);
      fs.writeFileSync(join(dir, "p", "05"), torn);
      await (await v0.open("p", new Uint8Array([5]))).blob.close();
      assertBytes(readRaw(join(dir, "p", "05")), encodeHeader(0), "reset by a V0 storage");
    }));

  test(`${name}: reopen after close keeps unsynced bytes`, () =>
    inTempDir(async (dir) => {
      const storage = make(dir);
      const blobName = new Uint8Array([0xab, 0xcd, 0x01, 0x2f]);
      const versions = { min: 0x0100, max: 0x1234 };
      const data = new Uint8Array([...enc("hello"), 0, 0, 0, 0, 0, ...enc("world")]);
      {
        const { blob, size, version } = await storage.open("p", blobName, { versions });
        assert.equal(size, 0);
        assert.equal(version, 0x1234);
        await blob.writeAt(0, enc("hello"));
        await blob.writeAt(10, enc("world"));
        await blob.close();
      }
      const { blob, size, version } = await storage.open("p", blobName, { versions });
      assert.equal(size, 15);
      assert.equal(version, 0x1234);
      assertBytes(await read(blob, 0, 15), data, "reopened");
      await rejectsCode(blob.readAt(15, 1), "BlobInsufficientLength");
      await blob.close();

      assert.deepEqual(fs.readdirSync(dir).sort(), [".blobrt-lock", "p"]);
      assert.deepEqual(fs.readdirSync(join(dir, "p")), ["abcd012f"]);
      const raw = readRaw(join(dir, "p", "abcd012f"));
      assertBytes(raw, new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0x12, 0x34, ...data]), "disk");
      assert.equal(fs.statSync(join(dir, "p", "abcd012f")).size, 8 + 15);
    }));

  test(`${name}: handwritten commonware files open exactly and untouched`, () =>
    inTempDir(async (dir) => {
      fs.mkdirSync(join(dir, "p"), { recursive: true });
      const cases = [
        {
          file: "00ff",
          name: [0x00, 0xff],
          version: 0,
          versions: undefined,
          data: pattern(5000, 1),
        },
        {
          file: "ff00",
          name: [0xff, 0x00],
          version: 1,
          versions: { min: 1, max: 1 },
          data: enc("x"),
        },
        {
          file: "00",
          name: [0x00],
          version: 0x0102,
          versions: { min: 0x0101, max: 0x0103 },
          data: new Uint8Array(0),
        },
        {
          file: "ff",
          name: [0xff],
          version: 0xffff,
          versions: { min: 0xff00, max: 0xffff },
          data: pattern(9, 2),
        },
      ];
      for (const c of cases) fs.writeFileSync(join(dir, "p", c.file), cwic(c.version, c.data));
      const before = new Map(cases.map((c) => [c.file, fs.statSync(join(dir, "p", c.file))]));

      const storage = make(dir);
      for (const c of cases) {
        const opened = await storage.open("p", new Uint8Array(c.name), { versions: c.versions });
        assert.equal(opened.size, c.data.length, `${c.file} size`);
        assert.equal(opened.version, c.version, `${c.file} version`);
        assertBytes(await read(opened.blob, 0, c.data.length), c.data, c.file);
        await rejectsCode(opened.blob.readAt(c.data.length, 1), "BlobInsufficientLength");
        await opened.blob.close();
      }
      assert.deepEqual(await storage.scan("p"), [
        new Uint8Array([0x00]),
        new Uint8Array([0x00, 0xff]),
        new Uint8Array([0xff]),
        new Uint8Array([0xff, 0x00]),
      ]);
      for (const c of cases) {
        const path = join(dir, "p", c.file);
        assertBytes(readRaw(path), cwic(c.version, c.data), `${c.file} untouched`);
        const after = fs.statSync(path);
        assert.equal(after.size, 8 + c.data.length, `${c.file} file size`);
        assert.equal(after.mtimeMs, before.get(c.file)!.mtimeMs, `${c.file} mtime`);
      }
      assert.deepEqual(fs.readdirSync(join(dir, "p")).sort(), ["00", "00ff", "ff", "ff00"]);
    }));

  test(`${name}: short files reset, corrupt and mismatched files refused and kept`, () =>
    inTempDir(async (dir) => {
      fs.mkdirSync(join(dir, "p"), { recursive: true });
      const storage = make(dir);
      const fresh = new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 0, 0x0a, 0x0b]);
      for (let k = 0; k < 8; k++) {
        const file = join(dir, "p", `0${k}`);
        // Either a torn header or garbage: both are "new".
        const short = k % 2 === 0 ? cwic(0x0506).subarray(0, k) : new Uint8Array(k).fill(0xee);
        fs.writeFileSync(file, short);
        const opened = await storage.open("p", new Uint8Array([k]), {
          versions: { min: 2, max: 0x0a0b },
        });
        assert.equal(opened.size, 0, `${k}-byte file size`);
        assert.equal(opened.version, 0x0a0b, `${k}-byte file version`);
        await rejectsCode(opened.blob.readAt(0, 1), "BlobInsufficientLength");
        await opened.blob.close();
        assertBytes(readRaw(file), fresh, `${k}-byte file reset`);
        assert.equal(fs.statSync(file).size, 8);
        const again = await storage.open("p", new Uint8Array([k]), {
          versions: { min: 0x0a0b, max: 0x0a0b },
        });
        assert.equal(again.size, 0);
        assert.equal(again.version, 0x0a0b);
        await again.blob.close();
      }

      const bad: [string, Uint8Array, "BlobCorrupt" | "BlobVersionMismatch", string][] = [
        [
          "10",
          new Uint8Array([0x43, 0x57, 0x49, 0x58, 0, 0, 0, 0]),
          "BlobCorrupt",
          "invalid magic: found [67, 87, 73, 88]",
        ],
        [
          "11",
          new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]),
          "BlobCorrupt",
          "invalid magic: found [0, 0, 0, 0]",
        ],
        [
          "12",
          new Uint8Array([0x43, 0x57, 0x49, 0x43, 0, 1, 0, 0, 9]),
          "BlobCorrupt",
          "unsupported runtime version: expected 0, found 1",
        ],
        [
          "13",
          new Uint8Array([0x43, 0x57, 0x49, 0x43, 1, 0, 0, 0]),
          "BlobCorrupt",
          "unsupported runtime version: expected 0, found 256",
        ],
        ["14", cwic(5, enc("five")), "BlobVersionMismatch", ""],
      ];
      for (const [file, raw, code, reason] of bad) {
        const path = join(dir, "p", file);
        fs.writeFileSync(path, raw);
        const nameBytes = new Uint8Array([parseInt(file, 16)]);
        const err = await rejectsCode(storage.open("p", nameBytes), code);
        if (code === "BlobCorrupt") {
          assert.equal(err.reason, reason, file);
          assert.equal(err.partition, "p");
          assert.equal(err.blob, file);
        } else {
          assert.deepEqual(err.expected, { min: 0, max: 0 });
          assert.equal(err.found, 5);
          const high = await rejectsCode(
            storage.open("p", nameBytes, { versions: { min: 6, max: 0xffff } }),
            "BlobVersionMismatch",
          );
          assert.equal(high.found, 5);
          // The right range still opens it.
          const ok = await storage.open("p", nameBytes, { versions: { min: 5, max: 5 } });
          assert.equal(ok.size, 4);
          assertBytes(await read(ok.blob, 0, 4), enc("five"));
          await ok.blob.close();
        }
        assertBytes(readRaw(path), raw, `${file} kept`);
        assert.equal(fs.statSync(path).size, raw.length, `${file} size kept`);
      }
    }));

  test(`${name}: foreign partition entries make scan reject PartitionCorrupt`, () =>
    inTempDir(async (dir) => {
      const storage = make(dir);
      const foreign: [string, (path: string) => void][] = [
        ["subdir", (path) => fs.mkdirSync(join(path, "6162"))],
        ["readme", (path) => fs.writeFileSync(join(path, "README"), "hi")],
        ["upper", (path) => fs.writeFileSync(join(path, "0A"), cwic(0))],
        ["odd", (path) => fs.writeFileSync(join(path, "abc"), cwic(0))],
      ];
      for (const [partition, add] of foreign) {
        await (await storage.open(partition, "ok")).blob.close();
        assert.deepEqual(await storage.scan(partition), [enc("ok")]);
        add(join(dir, partition));
        const err = await rejectsCode(storage.scan(partition), "PartitionCorrupt");
        assert.equal(err.partition, partition);
      }

      fs.writeFileSync(join(dir, "plain"), cwic(0));
      const err = await rejectsCode(storage.scan("plain"), "PartitionCorrupt");
      assert.equal(err.partition, "plain");
      // A file where a partition directory should be is corrupt to every operation.
      await rejectsCode(storage.remove("plain"), "PartitionCorrupt");
      await rejectsCode(storage.remove("plain", "b"), "PartitionCorrupt");
      const opened = await rejectsCode(storage.open("plain", "b"), "PartitionCorrupt");
      assert.equal(opened.reason, "not a directory");
      assertBytes(readRaw(join(dir, "plain")), cwic(0));

      fs.mkdirSync(join(dir, "good"));
      for (const file of ["ff", "0100", "00ff", "01", "00", "2f", "0a0b0c"]) {
        fs.writeFileSync(join(dir, "good", file), cwic(0));
      }
      assert.deepEqual(await storage.scan("good"), [
        new Uint8Array([0x00]),
        new Uint8Array([0x00, 0xff]),
        new Uint8Array([0x01]),
        new Uint8Array([0x01, 0x00]),
        new Uint8Array([0x0a, 0x0b, 0x0c]),
        new Uint8Array([0x2f]),
        new Uint8Array([0xff]),
      ]);
    }));

  test(`${name}: names that try to escape stay inside the directory`, () =>
    inTempDir(async (parent) => {
      const dir = join(parent, "root");
      const storage = make(dir);
      for (const partition of ["..", "a/b", "/abs", ".", "../root", "p/..", "p\0"]) {
        const err = await rejectsCode(storage.open(partition, "x"), "PartitionNameInvalid");
        assert.equal(err.partition, partition);
        await rejectsCode(storage.scan(partition), "PartitionNameInvalid");
        await rejectsCode(storage.remove(partition), "PartitionNameInvalid");
        await rejectsCode(storage.remove(partition, "x"), "PartitionNameInvalid");
      }
      assert.deepEqual(fs.readdirSync(parent), [], "nothing created");

      const names: [string, string][] = [
        ["../x", "2e2e2f78"],
        ["/etc/passwd", "2f6574632f706173737764"],
        ["a/b", "612f62"],
        ["..", "2e2e"],
      ];
      for (const [blobName, file] of names) {
        const { blob } = await storage.open("p", blobName);
        await blob.writeAt(0, enc(`data of ${blobName}`), { sync: true });
        await blob.close();
        assertBytes(
          readRaw(join(dir, "p", file)),
          cwic(0, enc(`data of ${blobName}`)),
          `file of ${blobName}`,
        );
      }
      assert.deepEqual(fs.readdirSync(parent), ["root"]);
      assert.deepEqual(fs.readdirSync(dir).sort(), [".blobrt-lock", "p"]);
      assert.deepEqual(
        fs.readdirSync(join(dir, "p")).sort(),
        ["2e2e", "2e2e2f78", "2f6574632f706173737764", "612f62"],
      );
      assert.deepEqual(await storage.scan("p"), [
        enc(".."),
        enc("../x"),
        enc("/etc/passwd"),
        enc("a/b"),
      ]);
      await storage.remove("p", "../x");
      await storage.remove("p", "..");
      assert.deepEqual(fs.readdirSync(join(dir, "p")).sort(), ["2f6574632f706173737764", "612f62"]);
      assert.deepEqual(fs.readdirSync(parent), ["root"]);
    }));

  test(`${name}: errors carry the OS error as cause`, () =>
    inTempDir(async (dir) => {
      const storage = make(dir);
      for (
        const op of [storage.scan("nope"), storage.remove("nope"), storage.remove("nope", "b")]
      ) {
        const err = await rejectsCode(op, "PartitionMissing");
        assert.equal(err.partition, "nope");
        assert.equal(causeCode(err), "ENOENT");
      }

      const file = join(dir, "file");
      fs.writeFileSync(file, "not a directory");
      const onFile = make(file);
      const created = await rejectsCode(onFile.open("p", "a"), "PartitionCreationFailed");
      assert.equal(created.partition, "p");
      assert.ok(
        ["ENOTDIR", "EEXIST"].includes(causeCode(created) as string),
        `cause code ${causeCode(created)}`,
      );
      assertBytes(readRaw(file), enc("not a directory"), "root file kept");

      fs.mkdirSync(join(dir, "p", "6162"), { recursive: true });
      const isDir = await rejectsCode(storage.open("p", "ab"), "BlobOpenFailed");
      assert.equal(isDir.partition, "p");
      assert.equal(isDir.blob, "6162");
      assert.equal(causeCode(isDir), "EISDIR");
      assert.ok(fs.statSync(join(dir, "p", "6162")).isDirectory());

      await (await storage.open("q", "b")).blob.close();
      const missing = await rejectsCode(storage.remove("q", "other"), "BlobMissing");
      assert.equal(missing.partition, "q");
      assert.equal(missing.blob, "6f74686572");
      assert.equal(causeCode(missing), "ENOENT");
      assert.deepEqual(await storage.scan("q"), [enc("b")]);
    }));

  const root = process.getuid?.() === 0 ? "root ignores file permissions" : false;
  test(`${name}: permission denied carries EACCES`, { skip: root }, () =>
    inTempDir(async (dir) => {
      const storage = make(dir);
      await (await storage.open("p", "a")).blob.close();
      const partition = join(dir, "p");
      fs.chmodSync(partition, 0o000);
      try {
        let err: unknown;
        await assert.rejects(storage.open("p", "new"), (e) => {
          err = e;
          return true;
        });
        assert.ok(err instanceof StorageError, `not a StorageError: ${err}`);
        assert.ok(
          err.code === "PartitionCreationFailed" || err.code === "BlobOpenFailed",
          `code ${err.code}`,
        );
        assert.equal(err.partition, "p");
        assert.equal(causeCode(err), "EACCES");
      } finally {
        fs.chmodSync(partition, 0o755);
      }
      assert.deepEqual(fs.readdirSync(partition), ["61"]);
    }));

  test(`${name}: 128 concurrent 4 KiB writes and reads, then reopen`, () =>
    inTempDir(async (dir) => {
      const storage = make(dir);
      const n = 128;
      const { blob } = await storage.open("p", "b");
      await Promise.all(
        Array.from({ length: n }, (_, i) => blob.writeAt(i * RECORD_SIZE, record(i))),
      );
      const reads = await Promise.all(
        Array.from({ length: n }, (_, i) => read(blob, i * RECORD_SIZE, RECORD_SIZE)),
      );
      reads.forEach((r, i) => assertBytes(r, record(i), `record ${i}`));
      await blob.close();

      const again = await storage.open("p", "b");
      assert.equal(again.size, n * RECORD_SIZE);
      for (let i = 0; i < n; i++) {
        assertBytes(
          await read(again.blob, i * RECORD_SIZE, RECORD_SIZE),
          record(i),
          `reopened ${i}`,
        );
      }
      await again.blob.close();
      assert.equal(fs.statSync(join(dir, "p", "62")).size, 8 + n * RECORD_SIZE);
    }));

  test(`${name}: open handles read after the blob and partition are removed`, () =>
    inTempDir(async (dir) => {
      const storage = make(dir);
      const { blob } = await storage.open("p", "b");
      const synced = pattern(3000, 3);
      const unsynced = pattern(5000, 4);
      await blob.writeAt(0, synced, { sync: true });
      await blob.writeAt(3000, unsynced);
      const all = new Uint8Array([...synced, ...unsynced]);

      await storage.remove("p", "b");
      assert.ok(!fs.existsSync(join(dir, "p", "62")), "file removed");
      assert.deepEqual(fs.readdirSync(join(dir, "p")), []);
      assertBytes(await read(blob, 0, 8000), all, "after blob removal");

      await storage.remove("p");
      assert.ok(!fs.existsSync(join(dir, "p")), "partition removed");
      assert.deepEqual(fs.readdirSync(dir).sort(), [".blobrt-lock"]);
      await rejectsCode(storage.scan("p"), "PartitionMissing");
      assertBytes(await read(blob, 0, 3000), synced, "synced after partition removal");
      assertBytes(await read(blob, 3000, 5000), unsynced, "unsynced after partition removal");
      await rejectsCode(blob.readAt(8000, 1), "BlobInsufficientLength");
      await blob.sync();
      await blob.close();
      assert.deepEqual(fs.readdirSync(dir).sort(), [".blobrt-lock"]);
    }));

  test(`${name}: a partition that is a symbolic link is refused, nothing outside touched`, () =>
    inOutsideFixture(async (store, outside, check) => {
      const storage = make(store);
      fs.mkdirSync(store);
      fs.symlinkSync(outside, join(store, "evil"));
      fs.symlinkSync(join(outside, "nodir"), join(store, "ghost"));
      check.snapshot();
      const refused = async (op: Promise<unknown>, partition: string, what: string) => {
        const err = await rejectsCode(op, "PartitionCorrupt");
        assert.equal(err.partition, partition, what);
        assert.equal(err.reason, "a symbolic link", what);
        check.unchanged(what);
      };
      await refused(storage.open("evil", "x"), "evil", "open through a linked partition");
      await refused(storage.open("evil", "v"), "evil", "open of an outside file");
      await refused(storage.remove("evil", "v"), "evil", "remove through a linked partition");
      await refused(storage.remove("evil"), "evil", "remove of a linked partition");
      await refused(storage.scan("evil"), "evil", "scan of a linked partition");
      await refused(storage.open("ghost", "x"), "ghost", "open through a dangling partition");
      await refused(storage.remove("ghost"), "ghost", "remove of a dangling partition");
      await refused(storage.scan("ghost"), "ghost", "scan of a dangling partition");
    }));

  test(`${name}: a blob that is a symbolic link is refused, its target untouched`, () =>
    inOutsideFixture(async (store, outside, check) => {
      const storage = make(store);
      await (await storage.open("p", "ok")).blob.close();
      fs.symlinkSync(join(outside, "short"), join(store, "p", "73")); // "s"
      fs.symlinkSync(join(outside, "gone"), join(store, "p", "64")); // "d", dangling
      fs.symlinkSync(outside, join(store, "p", "6464")); // "dd", to a directory
      fs.symlinkSync(join(outside, "76"), join(store, "p", "76")); // "v"
      check.snapshot();
      for (const [blobName, hex] of [["s", "73"], ["d", "64"], ["dd", "6464"], ["v", "76"]]) {
        const err = await rejectsCode(storage.open("p", blobName), "BlobOpenFailed");
        assert.equal(err.partition, "p");
        assert.equal(err.blob, hex);
        assert.equal(err.reason, "a symbolic link", blobName);
        check.unchanged(`open of ${blobName}`);
      }
      const removed = await rejectsCode(storage.remove("p", "v"), "PartitionCorrupt");
      assert.equal(removed.blob, "76");
      assert.equal(removed.reason, "a symbolic link");
      check.unchanged("remove of a linked blob");
      await rejectsCode(storage.remove("p", "d"), "PartitionCorrupt");
      check.unchanged("remove of a dangling blob");
      const scanned = await rejectsCode(storage.scan("p"), "PartitionCorrupt");
      assert.equal(scanned.partition, "p");
      check.unchanged("scan of a partition holding links");
      // remove(partition) removes the links themselves, never what they point to.
      await storage.remove("p");
      assert.deepEqual(fs.readdirSync(store).sort(), [".blobrt-lock"]);
      check.outsideUnchanged("remove of the partition");
    }));

  const noFifo = process.platform === "win32" ? "no FIFOs on Windows" : false;
  test(
    `${name}: a blob that is not a regular file is refused`,
    { skip: noFifo },
    () =>
      inOutsideFixture(async (store, _outside, check) => {
        const storage = make(store);
        await (await storage.open("p", "ok")).blob.close();
        execFileSync("mkfifo", [join(store, "p", "66")]); // "f"
        check.snapshot();
        const err = await rejectsCode(storage.open("p", "f"), "BlobOpenFailed");
        assert.equal(err.blob, "66");
        assert.equal(err.reason, "not a regular file");
        check.unchanged("open of a FIFO");
        await rejectsCode(storage.scan("p"), "PartitionCorrupt");
      }),
  );

  test(`${name}: a symbolic link as the root is followed; modes 0o755 and 0o644`, () =>
    inOutsideFixture(async (store, outside, check) => {
      const real = join(outside, "real");
      fs.mkdirSync(real);
      fs.symlinkSync(real, store);
      const storage = make(store);
      const { blob } = await storage.open("p", "b");
      await blob.writeAt(0, enc("hi"), { sync: true });
      await blob.close();
      assertBytes(readRaw(join(real, "p", "62")), cwic(0, enc("hi")));
      assert.deepEqual(await storage.scan("p"), [enc("b")]);
      assert.equal(fs.statSync(join(real, "p")).mode & 0o777 & ~0o755, 0, "dir mode");
      assert.equal(fs.statSync(join(real, "p", "62")).mode & 0o777 & ~0o644, 0, "file mode");
      await storage.remove("p", "b");
      await storage.remove("p");
      assert.deepEqual(fs.readdirSync(real).sort(), [".blobrt-lock"]);
      assert.ok(fs.lstatSync(store).isSymbolicLink(), "root link kept");
      fs.rmSync(join(real, ".blobrt-lock"));
      fs.rmdirSync(real);
      check.outsideUnchanged("after use through a linked root");
    }));

  test(
    `${name}: one read and one write of more than 2 GiB (port calls of at most 1 GiB)`,
    {
      // node:fs is where single calls over 2 GiB failed. Deno 2.9.6's V8 reads the `length`
      // of a typed array over 2 GiB as an int32 in optimized code (a warmed-up
      // `for (let i = 0; …) n += chunks[i].length` gives -2147479549 for 2^31 + 4099; Node 20
      // and Bun give 2147487747), so on Deno this test passes alone and fails once the
      // engine's code is hot. That is the runtime's bug; Bun runs the test.
      skip: isDeno ? "Deno's V8 misreads typed-array lengths over 2 GiB in hot code" : hugeSkip,
      timeout: 180_000,
    },
    async () => {
      const dir = fs.mkdtempSync("/dev/shm/blobrt-huge-");
      try {
        const storage = make(dir);
        const size = 2 ** 31 + 4099; // past int32, in three port calls
        const data = new Uint8Array(size);
        const marks = [0, 2 ** 30 - 1, 2 ** 30, 2 ** 31 - 1, 2 ** 31, size - 1];
        marks.forEach((at, i) => data[at] = i + 1);
        const { blob } = await storage.open("p", "huge");
        await blob.writeAt(0, data);
        const back = (await blob.readAt(0, size)).bytes();
        assert.equal(back.length, size);
        for (const [i, at] of marks.entries()) assert.equal(back[at], i + 1, `byte ${at}`);
        assert.equal(back[12345], 0);
        await blob.close();
        const again = await storage.open("p", "huge");
        assert.equal(again.size, size);
        await again.blob.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  const script = join(import.meta.dirname ?? ".", "fixtures", "crash_writer.ts");
  test(
    `${name}: acknowledged sync writes survive SIGKILL`,
    { skip: noChild, ...SLOW },
    () =>
      inTempDir(async (dir) => {
        const child = spawn(process.execPath, childArgs(script, [driver.name, dir]), {
          stdio: ["ignore", "pipe", "inherit"],
        });
        const exited = new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.once("error", () => resolve());
        });
        let acked = -1;
        try {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`only ${acked + 1} acks in 15 s`)),
              15_000,
            );
            let pending = "";
            child.stdout!.setEncoding("utf8");
            child.stdout!.on("data", (text: string) => {
              pending += text;
              const lines = pending.split("\n");
              pending = lines.pop()!;
              for (const line of lines) {
                if (line !== `ack ${acked + 1}`) {
                  clearTimeout(timer);
                  reject(new Error(`unexpected line from the child: ${line}`));
                  return;
                }
                acked++;
              }
              if (acked + 1 >= 50) {
                clearTimeout(timer);
                resolve();
              }
            });
            child.once("error", reject);
            child.once("exit", (code, signal) => {
              clearTimeout(timer);
              reject(new Error(`child exited (${code ?? signal}) after ${acked + 1} acks`));
            });
          });
        } finally {
          child.kill("SIGKILL");
          await exited;
          child.stdout!.destroy();
        }
        assert.equal(child.signalCode, "SIGKILL");
        const count = acked + 1;
        assert.ok(count >= 50);

        const storage = make(dir);
        const { blob, size, version } = await storage.open(CRASH_PARTITION, CRASH_BLOB);
        assert.equal(version, 0);
        assert.ok(size >= count * RECORD_SIZE, `size ${size} < ${count} acked records`);
        for (let i = 0; i < count; i++) {
          assertBytes(await read(blob, i * RECORD_SIZE, RECORD_SIZE), record(i), `record ${i}`);
        }
        await blob.close();
      }),
  );
}

/** `nodeFileSystem`, recording every call that changes or syncs something, in order. */
function recordingPort(log: string[], dir: string): FileSystemPort {
  const rel = (path: string) =>
    path === dir ? "." : path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : "..";
  const file = (inner: FilePort): FilePort => ({
    ...inner,
    write: (buf, position) => {
      log.push(`write ${buf.length}@${position}`);
      return inner.write(buf, position);
    },
    writev: undefined,
    truncate: (length) => {
      log.push(`truncate ${length}`);
      inner.truncate(length);
    },
    datasync: () => {
      log.push("datasync");
      return inner.datasync();
    },
    fsync: () => {
      log.push("fsync");
      return inner.fsync();
    },
  });
  return {
    ...nodeFileSystem,
    mkdir: (path) => {
      log.push(`mkdir ${rel(path)}`);
      return nodeFileSystem.mkdir(path);
    },
    syncDir: (path) => {
      log.push(`syncDir ${rel(path)}`);
      return nodeFileSystem.syncDir(path);
    },
    open: async (path) => {
      log.push(`open ${rel(path)}`);
      return file(await nodeFileSystem.open(path));
    },
  };
}

test("FileStorage: creation in commonware main's order: directories synced, truncate, header, fsync", () =>
  inTempDir(async (dir) => {
    for (const layout of ["v0", "v1"] as const) {
      const log: string[] = [];
      const storage = new FileStorage({ directory: dir, layout }, recordingPort(log, dir));
      assert.equal(storage.layout, layout);
      const size = layout === "v1" ? 4096 : 8;
      // The first operation takes the directory's lock and makes the root's
      // entry durable (its parent, then the root); that is not part of creation.
      await rejectsCode(storage.scan(layout), "PartitionMissing");
      assert.deepEqual(log, ["syncDir ..", "syncDir ."], "the root made durable, once");
      log.length = 0;
      await (await storage.open(layout, "b")).blob.close();
      const create = [
        `mkdir ${layout}`,
        `open ${layout}/62`,
        `syncDir ${layout}`,
        "syncDir .",
        "truncate 0",
        `write ${size}@0`,
        "fsync",
      ];
      assert.deepEqual(log, create, `${layout}: new blob`);

      // A sound header: no sync, no write.
      log.length = 0;
      await (await storage.open(layout, "b")).blob.close();
      assert.deepEqual(log, [`mkdir ${layout}`, `open ${layout}/62`], `${layout}: reopen`);

      // A torn creation longer than the header: truncated before the header is written.
      const torn = new Uint8Array(4096);
      torn.set([0x43, 0x57, 0x49]);
      fs.writeFileSync(join(dir, layout, "62"), torn);
      log.length = 0;
      await (await storage.open(layout, "b")).blob.close();
      assert.deepEqual(log, create, `${layout}: torn file`);
      assertBytes(readRaw(join(dir, layout, "62")), createHeader(layout, 0), `${layout}: healed`);

      // A corrupt file: refused, nothing written or synced.
      const corrupt = new Uint8Array([...createHeader("v1", 0), 1]).fill(0xff, 100, 101);
      fs.writeFileSync(join(dir, layout, "62"), corrupt);
      log.length = 0;
      await rejectsCode(storage.open(layout, "b"), "BlobCorrupt");
      assert.deepEqual(log, [`mkdir ${layout}`, `open ${layout}/62`], `${layout}: corrupt`);
      assertBytes(readRaw(join(dir, layout, "62")), corrupt, `${layout}: kept`);
    }
  }));

test("FileStorage: the layout option is checked when the storage is built", () => {
  assert.equal(new NodeStorage({ directory: "/nonexistent" }).layout, "v0");
  assert.throws(() => new NodeStorage({ directory: "/x", layout: "v2" as never }), RangeError);
  assert.throws(() => new NodeStorage({ directory: "/x", layout: 1 as never }), TypeError);
});

test("createStorage: layout reaches every filesystem driver", () =>
  inTempDir(async (dir) => {
    const drivers: DriverName[] = [
      "node",
      ...(isDeno ? ["deno" as const] : []),
      ...(isBun ? ["bun" as const] : []),
    ];
    for (const driver of drivers) {
      const storage = createStorage({ directory: dir, driver, layout: "v1" });
      assert.equal((storage as FileStorage).layout, "v1", driver);
      await (await storage.open(driver, "b")).blob.close();
      assertBytes(readRaw(join(dir, driver, "62")), createHeader("v1", 0), driver);
    }
  }));
