#!/usr/bin/env node
// The browser test runner (`npm run test:browser`): bundles tests/browser/worker.ts
// with esbuild (node:test and node:assert/strict aliased to the shims beside this
// file), serves it from 127.0.0.1, launches Debian's Chromium headless through
// puppeteer-core, and runs inside a dedicated worker:
//
// - the shared conformance suite against OpfsStorage (v0, v1) and MemoryStorage (v0, v1),
//   plus the OPFS-specific tests (tombstones, recreate, healing, the lock), and the
//   wrappers' own tests (tests/audited_test.ts with node:crypto's SHA-256 standing in as
//   the JavaScript one, checked against WebCrypto; tests/faulty_test.ts);
// - persistence across a browser restart: write and sync, close Chromium (and, a second
//   time, kill it with SIGKILL), relaunch it on the same user-data-dir, read back (with a
//   removal left in the middle, healed);
// - the example page (examples/browser): its journal survives a reload;
// - MemoryStorage's own bundle on the page's main thread;
// - the browser bundles: browser.ts, opfs/mod.ts and drivers/memory.ts must bundle with
//   --platform=browser and no node:* module.
//
// Prints each failure with its error, then exactly one line `N passed, N failed`; exits 1
// on any failure. Flags: --bench (runs bench/opfs_bench.ts instead), --filter=TEXT (tests
// whose name contains TEXT), --verbose (every test). CHROMIUM overrides /usr/bin/chromium.

import * as esbuild from "esbuild";
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { serve as serveExample } from "../../examples/browser/serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const args = process.argv.slice(2);
const bench = args.includes("--bench");
const verbose = args.includes("--verbose");
const filter = args.find((a) => a.startsWith("--filter="))?.slice("--filter=".length);
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const started = Date.now();
/** The whole run stays well under two minutes. */
const DEADLINE = started + 110_000;

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const outcomes = [];
function record(o) {
  outcomes.push(o);
  if (o.status === "fail") {
    console.log(`FAIL ${o.name}\n${indent(o.error ?? "")}`);
  } else if (verbose) {
    console.log(`${o.status === "pass" ? "ok  " : "skip"} ${o.name} (${Math.round(o.ms ?? 0)} ms)`);
  }
}
const indent = (s) => s.split("\n").map((l) => `    ${l}`).join("\n");

// ---- Bundles ----

const SHIMS = {
  "node:test": join(here, "node_test_shim.ts"),
  "node:assert/strict": join(here, "node_assert_shim.ts"),
  "node:assert": join(here, "node_assert_shim.ts"),
  "node:crypto": join(here, "node_crypto_shim.ts"),
};
const shimPlugin = {
  name: "browser-shims",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (a) => {
      if (SHIMS[a.path]) return { path: SHIMS[a.path] };
      return undefined;
    });
  },
};

async function bundleWorker() {
  const result = await esbuild.build({
    entryPoints: [join(here, "worker.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "chrome120",
    write: false,
    sourcemap: "inline",
    logLevel: "silent",
    plugins: [shimPlugin],
  });
  return result.outputFiles[0].text;
}

/** Each public browser entry bundles for the browser with no node:* module. */
async function checkBundles() {
  for (const entry of ["browser.ts", "opfs/mod.ts", "drivers/memory.ts"]) {
    const name = `bundle: ${entry} builds for --platform=browser with no node:* module`;
    if (filter && !name.includes(filter)) continue;
    const t = Date.now();
    try {
      const result = await esbuild.build({
        entryPoints: [join(repo, entry)],
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        logLevel: "silent",
        metafile: true,
      });
      if (entry === "drivers/memory.ts") memoryBundle = result.outputFiles[0].text;
      const nodeInputs = Object.values(result.metafile.inputs)
        .flatMap((i) => i.imports.map((imp) => imp.path))
        .filter((p) => p.startsWith("node:"));
      if (nodeInputs.length > 0) throw new Error(`imports ${[...new Set(nodeInputs)].join(", ")}`);
      record({ name, status: "pass", ms: Date.now() - t });
    } catch (err) {
      const errors = err.errors?.map((e) =>
        `${e.location?.file ?? ""}:${e.location?.line ?? ""}: ${e.text}`
      );
      record({
        name,
        status: "fail",
        error: errors ? [...new Set(errors)].join("\n") : String(err),
        ms: Date.now() - t,
      });
    }
  }
}

// ---- Server ----

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>blobrt browser tests</title>
<script type="module">
  if (new URLSearchParams(location.search).get("mode") !== "none") {
    const worker = new Worker("/worker.js" + location.search, { type: "module" });
    const relay = (m) => console.log("@@" + JSON.stringify(m));
    worker.onmessage = (e) => relay(e.data);
    worker.onerror = (e) => {
      relay({ type: "result", name: "worker error", status: "fail", error: String(e.message) });
      relay({ type: "done" });
    };
  }
</script>`;

/** drivers/memory.ts bundled for the browser, for the main-thread test; empty if it fails. */
let memoryBundle = "";

function serve(script) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    } else if (path === "/worker.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(script);
    } else if (path === "/memory.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(memoryBundle);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// ---- Browser ----

function launch(userDataDir) {
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir,
    args: FLAGS,
    protocolTimeout: 120_000,
  });
}

function remaining() {
  return Math.max(1_000, DEADLINE - Date.now());
}

/** Loads the page in `mode`; resolves when the worker says done. */
async function runMode(browser, origin, mode, onEvent) {
  const page = await browser.newPage();
  let timer;
  try {
    const done = new Promise((resolve, reject) => {
      page.on("console", (msg) => {
        const text = msg.text();
        if (!text.startsWith("@@")) {
          if (verbose) console.log(`[${mode}] ${text}`);
          return;
        }
        const event = JSON.parse(text.slice(2));
        if (event.type === "done") resolve();
        else onEvent(event);
      });
      page.on("pageerror", (err) => reject(err));
      timer = setTimeout(
        () => reject(new Error(`timed out (the whole run must finish within 110 s)`)),
        remaining(),
      );
    });
    const query = new URLSearchParams({ mode, ...(filter ? { filter } : {}) });
    await page.goto(`${origin}/?${query}`);
    await done;
  } finally {
    clearTimeout(timer);
    await page.close().catch(() => {});
  }
}

const asResult = (event) => {
  if (event.type === "result") record(event);
  else if (event.type === "log") console.log(event.text);
};

/** MemoryStorage's own browser bundle, on the page's main thread (no worker needed). */
async function mainThreadTest(browser, origin) {
  const name = "main thread: MemoryStorage (its own browser bundle) round-trips on a page";
  const t = Date.now();
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/?mode=none`);
    const result = await page.evaluate(async () => {
      const { MemoryStorage } = await import("/memory.js");
      const storage = new MemoryStorage({ layout: "v1" });
      const { blob } = await storage.open("p", "main");
      await blob.writeAt(0, new TextEncoder().encode("main thread"), { sync: true });
      await blob.close();
      const again = await storage.open("p", "main");
      const text = new TextDecoder().decode((await again.blob.readAt(0, again.size)).bytes());
      return {
        text,
        raw: storage.readRaw("p", "main").length,
        scan: (await storage.scan("p")).length,
      };
    });
    if (result.text !== "main thread" || result.raw !== 4096 + 11 || result.scan !== 1) {
      throw new Error(`unexpected: ${JSON.stringify(result)}`);
    }
    record({ name, status: "pass", ms: Date.now() - t });
  } catch (err) {
    record({ name, status: "fail", error: String(err?.stack ?? err), ms: Date.now() - t });
  } finally {
    await page.close().catch(() => {});
  }
}

