import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../api/repo-root.js";

const sluice = join(repoRoot, "bin", "sluice.js");
// A spawned CLI compiles its sources through tsx: seconds on a busy 2-core machine.
const SPAWN_BUDGET_MS = 60_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
    });
  });
}

describe("sluice crds", () => {
  it("prints the three CustomResourceDefinitions of crds/ as one YAML stream for kubectl apply -f -", async () => {
    const run = await runCli(["crds"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const printed = yaml.loadAll(run.stdout) as { kind: string; metadata: { name: string } }[];
    const files = readdirSync(join(repoRoot, "crds")).filter((f) => f.endsWith(".yaml")).sort();
    const onDisk = files.map((f) => yaml.load(readFileSync(join(repoRoot, "crds", f), "utf8")));
    expect(printed.map((d) => d.kind)).toEqual(["CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition"]);
    const byName = (docs: unknown[]) => [...docs].sort((a, b) => (a as { metadata: { name: string } }).metadata.name.localeCompare((b as { metadata: { name: string } }).metadata.name));
    expect(byName(printed)).toEqual(byName(onDisk));
  }, SPAWN_BUDGET_MS + 15_000);

  it("exits 2 on an unknown option, and documents its exit codes in --help", async () => {
    const [bad, help] = await Promise.all([runCli(["crds", "--bogus"]), runCli(["crds", "--help"])]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("sluice crds | kubectl apply --server-side -f -");
    expect(help.stdout).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+runtime failure[^\n]*\n\s+2\s+usage error/);
  }, SPAWN_BUDGET_MS + 15_000);
});
