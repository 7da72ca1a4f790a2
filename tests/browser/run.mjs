#!/usr/bin/env node
// The browser test runner (`npm run test:browser`): bundles tests/browser/worker.ts
// with esbuild (node:test and node:assert/strict aliased to the shims beside this
// file), serves it from 127.0.0.1, and in each of Debian's Chromium and Firefox ESR,
// launched headless through puppeteer-core (Chromium over CDP, Firefox over WebDriver
// BiDi), runs the same suite, inside a dedicated worker:
//
// - the shared conformance suite against OpfsStorage (v0, v1) and MemoryStorage (v0, v1),
//   plus the OPFS-specific tests (tombstones, recreate, healing, the lock), and the
//   wrappers' own tests (tests/audited_test.ts with node:crypto's SHA-256 standing in as
//   the JavaScript one, checked against WebCrypto; tests/faulty_test.ts);
// - persistence across a browser restart: write and sync, close Chromium (and, a second
//   time, kill it with SIGKILL), relaunch it on the same user-data-dir, read back (with a
//   removal left in the middle, healed);
// - the example page (examples/browser): its journal survives a reload;
// - MemoryStorage's own bundle on the page's main thread; OpfsStorage on the main thread
//   fails at once saying it needs a dedicated worker, creates nothing, holds no lock, and
//   the page's own worker then uses the directory;
// - the browser bundles: browser.ts, opfs/mod.ts and drivers/memory.ts must bundle with
//   --platform=browser and no node:* module.
//
// Prints what it is doing while it runs (each phase, and every few seconds the counts so
// far), each failure with its error, then exactly one line `N passed, N failed` summing
// both browsers; exits 1 on any failure. Result names start with the browser's name.
// Flags: --bench (runs bench/opfs_bench.ts instead, Chromium unless --browser), --filter=TEXT
// (tests whose name contains TEXT), --verbose (every test), --browser=chromium|firefox (one
// of them). CHROMIUM overrides /usr/bin/chromium, FIREFOX /usr/bin/firefox-esr. A browser
// that is not installed fails the run under CI=true, and is skipped with a line elsewhere.

import * as esbuild from "esbuild";
import { createServer } from "node:http";
import { existsSync } from "node:fs";
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
const only = args.find((a) => a.startsWith("--browser="))?.slice("--browser=".length);
const BROWSERS = [
  { name: "chromium", path: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  { name: "firefox", path: process.env.FIREFOX ?? "/usr/bin/firefox-esr" },
].filter((b) => only === undefined ? !bench || b.name === "chromium" : b.name === only);
if (BROWSERS.length === 0) throw new Error(`--browser must be chromium or firefox, got ${only}`);
const started = Date.now();
/** Each browser's whole run stays under three minutes, on a busy machine too. */
const BROWSER_BUDGET_MS = 180_000;
let deadline = started + BROWSER_BUDGET_MS;
/** The browser running now: results are named after it. */
let current = BROWSERS[0].name;

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
  o = { ...o, name: `[${current}] ${o.name}` };
  outcomes.push(o);
  if (o.status === "fail") {
    console.log(`FAIL ${o.name}\n${indent(o.error ?? "")}`);
  } else if (verbose) {
    console.log(`${o.status === "pass" ? "ok  " : "skip"} ${o.name} (${Math.round(o.ms ?? 0)} ms)`);
  }
}
const indent = (s) => s.split("\n").map((l) => `    ${l}`).join("\n");

// ---- Progress: the phase, and every 5 s the counts so far ----

let phase = "starting";
let phaseStarted = Date.now();
function progress(name) {
  phase = name;
  phaseStarted = Date.now();
  console.log(`[${current}] ${name} (${seconds(started)} s)`);
}
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const ticker = setInterval(() => {
  const mine = outcomes.filter((o) => o.name.startsWith(`[${current}] `));
  const failed = mine.filter((o) => o.status === "fail").length;
  console.log(
    `[${current}] ${phase}: ${seconds(phaseStarted)} s; ${
      mine.length - failed
    } passed, ${failed} failed so far`,
  );
}, 5_000);
ticker.unref();

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
    // The main-thread tests need two of the bundles, whatever the filter.
    const recorded = !filter || name.includes(filter);
    if (!recorded && entry === "browser.ts") continue;
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
      if (entry === "opfs/mod.ts") opfsBundle = result.outputFiles[0].text;
      const nodeInputs = Object.values(result.metafile.inputs)
        .flatMap((i) => i.imports.map((imp) => imp.path))
        .filter((p) => p.startsWith("node:"));
      if (nodeInputs.length > 0) throw new Error(`imports ${[...new Set(nodeInputs)].join(", ")}`);
      if (recorded) record({ name, status: "pass", ms: Date.now() - t });
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
/** opfs/mod.ts bundled for the browser, for the main-thread test; empty if it fails. */
let opfsBundle = "";

