import { test } from "node:test";
import assert from "node:assert/strict";
import { BunStorage } from "../drivers/bun.ts";
import { DenoStorage } from "../drivers/deno.ts";
import { MemoryStorage } from "../drivers/memory.ts";
import { NodeStorage } from "../drivers/node.ts";
import { createStorage, DEFAULT_DRIVER } from "../drivers/select.ts";
import { detectRuntime } from "../core/_runtime.ts";
import { slow } from "./limits.ts";

test("select: the default driver is the measured choice for this runtime", () => {
  assert.equal(DEFAULT_DRIVER, detectRuntime() === "bun" ? "bun" : "node");
  const storage = createStorage({ directory: "/nonexistent/never-touched" });
  assert.ok(storage instanceof (DEFAULT_DRIVER === "bun" ? BunStorage : NodeStorage));
});

test("select: { driver } forces one, and nothing touches the disk until used", () => {
  const directory = "/nonexistent/never-touched";
  assert.ok(createStorage({ directory, driver: "node" }) instanceof NodeStorage);
  assert.ok(createStorage({ directory, driver: "bun" }) instanceof BunStorage);
  assert.ok(createStorage({ directory, driver: "deno" }) instanceof DenoStorage);
  assert.ok(createStorage({ driver: "memory" }) instanceof MemoryStorage);
});

test("select: bad options are TypeError / RangeError", () => {
  assert.throws(() => createStorage({}), TypeError);
  assert.throws(() => createStorage({ directory: "" }), TypeError);
  assert.throws(() => createStorage({ driver: "node" }), TypeError);
  assert.throws(() => createStorage({ directory: "/x", driver: "zip" as never }), RangeError);
});

test("runtime: detection sees the running runtime", () => {
  assert.equal(
    detectRuntime(),
    "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node",
  );
  assert.equal(detectRuntime({ Deno: {}, Bun: {} }), "deno");
  assert.equal(detectRuntime({ Bun: {} }), "bun");
  assert.equal(detectRuntime({ process: { versions: { node: "22.0.0" } } }), "node");
  assert.equal(detectRuntime({ process: {} }), "unknown");
});

slow.test("select: importing every module touches no missing runtime global", async () => {
  // Each module is imported by this file already; importing mod.ts again must not throw.
  const mod = await import("../mod.ts");
  assert.equal(typeof mod.createStorage, "function");
});
