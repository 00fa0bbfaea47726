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

type Schema = { type?: string | string[]; $ref?: string; properties?: Record<string, Schema>; required?: string[]; additionalProperties?: boolean | Schema; definitions?: Record<string, Schema> };
const schema = JSON.parse(readFileSync(join(chart, "values.schema.json"), "utf8")) as Schema;
const resolve = (s: Schema): Schema => (s.$ref ? resolve(schema.definitions![s.$ref.replace("#/definitions/", "")]!) : s);
const jsonType = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);

/** Every default in values.yaml that the schema declares, with its path and the node that declares it. */
function* declared(values: Record<string, unknown>, node: Schema, path: string): Generator<[string, unknown, Schema]> {
  for (const [key, value] of Object.entries(values)) {
    const child = node.properties?.[key];
    if (!child) continue; // undeclared keys are allowed (the schema is open); see the test below
    const s = resolve(child);
    yield [`${path}${key}`, value, s];
    if (s.properties && value && typeof value === "object" && !Array.isArray(value)) yield* declared(value as Record<string, unknown>, s, `${path}${key}.`);
  }
}

describe("the chart's values.schema.json", () => {
  it("requires kafka.brokers and clickhouse.url, and keeps the top level open for optional keys", () => {
    expect(schema.required).toEqual(expect.arrayContaining(["kafka", "clickhouse"]));
    expect(schema.additionalProperties).toBe(true);
    expect(schema.properties!.kafka!.required).toContain("brokers");
    expect(schema.properties!.clickhouse!.required).toContain("url");
  });

  it("gives every default in values.yaml the type the schema declares for it", () => {
    const values = yaml.load(readFileSync(join(chart, "values.yaml"), "utf8")) as Record<string, unknown>;
    const seen: string[] = [];
    for (const [path, value, s] of declared(values, schema, "")) {
      seen.push(path);
      const types = [s.type ?? []].flat();
      expect(types.length, `${path} has no type in values.schema.json`).toBeGreaterThan(0);
      const t = jsonType(value);
      expect(types.includes(t) || (t === "integer" && types.includes("number")), `${path}: values.yaml has ${t}, the schema says ${types.join("|")}`).toBe(true);
    }
    expect(seen).toEqual(expect.arrayContaining(["kafka.brokers", "clickhouse.url", "replicas", "resync", "autoscaler.interval", "leaderElection.enabled"]));
  });
});

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
