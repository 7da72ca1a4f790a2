#!/usr/bin/env node
// The package as its users get it: `npm pack` (which builds dist/), then fresh apps outside the
// repository install the tarball and use it by name under Node (ESM and CommonJS), tsc, Bun and
// Deno, and run the `blobrt` command through npx and bunx. Each check prints one line,
// "ok - …" or "not ok - …" (with the reason below it); the last line is "N passed, N failed".
//
//   node tests/consumers/run.mjs [--tarball FILE] [--keep]
//
// --tarball uses an existing tarball instead of packing; --keep leaves the apps in place.
// Deno cannot install a tarball (`deno install` links a file: dependency as a directory), so its
// app installs by name from a registry this script serves on 127.0.0.1 for the @blobrt scope only
// (an .npmrc line), with a fresh DENO_DIR: exactly what `deno install` does with the real registry.

import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = (name) => join(repo, "node_modules/.bin", name);
const DENO = bin("deno");
const BUN = bin("bun");
const BUNX = bin("bunx");
const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const deno = readJson(join(repo, "deno.json"));
const lock = readJson(join(repo, "package-lock.json"));
const NAME = "@blobrt/storage";
const subpaths = Object.keys(deno.exports);
const specifier = (subpath) => NAME + subpath.slice(1);

const argv = process.argv.slice(2);
const keep = argv.includes("--keep");
const tarballArg = argv.includes("--tarball") ? argv[argv.indexOf("--tarball") + 1] : undefined;
const work = fs.mkdtempSync(join(tmpdir(), "blobrt-consumers-"));
const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
delete env.FORCE_COLOR;
for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key]; // not npm run's config
Object.assign(env, {
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
});

/** Runs a command; rejects with its output when it exits non-zero (unless `allowFail`). */
function run(cmd, args, { cwd = work, extraEnv = {}, allowFail = false, timeout = 300_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...env, ...extraEnv }, timeout });
    const out = [];
    const err = [];
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const r = {
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (r.code === 0 || allowFail) resolvePromise(r);
      else {
        reject(
          new Error(
            `${[cmd, ...args].join(" ")} exited ${code ?? signal}\n${r.stdout}${r.stderr}`.trim(),
          ),
        );
      }
    });
  });
}

