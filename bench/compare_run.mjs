// `npm run bench:compare`: runs bench/compare.ts under Deno, then under Bun
// (one after the other, never at once), and prints one set of markdown tables.
// random-access-file runs only on a runtime where a probe process could load it
// and do a read and a write; whether its native addon works is probed too and
// reported. Every temporary file lives under one directory removed at the end.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const script = join(root, "bench", "compare.ts");
const runtimes = [
  ["Deno", [bin("deno"), "run", "-A", script]],
  ["Bun", [bin("bun"), script]],
];

const parent = mkdtempSync(join(tmpdir(), "blobrt-compare-run-"));
const cleanup = () => rmSync(parent, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

/** The reason a child failed, in one line (a crash's message, or its exit status). */
function reason(r) {
  const lines = `${r.stderr ?? ""}`.trim().split("\n").filter(Boolean);
  const line = lines.find((l) => /symbol|error/i.test(l)) ?? lines.at(-1);
  const why = line?.replace(/^.*?: (?=symbol lookup error)/, "") ?? r.error?.message;
  return `${why ?? "no output"} (exit ${r.status ?? r.signal})`.slice(0, 200);
}

const results = [];
const notes = [];
try {
  for (const [name, [cmd, ...args]] of runtimes) {
    const probe = (...extra) =>
      spawnSync(cmd, [...args, "--probe", ...extra, "--dir", parent], {
        encoding: "utf8",
        timeout: 60_000,
      });
    const plain = probe();
    const addon = probe("--addon");
    notes.push(
      `${name}: random-access-file ${
        plain.status === 0 ? "loads, reads and writes" : `does not run: ${reason(plain)}`
      }; with its native addon in use (\`{ lock: true, sparse: true }\`, \`del\`): ${
        addon.status === 0 ? "works" : reason(addon)
      }`,
    );
    const run = spawnSync(
      cmd,
      [...args, "--dir", parent, ...(plain.status === 0 ? [] : ["--no-raf"])],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 },
    );
    if (run.status !== 0) throw new Error(`${name}: bench/compare.ts failed (${reason(run)})`);
    results.push(JSON.parse(run.stdout.trim().split("\n").at(-1)));
  }
} finally {
  cleanup();
}

const ops = (x) => Math.round(x).toLocaleString("en");
const ratio = (x) => (x === null ? "—" : x.toFixed(2));
const out = [];
out.push(
  `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model}, ` +
    results.map((r) => r.runtime).join(", "),
  "",
  "| workload | runtime | implementation | ops/s | × bare | × peer |",
  "| --- | --- | --- | ---: | ---: | ---: |",
);
const workloads = [...new Set(results.flatMap((r) => r.rows.map((row) => row.workload)))];
for (const w of workloads) {
  for (const r of results) {
    for (const row of r.rows.filter((row) => row.workload === w)) {
      const name = row.role === "default" ? `**${row.name}**` : row.name;
      out.push(
        `| ${w} | ${r.runtime} | ${name} | ${ops(row.ops)} | ${ratio(row.vsBare)} | ${
          ratio(row.vsPeer)
        } |`,
      );
    }
  }
}
out.push(
  "",
  "| target | runtime | workload | measured | target | met |",
  "| --- | --- | --- | ---: | :---: | :---: |",
);
for (const r of results) {
  for (const t of r.targets) {
    out.push(
      `| ${t.target} | ${r.runtime} | ${t.workload} | ${
        t.value.toFixed(2)
      } | ${t.op} ${t.limit} | ${t.met ? "yes" : "**no**"} |`,
    );
  }
}
out.push("", ...notes.map((n) => `- ${n}`));
console.log(out.join("\n"));
