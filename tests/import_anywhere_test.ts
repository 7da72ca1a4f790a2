/**
 * A user's script anywhere on disk imports blobrt by absolute path, with no
 * config file (`deno run --no-config`, `bun`), and works: every entry of
 * deno.json "exports", and every TypeScript example of README.md.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScript } from "./spawn.ts";
import { slow } from "./limits.ts";

const repo = new URL("..", import.meta.url).pathname;
const exportsMap: Record<string, string> = JSON.parse(
  fs.readFileSync(join(repo, "deno.json"), "utf8"),
).exports;

/** The absolute path of a package specifier (`@blobrt/storage`, `@blobrt/storage/memory`). */
function resolve(specifier: string): string {
  const subpath = "." + specifier.slice("@blobrt/storage".length);
  const file = exportsMap[subpath];
  if (file === undefined) throw new Error(`not exported: ${specifier}`);
  return join(repo, file);
}

/** Rewrites the package's specifiers in `source` to absolute paths. */
function absolute(source: string): string {
  return source.replace(
    /(["'])(@blobrt\/storage(?:\/[a-z-]+)?)\1/g,
    (_, q, s) => q + resolve(s) + q,
  );
}

const prelude = `
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const directory = mkdtempSync(join(tmpdir(), "blobrt-anywhere-"));
async function roundTrip(storage) {
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, new TextEncoder().encode("hello"), { sync: true });
  assert.equal(new TextDecoder().decode((await blob.readAt(0, 5)).bytes()), "hello");
  await blob.close();
}
`;

/** One script per entry of "exports": import it alone and use it. */
const scripts: Record<string, string> = {
  ".": `import { createStorage } from "@blobrt/storage";
await roundTrip(createStorage({ directory }));`,
  "./driver": `import { FileStorage, nodeFileSystem } from "@blobrt/storage/driver";
await roundTrip(new FileStorage({ directory }, nodeFileSystem));`,
  "./memory": `import { MemoryStorage } from "@blobrt/storage/memory";
await roundTrip(new MemoryStorage());`,
  "./node": `import { NodeStorage } from "@blobrt/storage/node";
await roundTrip(new NodeStorage({ directory }));`,
  "./deno": `import { DenoStorage } from "@blobrt/storage/deno";
const storage = new DenoStorage({ directory });
if ("Deno" in globalThis) await roundTrip(storage);
else await assert.rejects(storage.open("p", "b"));`,
  "./bun": `import { BunStorage } from "@blobrt/storage/bun";
await roundTrip(new BunStorage({ directory }));`,
  "./audited": `import { AuditedStorage, Auditor } from "@blobrt/storage/audited";
import { NodeStorage } from "@blobrt/storage/node";
const auditor = new Auditor();
await roundTrip(new AuditedStorage(new NodeStorage({ directory }), auditor));
assert.match(auditor.state(), /^[0-9a-f]{64}$/);`,
  "./faulty": `import { FaultyStorage } from "@blobrt/storage/faulty";
import { MemoryStorage } from "@blobrt/storage/memory";
await roundTrip(new FaultyStorage(new MemoryStorage(), { seed: 1 }));`,
  "./metered": `import { MeteredStorage } from "@blobrt/storage/metered";
import { NodeStorage } from "@blobrt/storage/node";
await roundTrip(new MeteredStorage(new NodeStorage({ directory })));`,
  "./buffer": `import { PageCache, PagedWriter } from "@blobrt/storage/buffer";
import { NodeStorage } from "@blobrt/storage/node";
const { blob, size } = await new NodeStorage({ directory }).open("log", "0");
const writer = await PagedWriter.open(blob, size, { cache: new PageCache({ pageSize: 4084, capacity: 4 }) });
await writer.append(new Uint8Array([7, 8]));
await writer.sync();
assert.deepEqual(await writer.readAt(0, 2), new Uint8Array([7, 8]));
await blob.close();`,
  "./opfs": `import { OpfsStorage } from "@blobrt/storage/opfs";
// Importing is harmless anywhere; outside a browser's worker the first operation rejects.
await assert.rejects(new OpfsStorage({ directory: "app" }).open("p", "b"));`,
  "./browser": `import { MemoryStorage, PageCache, OpfsStorage } from "@blobrt/storage/browser";
await roundTrip(new MemoryStorage());
assert.equal(new PageCache({ pageSize: 4084, capacity: 1 }).capacity, 1);
assert.equal(typeof OpfsStorage, "function");`,
  "./buffers": `import { IoBufs } from "@blobrt/storage/buffers";
assert.equal(new IoBufs([new Uint8Array(2), new Uint8Array(3)]).remaining, 5);`,
  "./errors": `import { StorageError } from "@blobrt/storage/errors";
assert.equal(new StorageError("Closed").code, "Closed");`,
  "./types": `import { DEFAULT_BLOB_VERSION } from "@blobrt/storage/types";
assert.equal(DEFAULT_BLOB_VERSION, 0);`,
  "./cli": `import { inspectDirectory } from "@blobrt/storage/cli";
import { NodeStorage } from "@blobrt/storage/node";
await roundTrip(new NodeStorage({ directory }));
assert.deepEqual(inspectDirectory(directory).blobs.map((b) => [b.partition, b.text, b.size]), [["p", "b", 5]]);`,
};

/** Writes `source` into a fresh directory outside the repository and runs it there. */
function runAnywhere(source: string): void {
  const dir = fs.mkdtempSync(join(tmpdir(), "blobrt-user-"));
  try {
    const file = join(dir, "script.ts");
    fs.writeFileSync(file, absolute(source));
    const r = runScript(file, [], { cwd: dir, denoFlags: ["--no-config"] });
    assert.equal(
      r.code,
      0,
      `exit ${r.code}\n--- script\n${absolute(source)}\n--- stderr\n${r.stderr}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("every entry of deno.json exports has a script here", () => {
  assert.deepEqual(Object.keys(scripts).sort(), Object.keys(exportsMap).sort());
});

for (const [subpath, body] of Object.entries(scripts)) {
  slow.test(`imported by absolute path from anywhere, no config: ${subpath}`, () => {
    const lines = body.split("\n");
    const imports = lines.filter((l) => l.startsWith("import "));
    const code = lines.filter((l) => !l.startsWith("import "));
    runAnywhere(
      [
        ...imports,
        prelude,
        "try {",
        ...code,
        "} finally {",
        "  rmSync(directory, { recursive: true, force: true });",
        "}",
      ].join("\n"),
    );
  });
}

const readme = fs.readFileSync(join(repo, "README.md"), "utf8");
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test("README has TypeScript examples", () => {
  assert.ok(examples.length >= 3, `found ${examples.length}`);
});

examples.forEach((source, i) => {
  slow.test(`README example ${i + 1} runs as written, from anywhere`, () => {
    runAnywhere(source);
  });
});