let passed = 0;
let failed = 0;
/** One check: `body` returns a detail string, or throws. */
async function check(name, body) {
  try {
    const detail = await body();
    passed++;
    console.log(`ok - ${name}${detail ? `: ${detail}` : ""}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}`);
    console.log(String(e?.stack ?? e).split("\n").map((l) => `    ${l}`).join("\n"));
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** A fresh app directory with a package.json. */
function app(name, extra = {}) {
  const dir = join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  const pkg = { name: `consumer-${name}`, private: true, type: "module", ...extra };
  fs.writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  return dir;
}

const lockVersion = (name) => lock.packages[`node_modules/${name}`].version;

// ---------------------------------------------------------------------------------------------
// What the apps run. use(): import the root and every subpath by name, write and read blobs with
// every driver this runtime has, and check that classes are shared across entries.

const ids = subpaths.map((_, i) => `e${i}`);
const staticImports = subpaths.map((s, i) => `import * as ${ids[i]} from "${specifier(s)}";`)
  .join("\n");
const entryTable = `{ ${subpaths.map((s, i) => `${JSON.stringify(s)}: ${ids[i]}`).join(", ")} }`;

/** The app; `where` is a regular expression literal every entry's resolved URL matches. */
const use = (where = String.raw`/\/node_modules\/.*\.js$/`) =>
  `${staticImports}
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const entries = ${entryTable};
const root = entries["."];
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
for (const [subpath, mod] of Object.entries(entries)) {
  const spec = "${NAME}" + subpath.slice(1);
  assert.ok(Object.keys(mod).length > 0, spec + " exports nothing");
  const url = import.meta.resolve(spec);
  assert.match(url, ${where}, spec + " resolved to " + url);
}

async function roundTrip(storage, label) {
  const { blob } = await storage.open("p", "b");
  await blob.writeAt(0, new TextEncoder().encode("hello"), { sync: true });
  assert.equal(new TextDecoder().decode((await blob.readAt(0, 5)).bytes()), "hello", label);
  await blob.close();
  const again = await storage.open("p", "b");
  assert.equal(again.size, 5, label);
  await again.blob.close();
  assert.deepEqual(await storage.scan("p"), [new TextEncoder().encode("b")], label);
}

const directory = mkdtempSync(join(tmpdir(), "blobrt-consumer-"));
const used = [];
try {
  const drivers = {
    MemoryStorage: () => new entries["./memory"].MemoryStorage(),
    NodeStorage: () => new entries["./node"].NodeStorage({ directory: join(directory, "node") }),
    createStorage: () => root.createStorage({ directory: join(directory, "default") }),
    BunStorage: () => new entries["./bun"].BunStorage({ directory: join(directory, "bun") }),
    DenoStorage: () => new entries["./deno"].DenoStorage({ directory: join(directory, "deno") }),
  };
  if (runtime !== "bun") delete drivers.BunStorage;
  if (runtime !== "deno") delete drivers.DenoStorage;
  for (const [name, make] of Object.entries(drivers)) {
    await roundTrip(make(), name);
    used.push(name);
  }

  // One module per source file: a class is the same object whichever entry it comes from.
  for (const [subpath, mod] of Object.entries(entries)) {
    for (const name of ["StorageError", "MemoryStorage", "NodeStorage", "FileStorage", "IoBuf"]) {
      if (name in mod && name in root) assert.equal(mod[name], root[name], subpath + " " + name);
    }
  }
  assert.equal(entries["./errors"].StorageError, root.StorageError);
  const memory = new entries["./memory"].MemoryStorage();
  const { blob } = await memory.open("p", "short");
  await assert.rejects(
    blob.readAt(0, 1),
    (e) => e instanceof root.StorageError && e instanceof entries["./errors"].StorageError &&
      e.code === "BlobInsufficientLength",
  );
  await blob.close();
  const node = new entries["./node"].NodeStorage({ directory });
  assert.ok(node instanceof entries["./driver"].FileStorage, "NodeStorage extends FileStorage");

  // Importing the CLI entry runs nothing; its main() answers --version.
  const lines = [];
  assert.equal(await entries["./cli"].main(["--version"], { out: (s) => lines.push(s) }), 0);
  assert.deepEqual(lines, [process.env.BLOBRT_VERSION]);
  assert.equal(process.exitCode ?? 0, 0);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
console.log("consumer ok (" + runtime + "): " + Object.keys(entries).length + " entries; " +
  used.join(", ") + "; StorageError shared");
`;

// CommonJS: require() of an ES module, where the running Node supports it.
const REQUIRE = `const assert = require("node:assert/strict");
const subpaths = ${JSON.stringify(subpaths)};
const notes = [];
const entries = {};
for (const subpath of subpaths) {
  const spec = "${NAME}" + subpath.slice(1);
  entries[subpath] = require(spec); // every entry, the CLI's too: no top-level await anywhere
  assert.ok(Object.keys(entries[subpath]).length > 0, spec + " exports nothing");
}
const { MemoryStorage, NodeStorage, StorageError } = require("${NAME}");
assert.equal(require("${NAME}/errors").StorageError, StorageError);
assert.equal(require("${NAME}/memory").MemoryStorage, MemoryStorage);
(async () => {
  const dir = require("node:fs").mkdtempSync(require("node:path").join(require("node:os").tmpdir(), "blobrt-cjs-"));
  try {
    for (const storage of [new MemoryStorage(), new NodeStorage({ directory: dir })]) {
      const { blob } = await storage.open("p", "b");
      await blob.writeAt(0, new TextEncoder().encode("hi"), { sync: true });
      assert.equal(new TextDecoder().decode((await blob.readAt(0, 2)).bytes()), "hi");
      await assert.rejects(blob.readAt(5, 1), (e) => e instanceof StorageError);
      await blob.close();
    }
  } finally {
    require("node:fs").rmSync(dir, { recursive: true, force: true });
  }
  console.log("consumer ok (require): " + Object.keys(entries).length + " of " + subpaths.length +
    " entries" + (notes.length ? "; " + notes.join("; ") : ""));
})().catch((e) => { console.error(e); process.exitCode = 1; });
`;

// A strict TypeScript consumer.
const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    types: ["node"],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    noPropertyAccessFromIndexSignature: true,
    skipLibCheck: false,
    outDir: "out",
  },
  files: ["app.ts"],
};
const TSAPP = `${staticImports.replace(`import * as e0 from "${NAME}";`, "")}
import {
  createStorage,
  MemoryStorage,
  type OpenedBlob,
  type Storage,
  StorageError,
  type StorageErrorCode,
} from "${NAME}";
import type { Blob, BlobName } from "${NAME}/types";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function roundTrip(storage: Storage, name: BlobName): Promise<Uint8Array> {
  const opened: OpenedBlob = await storage.open("p", name);
  const blob: Blob = opened.blob;
  await blob.writeAt(0, [new Uint8Array([1, 2]), new Uint8Array([3])], { sync: true });
  const bytes = (await blob.readAt(0, 3)).bytes();
  await blob.close();
  return bytes;
}

function codeOf(e: unknown): StorageErrorCode | undefined {
  return e instanceof StorageError ? e.code : undefined;
}

const directory = await mkdtemp(join(tmpdir(), "blobrt-tsc-"));
try {
  const memory: MemoryStorage = new ${ids[subpaths.indexOf("./memory")]}.MemoryStorage();
  const got = [
    await roundTrip(memory, "m"),
    await roundTrip(createStorage({ directory }), new Uint8Array([0xff])),
    await roundTrip(new ${ids[subpaths.indexOf("./node")]}.NodeStorage({ directory }), "n"),
  ];
  if (got.some((b) => b.join() !== "1,2,3")) throw new Error("round trip: " + got.join(" | "));
  const { blob } = await memory.open("p", "empty");
  const code = await blob.readAt(0, 1).then(() => undefined, codeOf);
  if (code !== "BlobInsufficientLength") throw new Error("code: " + code);
  const bufs = new ${ids[subpaths.indexOf("./buffers")]}.IoBufs([new Uint8Array([7, 8])]);
  const first: number | undefined = [...bufs][0]?.[1];
  const used: unknown[] = [${ids.slice(1).join(", ")}];
  console.log("consumer ok (tsc): " + (used.length + 1) + " entries; first " + first);
} finally {
  await rm(directory, { recursive: true, force: true });
}
`;