function serve(script) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    } else if (path === "/worker.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(script);
    } else if (path === "/memory.js" || path === "/opfs.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(path === "/memory.js" ? memoryBundle : opfsBundle);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// ---- Browser ----

function launch(which, userDataDir) {
  const common = {
    executablePath: which.path,
    headless: true,
    userDataDir,
    protocolTimeout: 120_000,
  };
  // Firefox: WebDriver BiDi (puppeteer-core's only protocol for it), no extra flags.
  if (which.name === "firefox") return puppeteer.launch({ ...common, browser: "firefox" });
  return puppeteer.launch({ ...common, args: FLAGS });
}

function remaining() {
  return Math.max(1_000, deadline - Date.now());
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
        () =>
          reject(
            new Error(
              `timed out (each browser's run must finish within ${BROWSER_BUDGET_MS / 1000} s)`,
            ),
          ),
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
  if (filter && !name.includes(filter)) return;
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

/**
 * OpfsStorage on the page's main thread (no sync access handles there): every operation
 * rejects at once with a StorageError saying a dedicated worker is needed, nothing is
 * created, no Web Lock is held, and the page's own worker then uses the same directory.
 */
async function opfsMainThreadTest(browser, origin) {
  const name = "main thread: OpfsStorage fails at once, creates nothing, keeps no lock";
  if (filter && !name.includes(filter)) return;
  const t = Date.now();
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/?mode=none`);
    const result = await page.evaluate(async () => {
      const directory = "main-thread-check";
      const root = await navigator.storage.getDirectory();
      await root.removeEntry(directory, { recursive: true }).catch(() => {});
      const { OpfsStorage } = await import("/opfs.js");
      const storage = new OpfsStorage({ directory });
      const errors = [];
      for (
        const op of [
          () => storage.open("p", "b"),
          () => storage.scan("p"),
          () => storage.remove("p"),
        ]
      ) {
        try {
          await op();
          errors.push("resolved");
        } catch (e) {
          errors.push(`${e.name} ${e.code}: ${e.message}`);
        }
      }
      const entries = [];
      for await (const [entry] of root.entries()) entries.push(entry);
      const held = (await navigator.locks.query()).held.map((l) => l.name);
      const source = `import { OpfsStorage } from "${location.origin}/opfs.js";
        const storage = new OpfsStorage({ directory: "${directory}" });
        try {
          const { blob } = await storage.open("p", "b");
          await blob.writeAt(0, new Uint8Array([1]), { sync: true });
          await blob.close();
          postMessage({ ok: true, scan: (await storage.scan("p")).length });
        } catch (e) {
          postMessage({ ok: false, error: e.code + ": " + e.message });
        }`;
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const worker = new Worker(url, { type: "module" });
      const fromWorker = await new Promise((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => resolve({ ok: false, error: String(e.message) });
      });
      worker.terminate();
      return { errors, created: entries.includes(directory), held, fromWorker };
    });
    const want = "StorageError Io: io error: OpfsStorage needs FileSystemSyncAccessHandle, " +
      "which browsers offer only in a dedicated worker";
    const problems = [];
    if (!result.errors.every((e) => e.startsWith(want))) problems.push("the errors");
    if (result.created) problems.push("a directory was created");
    if (result.held.includes("blobrt-opfs:/main-thread-check")) problems.push("the lock is held");
    if (!result.fromWorker.ok || result.fromWorker.scan !== 1) problems.push("the worker failed");
    if (problems.length > 0) throw new Error(`${problems.join(", ")}: ${JSON.stringify(result)}`);
    record({ name, status: "pass", ms: Date.now() - t });
  } catch (err) {
    record({ name, status: "fail", error: String(err?.stack ?? err), ms: Date.now() - t });
  } finally {
    // A fresh page: the test's worker is gone with the old one, and with it the lock.
    await page.close().catch(() => {});
    const clean = await browser.newPage();
    await clean.goto(`${origin}/?mode=none`).catch(() => {});
    await clean.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      await root.removeEntry("main-thread-check", { recursive: true }).catch(() => {});
    }).catch(() => {});
    await clean.close().catch(() => {});
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

/**
 * Waits (up to 10 s) until puppeteer has put back the Firefox profile's prefs after the
 * browser died: it does so asynchronously on exit (`*.puppeteer` backups renamed back),
 * and a launch on the same profile meanwhile fails to back up `user.js`. Instant for
 * Chromium, which has no such files.
 */
async function profileRestored(userDataDir) {
  const backups = ["user.js.puppeteer", "prefs.js.puppeteer"].map((f) => join(userDataDir, f));
  for (let waited = 0; waited < 10_000 && backups.some((f) => existsSync(f)); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The whole suite in one browser, on a fresh profile. */
async function runBrowser(which, origin) {
  current = which.name;
  deadline = Date.now() + BROWSER_BUDGET_MS;
  const userDataDir = await mkdtemp(join(tmpdir(), `blobrt-${which.name}-`));
  let browser;
  try {
    progress(`launching ${which.path}`);
    browser = await launch(which, userDataDir);
    if (bench) {
      progress("bench in a worker");
      await runMode(browser, origin, "bench", asResult);
      return;
    }
    progress("suite in a dedicated worker");
    await runMode(browser, origin, "tests", asResult).catch((err) =>
      record({ name: "tests", status: "fail", error: String(err?.stack ?? err), ms: 0 })
    );
    progress("main-thread checks");
    if (memoryBundle !== "") await mainThreadTest(browser, origin);
    if (opfsBundle !== "") await opfsMainThreadTest(browser, origin);
    if (!filter || "example: the journal page".includes(filter)) {
      progress("example page");
      await exampleTest(browser);
    }
    if (!filter || "persistence".includes(filter) || filter.startsWith("persist")) {
      // Closed as a user closes it, then killed as a crash kills it (SIGKILL, no shutdown).
      for (const how of ["closed", "killed"]) {
        progress(`persistence across a restart (browser ${how})`);
        const tagged = (e) => asResult(e.name ? { ...e, name: `${e.name} (browser ${how})` } : e);
        await runMode(browser, origin, "persist-write", tagged);
        if (how === "killed") {
          const child = browser.process();
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGKILL");
          await exited;
          await profileRestored(userDataDir);
        } else {
          await browser.close();
        }
        browser = undefined;
        browser = await launch(which, userDataDir);
        await runMode(browser, origin, "persist-read", tagged);
      }
    }
  } catch (err) {
    record({ name: "runner", status: "fail", error: String(err?.stack ?? err), ms: 0 });
  } finally {
    await browser?.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    const mine = outcomes.filter((o) => o.name.startsWith(`[${which.name}] `));
    const failed = mine.filter((o) => o.status === "fail").length;
    console.log(
      `[${which.name}] done: ${
        mine.filter((o) => o.status === "pass").length
      } passed, ${failed} failed (${seconds(started)} s)`,
    );
  }
}

async function main() {
  const script = await bundleWorker();
  const server = await serve(script);
  const origin = `http://127.0.0.1:${server.address().port}`;
  try {
    if (!bench) {
      current = "esbuild";
      progress("bundles");
      await checkBundles();
    }
    for (const which of BROWSERS) {
      current = which.name;
      if (!existsSync(which.path)) {
        const why = `${which.path} is not installed (apt-get install -y ${
          which.name === "firefox" ? "firefox-esr" : "chromium"
        })`;
        if (process.env.CI === "true") {
          record({ name: "launch", status: "fail", error: why, ms: 0 });
        } else console.log(`[${which.name}] skipped: ${why}`);
        continue;
      }
      await runBrowser(which, origin);
    }
  } finally {
    server.close();
    clearInterval(ticker);
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
