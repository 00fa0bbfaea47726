/**
 * The Helm chart ships a copy of crds/ (Helm installs charts/sluice/crds/ before the
 * templates) and its RBAC rules as plain YAML: the copy must never drift from the
 * generated CRDs, and the rules must stay explicit (no wildcards).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import yaml from "js-yaml";
import { repoRoot } from "../../testbed/paths.js";

const chart = join(repoRoot, "charts", "sluice");
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const rules = (file: string) => yaml.load(readFileSync(join(chart, "rbac", file), "utf8")) as Rule[];

describe("the Helm chart", () => {
  it("ships exactly the CRDs in crds/, byte for byte", () => {
    const source = join(repoRoot, "crds");
    const copy = join(chart, "crds");
    expect(yamlFiles(copy)).toEqual(yamlFiles(source));
    for (const f of yamlFiles(source)) expect(readFileSync(join(copy, f), "utf8"), f).toBe(readFileSync(join(source, f), "utf8"));
  });

  it("grants no wildcard and nothing beyond get/list/watch/create/patch/update", () => {
    for (const file of ["operator-rules.yaml", "leader-election-rules.yaml"]) {
      for (const r of rules(file)) {
        expect([...r.apiGroups, ...r.resources, ...r.verbs], file).not.toContain("*");
        for (const v of r.verbs) expect(["get", "list", "watch", "create", "patch", "update"], `${file}: ${v}`).toContain(v);
      }
    }
  });

  it("never lets the operator read Secrets or delete anything", () => {
    const all = [...rules("operator-rules.yaml"), ...rules("leader-election-rules.yaml")];
    expect(all.flatMap((r) => r.resources)).not.toContain("secrets");
    expect(all.flatMap((r) => r.verbs)).not.toContain("delete");
  });
});
