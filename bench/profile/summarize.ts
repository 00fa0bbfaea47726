/**
 * Prints the top frames of every CPU profile a profiled bench run wrote
 * (`make bench-profile`), one block per process, and writes them to summary.md beside them.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { topFrames, type CpuProfile } from "./top-frames.js";

const dir = process.argv[2] ?? "bench/results/profiles";
const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort();
if (files.length === 0) throw new Error(`no .cpuprofile files in ${dir}`);
const blocks = files.map((f) => {
  const rows = topFrames(JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile, 12);
  return [`## ${f}`, "", "| self | share | frame |", "|---|---|---|", ...rows.map((r) => `| ${r.selfMs.toFixed(0)} ms | ${(r.share * 100).toFixed(1)}% | \`${r.frame}\` |`), ""].join("\n");
});
const text = `# Top frames by self time\n\nFrom ${files.length} CPU profile(s) in ${dir} (node --cpu-prof, one per bench process).\n\n${blocks.join("\n")}`;
writeFileSync(join(dir, "summary.md"), text);
console.log(text);
