/**
 * The buffer types against the `Uint8Array` call each one wraps (the
 * `baseline` of every group).
 *
 * Run one group per process (steadier), for example:
 *
 *   node_modules/.bin/deno bench --filter "/^buffers slice:/" bench/buffers_bench.ts
 *
 * Groups: `buffers coalesce 1024 × 64 B`, `buffers slice`, `buffers IoBufsMut 1024 chunks`.
 */

import { IoBuf, IoBufMut, IoBufs, IoBufsMut } from "../mod.ts";

const opts = (group: string, n: number, baseline = false) => ({
  group,
  n,
  warmup: n / 10,
  baseline,
});
const bytes = new Uint8Array(64 * 1024).fill(5);
const chunks = Array.from({ length: 1024 }, (_, i) => bytes.subarray(i * 64, (i + 1) * 64));
// Results go here, so the optimizer cannot drop the work.
let sink: unknown;

{
  const g = "buffers coalesce 1024 × 64 B";
  const bufs = new IoBufs(chunks);
  Deno.bench(`${g}: Uint8Array.slice of 64 KiB (one copy)`, opts(g, 50_000, true), () => {
    sink = bytes.slice();
  });
  Deno.bench(`${g}: new Uint8Array + set per chunk`, opts(g, 20_000), () => {
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < chunks.length; i++) out.set(chunks[i], i * 64);
    sink = out;
  });
  Deno.bench(`${g}: IoBufs.coalesce`, opts(g, 20_000), () => {
    sink = bufs.coalesce();
  });
  Deno.bench(`${g}: new IoBufs(chunks).coalesce`, opts(g, 20_000), () => {
    sink = new IoBufs(chunks).coalesce();
  });
}

{
  const g = "buffers slice";
  const buf = new IoBuf(bytes);
  let i = 0;
  const start = () => (i = (i + 64) & 0x7fff);
  Deno.bench(`${g}: Uint8Array.subarray`, opts(g, 1_000_000, true), () => {
    const s = start();
    sink = bytes.subarray(s, s + 4096);
  });
  Deno.bench(`${g}: IoBuf.slice`, opts(g, 1_000_000), () => {
    const s = start();
    sink = buf.slice(s, s + 4096);
  });
}

{
  const g = "buffers IoBufsMut 1024 chunks";
  const wrapped = chunks.map((c) => new IoBufMut(c));
  Deno.bench(`${g}: a subarray per chunk`, opts(g, 20_000, true), () => {
    const out = [];
    for (let i = 0; i < chunks.length; i++) out.push(chunks[i].subarray());
    sink = out;
  });
  Deno.bench(`${g}: new IoBufsMut(Uint8Array chunks)`, opts(g, 20_000), () => {
    sink = new IoBufsMut(chunks);
  });
  Deno.bench(`${g}: new IoBufsMut(IoBufMut chunks)`, opts(g, 20_000), () => {
    sink = new IoBufsMut(wrapped);
  });
}

addEventListener("unload", () => {
  if (sink === undefined) console.log("nothing ran");
});
