#!/usr/bin/env node
/**
 * The `blobrt` command as installed from npm (`npx blobrt`, `bunx blobrt`):
 * runs {@linkcode main} with the process's arguments and exits with its code.
 * Unlike `cli/main.ts`, which runs only when it is the main module
 * (`deno run -A jsr:@blobrt/storage/cli`), this file always runs: Node 20 has
 * no `import.meta.main`.
 *
 * @module
 */

import process from "node:process";
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
