/**
 * CRC-32C throughput: blobrt's `crc32c` (slicing-by-16, 32-bit word reads for
 * large inputs) against the ways the pure-JS npm packages compute it, in GB/s
 * per input size. A plain script for Deno and Bun; under `deno bench` it
 * registers one group per size instead.
 *
 *   deno run -A bench/crc32c_bench.ts [--compare DIR] [--rounds N] [--sizes 12,4096]
 *   bun bench/crc32c_bench.ts [--compare DIR] [--rounds N] [--sizes 12,4096]
 *
 * `--compare DIR` also measures the npm packages found in the `node_modules`
 * directory DIR (`crc-32`'s crc32c, `@chainsafe/fast-crc32c`'s JS fallback,
 * `@aws-crypto/crc32c`), installed there by hand: blobrt depends on none.
 *
 * The inline contenders are written here as those packages write them:
 * `bytewise` (one table lookup per byte: `@aws-crypto/crc32c`,
 * `@chainsafe/fast-crc32c`), `slice8` and `slice16` (byte reads only:
 * `crc-32`).
 *
 * @module
 */

import { createRequire } from "node:module";
import { crc32c } from "../core/crc32c.ts";
import { args, interleave, median, runtimeVersion } from "./measure.ts";

type Crc = (data: Uint8Array) => number;

const POLY = 0x82f63b78;
const T = new Int32Array(16 * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[b] = c;
}
for (let b = 0; b < 256; b++) {
  let c = T[b];
  for (let k = 1; k < 16; k++) T[k * 256 + b] = c = T[c & 0xff] ^ (c >>> 8);
}

function bytewise(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function slice8(data: Uint8Array): number {
  let c = -1;
  let i = 0;
  for (const end = data.length - 7; i < end; i += 8) {
    c = T[1792 + ((data[i] ^ c) & 0xff)] ^ T[1536 + ((data[i + 1] ^ (c >>> 8)) & 0xff)] ^
      T[1280 + ((data[i + 2] ^ (c >>> 16)) & 0xff)] ^ T[1024 + (data[i + 3] ^ (c >>> 24))] ^
      T[768 + data[i + 4]] ^ T[512 + data[i + 5]] ^ T[256 + data[i + 6]] ^ T[data[i + 7]];
  }
  for (; i < data.length; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function slice16(data: Uint8Array): number {
  let c = -1;
  let i = 0;
  for (const end = data.length - 15; i < end; i += 16) {
    c = T[3840 + ((data[i] ^ c) & 0xff)] ^ T[3584 + ((data[i + 1] ^ (c >>> 8)) & 0xff)] ^
      T[3328 + ((data[i + 2] ^ (c >>> 16)) & 0xff)] ^ T[3072 + (data[i + 3] ^ (c >>> 24))] ^
      T[2816 + data[i + 4]] ^ T[2560 + data[i + 5]] ^ T[2304 + data[i + 6]] ^
      T[2048 + data[i + 7]] ^ T[1792 + data[i + 8]] ^ T[1536 + data[i + 9]] ^
      T[1280 + data[i + 10]] ^ T[1024 + data[i + 11]] ^ T[768 + data[i + 12]] ^
      T[512 + data[i + 13]] ^ T[256 + data[i + 14]] ^ T[data[i + 15]];
  }
  for (; i < data.length; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// Every contender is called the same way: through one arrow function of its own.
const contenders: [string, Crc][] = [
  ["blobrt crc32c", (d) => crc32c(d)],
  ["slice16 (bytes)", (d) => slice16(d)],
  ["slice8 (bytes)", (d) => slice8(d)],
  ["bytewise", (d) => bytewise(d)],
];

/** The npm packages under `dir`, when asked for. */
function packages(dir: string): [string, Crc][] {
  const require = createRequire(`${dir}/`);
  const out: [string, Crc][] = [];
  const add = (label: string, load: () => Crc) => {
    try {
      out.push([label, load()]);
    } catch (err) {
      console.error(`skipping ${label}: ${(err as Error).message}`);
    }
  };
  add("npm crc-32@1.2.2 crc32c.buf", () => {
    const m = require(`${dir}/crc-32/crc32c.js`);
    return (d) => m.buf(d, 0) >>> 0;
  });
  add("npm @chainsafe/fast-crc32c (JS)", () => {
    const m = require(`${dir}/@chainsafe/fast-crc32c/impls/js_crc32c.js`);
    return (d) => m.calculate(d) >>> 0;
  });
  add("npm @aws-crypto/crc32c", () => {
    const m = require(`${dir}/@aws-crypto/crc32c`);
    return (d) => m.crc32c(d) >>> 0;
  });
  return out;
}

const SIZES = [12, 64, 256, 1024, 4084, 4096, 65536, 1 << 20];
const label = (n: number) => n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;

/** Deterministic bytes, starting at a 4-byte aligned offset like a page buffer. */
function input(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 8) + 7) & 0xff;
  return out;
}

const CHECK = new TextEncoder().encode("123456789");

if (import.meta.main) {
  const argv = args();
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const compare = at("--compare");
  const rounds = Number(at("--rounds") ?? 5);
  const sizes = at("--sizes")?.split(",").map(Number) ?? SIZES;
  const all = [...contenders, ...(compare === undefined ? [] : packages(compare))];
  for (const [name, f] of all) {
    if (f(CHECK) !== 0xe3069283) throw new Error(`${name} gets the check value wrong`);
  }
  console.log(`crc32c GB/s, ${runtimeVersion()}, median of ${rounds} interleaved rounds`);
  console.log(["size", ...all.map(([name]) => name)].join(" | "));
  for (const size of sizes) {
    const data = input(size);
    let sink = 0;
    const runs = await interleave(all.map(([, f]) => () => sink ^= f(data)), rounds, 200);
    const cells = runs.map((r) => ((median(r) * size) / 1e9).toFixed(2));
    console.log([label(size), ...cells].join(" | "));
    if (sink === 0.5) console.log(sink); // keep the results alive
  }
} else if ("Deno" in globalThis) {
  for (const size of [12, 4096, 1 << 20]) {
    const data = input(size);
    for (const [name, f] of contenders) {
      Deno.bench(`crc32c ${label(size)}: ${name}`, {
        group: `crc32c ${label(size)}`,
        baseline: name === "blobrt crc32c",
      }, () => {
        f(data);
      });
    }
  }
}
