// Prints vitest's JSON report as a short list of what did not pass, then one plain closing
// line, "tests: N passed, N failed", the form CI reads to know tests really ran. CI keeps
// only the tail of the output: the list puts every failure's first lines there, including
// a file's own error (a hook or an import failing), which vitest prints far above.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
const r = JSON.parse(readFileSync(process.argv[2], "utf8"));
const firstLines = (text, n) => String(text ?? "").replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(Boolean).slice(0, n).join(" | ").slice(0, 400);
for (const file of r.testResults ?? []) {
  const name = relative(process.cwd(), file.name);
  const bad = (file.assertionResults ?? []).filter((a) => a.status === "failed");
  const skipped = (file.assertionResults ?? []).filter((a) => a.status === "pending" || a.status === "skipped" || a.status === "todo");
  if (file.status === "failed" && bad.length === 0) console.log(`file failed: ${name}: ${firstLines(file.message, 4) || "(no message)"}`);
  for (const a of bad) console.log(`failed: ${name} > ${a.fullName ?? a.title}: ${firstLines((a.failureMessages ?? []).join("\n"), 3)}`);
  for (const a of skipped) console.log(`skipped: ${name} > ${a.fullName ?? a.title}`);
}
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
process.exit(r.success && r.numTotalTests > 0 ? 0 : 1);
