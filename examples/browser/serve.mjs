#!/usr/bin/env node
// Serves the browser example: bundles worker.ts with esbuild (in memory) and serves it with
// index.html from http://127.0.0.1:8000 (PORT overrides). OPFS needs a secure context, which
// http://127.0.0.1 and http://localhost are. Run from the repository root:
//
//   node examples/browser/serve.mjs

import * as esbuild from "esbuild";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT ?? 8000);

/** The worker bundle. */
export async function bundle() {
  const result = await esbuild.build({
    entryPoints: [join(here, "worker.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

/** Serves the example on `port` (0: any free one); resolves with the server. */
export async function serve(listenPort = port) {
  const worker = await bundle();
  const page = await readFile(join(here, "index.html"), "utf8");
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page);
    } else if (path === "/worker.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(worker);
    } else {
      res.writeHead(404);
      res.end("not found");
    }
  });
  await new Promise((ok) => server.listen(listenPort, "127.0.0.1", ok));
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve();
  console.log(`blobrt journal example: http://127.0.0.1:${server.address().port}/`);
}
