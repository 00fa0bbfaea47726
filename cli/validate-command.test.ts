import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../api/repo-root.js";
import { validatePaths } from "./validate-command.js";

const sluice = join(repoRoot, "bin", "sluice.js");

describe("sluice validate", () => {
  it("exits 0 on the examples", () => {
    const out = execFileSync(sluice, ["validate", "-f", join(repoRoot, "examples")], { encoding: "utf8" });
    expect(out).toMatch(/^valid: \d+ valid, 0 invalid/m);
  });

  it("exits 1 naming the file, the document and the field, with a hint", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-validate-"));
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, [
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}",
      "apiVersion: sluice.dev/v1alpha1\nkind: Sink\nmetadata: {name: raw}\nspec:\n  source: {stream: clicks}\n  clickhouse: {tabel: clicks_raw}",
    ].join("\n---\n"));
    const run = spawnSync(sluice, ["validate", "-f", file], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${file}: document 2 (Sink "raw"): spec.clickhouse.tabel: unknown field "tabel"`);
    expect(run.stderr).toContain('hint: did you mean "table"?');
    expect(run.stderr).toContain(`${file}: document 2 (Sink "raw"): spec.clickhouse.table: required field is missing`);
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
