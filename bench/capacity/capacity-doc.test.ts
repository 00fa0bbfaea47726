import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../api/repo-root.js";
import { CAPACITY_DOC, RESULTS_FILE, capacityMarkdown } from "./markdown.js";

describe("docs/capacity.md", () => {
  it("matches what bench/results/latest.json gives (run `make reference` after a bench run)", () => {
    const results = JSON.parse(readFileSync(join(repoRoot, RESULTS_FILE), "utf8"));
    const file = join(repoRoot, CAPACITY_DOC);
    const onDisk = existsSync(file) ? readFileSync(file, "utf8") : "(missing)";
    expect(onDisk, `${CAPACITY_DOC} is stale: run make reference`).toBe(capacityMarkdown(results));
  });

  it("renders a run without figures, saying what was not measured", () => {
    const doc = capacityMarkdown({});
    expect(doc).toContain("| collector (HTTP -> Kafka) | not measured in this run | not measured in this run | not bound (produces only) |");
    expect(doc).toContain("**Not measured yet**");
    expect(doc).not.toMatch(/NaN|undefined|Infinity/);
  });
});
