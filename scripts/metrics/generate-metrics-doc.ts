/** `make reference`: writes docs/metrics.md from the metric catalog. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../api/repo-root.js";
import { METRICS_DOC, metricsMarkdown } from "./metrics-doc.js";

writeFileSync(join(repoRoot, METRICS_DOC), await metricsMarkdown());
console.log(`wrote ${METRICS_DOC}`);
