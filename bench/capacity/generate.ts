/** `make reference` and the end of `make bench`: writes docs/capacity.md from bench/results/latest.json. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../api/repo-root.js";
import { CAPACITY_DOC, RESULTS_FILE, capacityMarkdown } from "./markdown.js";

const results = join(repoRoot, RESULTS_FILE);
// A checkout without a bench run keeps the committed doc rather than one that says "not measured" everywhere.
if (!existsSync(results)) {
  console.log(`${RESULTS_FILE} not found (run make bench); ${CAPACITY_DOC} left as it is`);
} else {
  writeFileSync(join(repoRoot, CAPACITY_DOC), capacityMarkdown(JSON.parse(readFileSync(results, "utf8"))));
  console.log(`wrote ${CAPACITY_DOC} from ${RESULTS_FILE}`);
}