/** The example page (examples/browser): entries appended, then a reload reads them back. */
async function exampleTest(browser) {
  const name = "example: the journal page keeps its entries across a reload";
  const t = Date.now();
  const server = await serveExample(0);
  const page = await browser.newPage();
  try {
    const url = `http://127.0.0.1:${server.address().port}/`;
    const entries = () => page.$$eval("#entries li", (lis) => lis.map((li) => li.textContent));
    const waitFor = (n) =>
      page.waitForFunction(
        (n) => document.querySelectorAll("#entries li").length === n,
        { timeout: 10_000 },
        n,
      );
    await page.goto(url);
    await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
    const before = (await entries()).length;
    for (const text of ["first entry", "second entry"]) {
      await page.type("#text", text);
      await page.click("form button");
    }
    await waitFor(before + 2);
    await page.reload();
    await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
    const after = await entries();
    const status = await page.$eval("#status", (p) => p.textContent);
    if (after.slice(-2).join("|") !== "first entry|second entry") {
      throw new Error(`after the reload: ${JSON.stringify(after)} (${status})`);
    }
    await page.click("#clear");
    await waitFor(0);
    record({ name, status: "pass", ms: Date.now() - t });
  } catch (err) {
    record({ name, status: "fail", error: String(err?.stack ?? err), ms: Date.now() - t });
  } finally {
    await page.close().catch(() => {});
    server.close();
  }
}

async function main() {
  const script = await bundleWorker();
  const server = await serve(script);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const userDataDir = await mkdtemp(join(tmpdir(), "blobrt-chromium-"));
  let browser;
  try {
    browser = await launch(userDataDir);
    if (bench) {
      await runMode(browser, origin, "bench", asResult);
      return;
    }
    await checkBundles();
    const t = Date.now();
    await runMode(browser, origin, "tests", asResult).catch((err) =>
      record({ name: "tests", status: "fail", error: String(err?.stack ?? err), ms: 0 })
    );
    if (verbose) console.log(`tests: ${Date.now() - t} ms`);
    if (memoryBundle !== "") await mainThreadTest(browser, origin);
    if (!filter || "example: the journal page".includes(filter)) await exampleTest(browser);
    if (!filter || "persistence".includes(filter) || filter.startsWith("persist")) {
      // Closed as a user closes it, then killed as a crash kills it (SIGKILL, no shutdown).
      for (const how of ["closed", "killed"]) {
        const tagged = (e) => asResult(e.name ? { ...e, name: `${e.name} (browser ${how})` } : e);
        await runMode(browser, origin, "persist-write", tagged);
        if (how === "killed") {
          const child = browser.process();
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGKILL");
          await exited;
        } else {
          await browser.close();
        }
        browser = undefined;
        browser = await launch(userDataDir);
        await runMode(browser, origin, "persist-read", tagged);
      }
    }
  } catch (err) {
    record({ name: "runner", status: "fail", error: String(err?.stack ?? err), ms: 0 });
  } finally {
    await browser?.close().catch(() => {});
    server.close();
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
}

await main();
if (!bench) {
  const passed = outcomes.filter((o) => o.status === "pass").length;
  const failed = outcomes.filter((o) => o.status === "fail").length;
  const skipped = outcomes.filter((o) => o.status === "skip").length;
  console.log(`(${skipped} skipped; ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
} else {
  process.exitCode = outcomes.some((o) => o.status === "fail") ? 1 : 0;
}
