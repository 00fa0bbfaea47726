import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../api/repo-root.js";
import { validatePaths } from "./validate-command.js";

const sluice = join(repoRoot, "bin", "sluice.js");
// A spawned CLI loads tsx and compiles the sources it imports: about 1.5 s on an idle
// 2-core machine, several times that on a busy one. The child is killed at its budget so
// a hang fails with its output instead of leaving the test to time out blind.
const SPAWN_BUDGET_MS = 60_000;
const TEST_BUDGET_MS = SPAWN_BUDGET_MS + 15_000;

/** Runs `sluice <args>` to its end: exit code and both streams. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${SPAWN_BUDGET_MS} ms)` : stderr });
    });
  });
}

function pipelineFile(...documents: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "sluice-validate-")), "pipeline.yaml");
  writeFileSync(file, documents.join("\n---\n"));
  return file;
}

describe("sluice validate", () => {
  // The one real spawn: argument parsing, exit code and stderr, end to end. The other
  // cases call the command's function in-process, where a spawn would add only time.
  it("exits 1 naming the file, the document and the field, with a hint", async () => {
    const file = pipelineFile(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}",
      "apiVersion: sluice.dev/v1alpha1\nkind: Sink\nmetadata: {name: raw}\nspec:\n  source: {stream: clicks}\n  clickhouse: {tabel: clicks_raw}",
    );
    const run = await runCli(["validate", "-f", file]);
    expect(run.stderr).toContain(`${file}: document 2 (Sink "raw"): spec.clickhouse.tabel: unknown field "tabel"`);
    expect(run.stderr).toContain('hint: did you mean "table"?');
    expect(run.stderr).toContain(`${file}: document 2 (Sink "raw"): spec.clickhouse.table: required field is missing`);
    expect(run.code).toBe(1);
  }, TEST_BUDGET_MS);

  it("finds the examples valid", () => {
    const report = validatePaths([join(repoRoot, "examples")]);
    expect(report.lines.at(-1)).toMatch(/^valid: \d+ valid, 0 invalid/);
    expect(report.ok).toBe(true);
  });

  it("says which type a field must have and which it has, not that it is missing", () => {
    const file = pipelineFile("apiVersion: sluice.dev/v1alpha1\nkind: EventStream\nmetadata: {name: clicks}\nspec: just a string");
    expect(validatePaths([file]).lines).toContain(`${file}: document 1 (EventStream "clicks"): spec: must be of type object, found string "just a string"`);
  });

  it("reports unreadable YAML and missing paths as failures, not as empty success", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-validate-"));
    writeFileSync(join(dir, "broken.yaml"), "kind: [unclosed");
    expect(validatePaths([dir])).toMatchObject({ ok: false, lines: [expect.stringContaining("broken.yaml: not valid YAML"), expect.anything()] });
    expect(validatePaths([join(dir, "nope")]).ok).toBe(false);
    const empty = mkdtempSync(join(tmpdir(), "sluice-validate-"));
    expect(validatePaths([empty])).toMatchObject({ ok: false, lines: [expect.stringContaining("no manifests found"), expect.anything()] });
  });
});
