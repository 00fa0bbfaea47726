// Prints vitest's JSON report as one plain closing line, "tests: N passed, N failed",
// the form CI reads to know tests really ran.
import { readFileSync } from "node:fs";
const r = JSON.parse(readFileSync(process.argv[2], "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
process.exit(r.success && r.numTotalTests > 0 ? 0 : 1);
