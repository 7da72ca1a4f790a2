/**
 * The power-loss suite's verifier model (`tests/powerloss/_model.ts`): what a
 * replayed log allows after a power loss, byte by byte. The suite itself runs
 * on LazyFS (`deno run -A tests/powerloss/run.ts`), outside `npm test`.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBytes, dataFor, replay } from "./powerloss/_model.ts";

const log = (...ops: object[]) => ops.map((o) => JSON.stringify(o));
const ok = { t: "ok" };
const open = { t: "open", p: "p", b: "b", kind: "raw" };

test("powerloss model: a synced write must survive; a later unsynced one may or may not", () => {
  const m = replay(log(
    open,
    ok,
    { t: "write", p: "p", b: "b", off: 0, len: 8, id: 1 },
    ok,
    { t: "sync", p: "p", b: "b" },
    ok,
    { t: "write", p: "p", b: "b", off: 4, len: 8, id: 2 },
    ok,
  )).get("p/b")!;
  assert.equal(m.exists, "yes");
  const synced = dataFor(1, 8);
  const later = dataFor(2, 8);
  assert.deepEqual(checkBytes(m, synced), { acked: 8, lost: 0, garbage: 0, first: [] });
  const both = new Uint8Array(12);
  both.set(synced);
  both.set(later, 4);
  assert.equal(checkBytes(m, both).lost + checkBytes(m, both).garbage, 0);
  // Torn: only some bytes of the later write landed, in any order.
  const torn = both.slice();
  torn[5] = synced[5]!;
  assert.equal(checkBytes(m, torn).lost + checkBytes(m, torn).garbage, 0);
  // A synced byte gone or changed is lost; a byte nobody wrote is garbage.
  assert.equal(checkBytes(m, synced.subarray(0, 6)).lost, 2);
  const wrong = synced.slice();
  wrong[0] = synced[0]! ^ 0xff;
  assert.equal(checkBytes(m, wrong).lost, 1);
  const junk = both.slice();
  junk[10] = later[6] === 1 ? 2 : 1; // neither the write's byte nor a hole's zero
  assert.equal(checkBytes(m, junk).garbage, 1);
});

test("powerloss model: { sync: true } acknowledges its range only; an unacknowledged op counts for nothing", () => {
  const m = replay(log(
    open,
    ok,
    { t: "write", p: "p", b: "b", off: 0, len: 4, id: 1 },
    ok,
    { t: "write", p: "p", b: "b", off: 4, len: 4, id: 2, sync: true },
    ok,
    { t: "sync", p: "p", b: "b" }, // issued, never acknowledged
  )).get("p/b")!;
  const got = new Uint8Array(8);
  got.set(dataFor(2, 4), 4); // the first write never reached the disk: zeros
  assert.deepEqual(checkBytes(m, got), { acked: 4, lost: 0, garbage: 0, first: [] });
  assert.equal(checkBytes(m, new Uint8Array(4)).lost, 4);
});

test("powerloss model: resize, remove and a partial last line", () => {
  const blobs = replay([
    ...log(
      open,
      ok,
      { t: "write", p: "p", b: "b", off: 0, len: 10, id: 1 },
      { t: "sync", p: "p", b: "b" },
      ok,
      { t: "resize", p: "p", b: "b", n: 4 },
      ok,
    ),
    '{"t":"sync","p":"p"', // the writer died mid-line
  ]);
  const m = blobs.get("p/b")!;
  const data = dataFor(1, 10);
  assert.equal(checkBytes(m, data).lost, 0, "the unsynced cut may not have happened");
  assert.equal(checkBytes(m, data.subarray(0, 4)).lost, 0, "or it may");
  const removed = replay(log(open, ok, { t: "remove", p: "p", b: "b" }, ok)).get("p/b")!;
  assert.equal(removed.exists, "no");
  const maybe = replay(log(open, ok, { t: "remove", p: "p" })).get("p/b")!;
  assert.equal(maybe.exists, "maybe");
});