// ---------------------------------------------------------------------------------------------

/** A registry for the @blobrt scope only, serving the tarball (for Deno, which cannot install one). */
async function serveRegistry(tarball, manifest) {
  const bytes = fs.readFileSync(tarball);
  const { scripts: _s, devDependencies: _d, ...published } = manifest;
  const server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${server.address().port}`;
    if (decodeURIComponent(req.url ?? "") === `/${NAME}`) {
      const version = {
        ...published,
        _id: `${NAME}@${manifest.version}`,
        dist: {
          tarball: `${base}/${NAME}/-/storage-${manifest.version}.tgz`,
          shasum: createHash("sha1").update(bytes).digest("hex"),
          integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
        },
      };
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({
        name: NAME,
        "dist-tags": { latest: manifest.version },
        versions: { [manifest.version]: version },
      }));
    } else if (req.url === `/${NAME}/-/storage-${manifest.version}.tgz`) {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes);
    } else {
      res.writeHead(404, { "content-type": "application/json" }).end("{}");
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

let registry;
try {
  const version = readJson(join(repo, "package.json")).version;
  env.BLOBRT_VERSION = version;
  let tarball = tarballArg && resolve(tarballArg);
  let files = [];
  let manifest;

  await check("npm pack", async () => {
    if (tarball === undefined) {
      const r = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: repo });
      const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")));
      tarball = join(work, info.filename);
    }
    const unpacked = join(work, "unpacked");
    fs.mkdirSync(unpacked);
    await run("tar", ["-xzf", tarball, "-C", unpacked]);
    const walk = (dir) =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]
      );
    const top = join(unpacked, "package");
    files = walk(top).map((f) => f.slice(top.length + 1)).sort();
    manifest = readJson(join(top, "package.json"));
    const size = fs.statSync(tarball).size;
    return `${files.length} files, ${(size / 1024).toFixed(1)} KiB (${tarball})`;
  });
  if (manifest === undefined) throw new Error("no tarball, nothing more to check");

  await check("tarball contents: only dist/, every import inside it resolves", () => {
    const allowed = /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/;
    const stray = files.filter((f) => !allowed.test(f));
    assert(stray.length === 0, `unexpected files: ${stray.join(", ")}`);
    const js = files.filter((f) => f.endsWith(".js"));
    const untyped = js.filter((f) => !files.includes(f.replace(/\.js$/, ".d.ts")));
    assert(untyped.length === 0, `no .d.ts: ${untyped.join(", ")}`);
    // Every module's own imports (not its doc examples'): relative ones are in the tarball (the
    // _private files included), bare ones are node: builtins, since there are no dependencies.
    const ts = createRequire(join(repo, "package.json"))("typescript");
    const bad = [];
    for (const file of files.filter((f) => f.startsWith("dist/"))) {
      const text = fs.readFileSync(join(work, "unpacked/package", file), "utf8");
      for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
        if (spec.startsWith(".")) {
          const target = join(dirname(file), spec);
          if (!spec.endsWith(".js") || !files.includes(target)) bad.push(`${file}: ${spec}`);
        } else if (!spec.startsWith("node:")) bad.push(`${file}: ${spec}`);
      }
    }
    assert(bad.length === 0, `imports that will not resolve:\n${bad.join("\n")}`);
    const privates = js.filter((f) => /\/_[^/]*$/.test(f)).length;
    return `${js.length} .js + ${js.length} .d.ts (${privates} private _ modules)`;
  });

  await check('package.json: "exports" mirror deno.json, installable, no dependencies', () => {
    const keys = Object.keys(manifest.exports ?? {});
    const want = [...subpaths, "./package.json"];
    assert(JSON.stringify(keys) === JSON.stringify(want), `exports keys ${keys} != ${want}`);
    for (const subpath of subpaths) {
      const target = manifest.exports[subpath];
      const source = deno.exports[subpath].replace(/^\.\//, "");
      assert(
        target.types === `./dist/${source.replace(/\.ts$/, ".d.ts")}` &&
          target.default === `./dist/${source.replace(/\.ts$/, ".js")}` &&
          Object.keys(target).join() === "types,default",
        `exports ${subpath}: ${JSON.stringify(target)}`,
      );
    }
    const targets = JSON.stringify(manifest.exports).match(/"\.\/[^"]*"/g) ?? [];
    const ts = targets.filter((t) => t.endsWith('.ts"') && !t.endsWith('.d.ts"'));
    assert(ts.length === 0, `a condition points at TypeScript: ${ts}`);
    assert(!("private" in manifest), "private");
    for (const key of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      assert(Object.keys(manifest[key] ?? {}).length === 0, `${key}: ${manifest[key]}`);
    }
    assert(manifest.engines?.node === ">=20", `engines ${JSON.stringify(manifest.engines)}`);
    assert(manifest.sideEffects === false, "sideEffects");
    assert(manifest.type === "module", "type");
    const binFile = manifest.bin?.blobrt?.replace(/^\.\//, "");
    assert(files.includes(binFile), `bin ${binFile} not in the tarball`);
    const head = fs.readFileSync(join(work, "unpacked/package", binFile), "utf8").split("\n")[0];
    assert(head === "#!/usr/bin/env node", `bin shebang: ${head}`);
    return `${subpaths.length} entries (types + default), bin blobrt → ${binFile}`;
  });

  const nodeApp = app("node-esm");
  await check("Node ESM: the root and every subpath by name, write/read", async () => {
    await run("npm", ["install", tarball], { cwd: nodeApp });
    fs.writeFileSync(join(nodeApp, "app.mjs"), use());
    const r = await run(process.execPath, ["app.mjs"], { cwd: nodeApp });
    return `${process.version}: ${r.stdout.trim()}`;
  });

  await check("npx blobrt: --version, --help, verify --json", async () => {
    const v = await run("npx", ["--no-install", "blobrt", "--version"], { cwd: nodeApp });
    assert(v.stdout === `${version}\n`, `--version printed ${JSON.stringify(v.stdout)}`);
    const h = await run("npx", ["--no-install", "blobrt", "--help"], { cwd: nodeApp });
    assert(h.stdout.startsWith("blobrt: "), `--help printed ${JSON.stringify(h.stdout)}`);
    const none = await run("npx", ["--no-install", "blobrt"], { cwd: nodeApp, allowFail: true });
    assert(none.code === 2 && none.stdout.includes("usage: blobrt"), "no arguments: usage");
    const dir = join(work, "storage");
    fs.mkdirSync(join(dir, "p"), { recursive: true });
    fs.writeFileSync(join(dir, "p", "6869"), new Uint8Array([67, 87, 73, 67, 0, 0, 0, 1, 33]));
    fs.writeFileSync(join(dir, "p", "01"), new Uint8Array([67, 87]));
    const j = await run("npx", ["--no-install", "blobrt", "verify", dir, "--json"], {
      cwd: nodeApp,
      allowFail: true,
    });
    const report = JSON.parse(j.stdout);
    assert(j.code === 1 && report.ok === false && report.blobs === 2, j.stdout + j.stderr);
    assert(report.problems[0]?.entry === "01", j.stdout);
    return `--version → ${v.stdout.trim()}; verify --json → ${report.problems.length} problem`;
  });

  await check("CommonJS require() by name", async () => {
    const dir = app("node-cjs", { type: "commonjs" });
    await run("npm", ["install", tarball], { cwd: dir });
    fs.writeFileSync(join(dir, "app.cjs"), REQUIRE);
    // require(esm) is on by default from Node 20.19 and 22.12; before that, behind a flag.
    const [major, minor] = process.versions.node.split(".").map(Number);
    const flag = (major === 20 && minor < 19) || (major === 22 && minor < 12)
      ? ["--experimental-require-module"]
      : [];
    const r = await run(process.execPath, [...flag, "app.cjs"], { cwd: dir });
    return `${process.version}${flag.length ? " " + flag[0] : " (no flag)"}: ${r.stdout.trim()}`;
  });

  const tscApp = app("tsc");
  await check("tsc: strict, nodenext, skipLibCheck false, 0 errors; the output runs", async () => {
    const deps = [
      `typescript@${lockVersion("typescript")}`,
      `@types/node@${lockVersion("@types/node")}`,
    ];
    await run("npm", ["install", "--prefer-offline", tarball, ...deps], { cwd: tscApp });
    fs.writeFileSync(join(tscApp, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    fs.writeFileSync(join(tscApp, "app.ts"), TSAPP);
    const tsc = join(tscApp, "node_modules/typescript/bin/tsc");
    const c = await run(process.execPath, [tsc, "-p", ".", "--listFilesOnly"], { cwd: tscApp });
    const checked = c.stdout.split("\n").filter((f) => f.includes(`/${NAME}/dist/`)).length;
    await run(process.execPath, [tsc, "-p", "."], { cwd: tscApp });
    const r = await run(process.execPath, ["out/app.js"], { cwd: tscApp });
    return `typescript ${lockVersion("typescript")}, @types/node ${lockVersion("@types/node")}, ` +
      `${checked} .d.ts checked; ${r.stdout.trim()}`;
  });

  const bunApp = app("bun");
  await check("Bun: bun add <tarball>, then the root and every subpath by name", async () => {
    await run(BUN, ["add", tarball], { cwd: bunApp });
    fs.writeFileSync(join(bunApp, "app.ts"), use());
    const r = await run(BUN, ["app.ts"], { cwd: bunApp });
    const v = (await run(BUN, ["--version"])).stdout.trim();
    return `bun ${v}: ${r.stdout.trim()}`;
  });

  await check("bunx blobrt --version", async () => {
    const r = await run(BUNX, ["blobrt", "--version"], { cwd: bunApp });
    assert(r.stdout === `${version}\n`, `printed ${JSON.stringify(r.stdout)}`);
    return r.stdout.trim();
  });

  await check("Deno: package.json dependency, deno install, deno run, deno check", async () => {
    registry = await serveRegistry(tarball, manifest);
    // @types/node (from the npm registry) is for app.ts's own node: imports; blobrt's types
    // need none.
    const dir = app("deno", {
      dependencies: { [NAME]: manifest.version },
      devDependencies: { "@types/node": lockVersion("@types/node") },
    });
    fs.writeFileSync(
      join(dir, ".npmrc"),
      `@blobrt:registry=http://127.0.0.1:${registry.address().port}/\n`,
    );
    fs.writeFileSync(join(dir, "app.mjs"), use());
    fs.writeFileSync(join(dir, "app.ts"), TSAPP);
    const extraEnv = { DENO_DIR: join(work, "deno-dir") };
    await run(DENO, ["install"], { cwd: dir, extraEnv });
    const pkgDir = fs.realpathSync(join(dir, "node_modules", NAME));
    assert(pkgDir.includes("/node_modules/"), `installed at ${pkgDir}`);
    assert(fs.existsSync(join(pkgDir, "dist/mod.js")), "not the packed package");
    const r = await run(DENO, ["run", "-A", "app.mjs"], { cwd: dir, extraEnv });
    await run(DENO, ["check", "app.ts"], { cwd: dir, extraEnv });
    const t = await run(DENO, ["run", "-A", "app.ts"], { cwd: dir, extraEnv });
    const v = (await run(DENO, ["--version"])).stdout.split("\n")[0];
    return `${v}: ${r.stdout.trim()}; typed app: deno check clean, ${t.stdout.trim()}`;
  });

  await check("README Install: app.mjs prints the same under Node, Bun and Deno", async () => {
    const readme = fs.readFileSync(join(repo, "README.md"), "utf8");
    const install = readme.slice(readme.indexOf("\n## Install\n"));
    const source = /```js\n([\s\S]*?)```/.exec(install)?.[1];
    assert(source !== undefined, "no js example in the Install section");
    const expected = "durable\ntrue BlobInsufficientLength\n";
    const extraEnv = { DENO_DIR: join(work, "deno-dir") };
    const runs = [
      [nodeApp, process.execPath, ["app.mjs"]],
      [bunApp, BUN, ["app.mjs"]],
      [join(work, "deno"), DENO, ["run", "-A", "app.mjs"]],
    ];
    for (const [dir, cmd, args] of runs) {
      fs.writeFileSync(join(dir, "app.mjs"), source);
      const r = await run(cmd, args, { cwd: dir, extraEnv });
      assert(r.stdout === expected, `${cmd}: ${JSON.stringify(r.stdout)}`);
    }
    return JSON.stringify(expected);
  });

  await check('Deno: a local checkout through "links", every subpath, no build', async () => {
    const dir = join(work, "deno-links");
    fs.mkdirSync(dir);
    fs.writeFileSync(
      join(dir, "deno.json"),
      JSON.stringify({
        imports: { [NAME]: `jsr:${NAME}@^${deno.version}` },
        links: [repo],
      }),
    );
    fs.writeFileSync(join(dir, "app.mjs"), use(String.raw`/^file:\/\/.*\.ts$/`));
    const extraEnv = { DENO_DIR: join(work, "deno-dir") };
    const r = await run(DENO, ["run", "-A", "app.mjs"], { cwd: dir, extraEnv });
    return r.stdout.trim();
  });
} catch (e) {
  failed++;
  console.log(`not ok - ${e.message}`);
} finally {
  registry?.close();
  if (keep) console.log(`apps kept in ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
