/**
 * Directory fsyncs on real system calls, seen with `strace` (SPEC §4: a
 * resolved `open` means the partition and root entries are durable; `remove`
 * is durable on resolve, parent directory fsynced). LazyFS (the power-loss
 * suite, `tests/powerloss/`) passes metadata straight to the disk, so it
 * cannot catch a missing directory fsync; this test can. The child
 * (`fixtures/dir_ops.ts`) marks the start and end of each operation with a
 * traced `access` of a path that does not exist; each window must hold the
 * right fsyncs, in order. CI installs strace; where it is missing, the test
 * says so.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { tempDir } from "./fs_fixture.ts";
import { fixtureArgv, straceSkip, tracedDrivers } from "./_strace.ts";
import { SLOW } from "./limits.ts";

const fixture = join(import.meta.dirname ?? ".", "fixtures", "dir_ops.ts");

const skip = straceSkip();

/** The traced lines between the marks `<step>-begin` and `<step>-end`. */
function window(trace: string[], step: string): string[] {
  const begin = trace.findIndex((l) => l.includes(`/blobrt-mark-${step}-begin`));
  const end = trace.findIndex((l) => l.includes(`/blobrt-mark-${step}-end`));
  assert.ok(begin >= 0 && end > begin, `marks of ${step} in the trace`);
  return trace.slice(begin + 1, end);
}

/** Index of the first line matching `re` at or after `from`; -1 if none. */
function find(lines: string[], re: RegExp, from = 0): number {
  for (let i = from; i < lines.length; i++) if (re.test(lines[i]!)) return i;
  return -1;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

for (const driver of tracedDrivers) {
  test(`strace ${driver}: open fsyncs the partition and root; remove fsyncs the parent`, {
    skip,
    ...SLOW,
  }, async () => {
    const root = await tempDir();
    try {
      const dir = join(root, "store");
      const log = join(root, "trace");
      const runtime = fixtureArgv(fixture, driver, dir);
      const r = spawnSync("strace", [
        ...["-f", "-qq", "-y", "-o", log, "-e", "trace=%file,fsync,fdatasync"],
        ...runtime,
      ], { encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), "ok");
      const trace = fs.readFileSync(log, "utf8").split("\n");
      const fsyncOf = (path: string) => new RegExp(`f(data)?sync\\(\\d+<${esc(path)}>`);
      const p = join(dir, "p");

      // open (create): partition and root fsynced, before the new file's fsync.
      for (const [step, hex] of [["create", "62"], ["create-again", "63"]] as const) {
        const w = window(trace, step);
        const file = find(w, fsyncOf(join(p, hex)));
        assert.ok(file >= 0, `${step}: the new file is fsynced\n${w.join("\n")}`);
        const dirs = w.slice(0, file);
        assert.ok(find(dirs, fsyncOf(p)) >= 0, `${step}: partition fsynced\n${w.join("\n")}`);
        assert.ok(find(dirs, fsyncOf(dir)) >= 0, `${step}: root fsynced\n${w.join("\n")}`);
      }

      // remove(p, b): the unlink, then the partition directory fsynced.
      let w = window(trace, "remove-blob");
      let gone = find(w, new RegExp(`unlink(at)?\\(.*${esc("62")}`));
      assert.ok(gone >= 0, `remove-blob: unlink\n${w.join("\n")}`);
      assert.ok(
        find(w, fsyncOf(p), gone) > gone,
        `remove-blob: fsync of p after the unlink\n${w.join("\n")}`,
      );

      // remove(p): the directory removed, then the root fsynced.
      w = window(trace, "remove-partition");
      // By path, or (beneath the root, fs/_beneath.ts) by name relative to the root's descriptor.
      gone = find(
        w,
        new RegExp(
          `rmdir\\("${esc(p)}"|unlinkat\\((.*"${esc(p)}"|\\d+<${esc(dir)}>, "p"), AT_REMOVEDIR`,
        ),
      );
      assert.ok(gone >= 0, `remove-partition: rmdir\n${w.join("\n")}`);
      assert.ok(
        find(w, fsyncOf(dir), gone) > gone,
        `remove-partition: root fsync after it\n${w.join("\n")}`,
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
}
