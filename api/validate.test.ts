import { describe, expect, it } from "vitest";
import { INVALID_CASES, VALID_BASES } from "../test/fixtures/invalid-manifests.js";
import { loadManifests } from "../cli/manifests.js";
import { validateDocument } from "./validate.js";
import { join } from "node:path";
import { repoRoot } from "./repo-root.js";

describe("offline validation", () => {
  it("accepts every example", () => {
    const { documents, errors } = loadManifests([join(repoRoot, "examples")]);
    expect(errors).toEqual([]);
    const sluice = documents.map((d) => ({ at: `${d.file}#${d.index}`, verdict: validateDocument(d.doc) })).filter((v) => v.verdict.status !== "skipped");
    expect(sluice.length).toBeGreaterThanOrEqual(10);
    for (const { at, verdict } of sluice) expect(verdict.status === "invalid" ? verdict.issues : [], at).toEqual([]);
  });

  it("accepts the valid bases the invalid table is built from", () => {
    for (const base of Object.values(VALID_BASES)) expect(validateDocument(base()).status).toBe("valid");
  });

  describe.each(INVALID_CASES)("rejects $name", (c) => {
    it(`naming ${c.path}`, () => {
      const verdict = validateDocument(c.manifest);
      expect(verdict.status).toBe("invalid");
      const issues = verdict.status === "invalid" ? verdict.issues : [];
      const text = issues.map((i) => `${i.path}: ${i.message}`).join("\n");
      expect(issues.map((i) => i.path), text).toContain(c.path);
      expect(text).toMatch(c.message);
    });
  });

  it("tells a wrong type from a missing field, naming the type expected and the one found", () => {
    const issues = (doc: Record<string, any>) => {
      const verdict = validateDocument(doc);
      return verdict.status === "invalid" ? verdict.issues : [];
    };
    const stream = VALID_BASES.stream();
    stream.spec.topic.partitions = "12";
    stream.spec.topic.replicationFactor = 1.5;
    stream.spec.schema.fields[0].required = "yes";
    delete stream.spec.keys.eventTime;
    expect(issues(stream)).toEqual([
      { path: "spec.topic.partitions", message: 'must be of type integer, found string "12"' },
      { path: "spec.topic.replicationFactor", message: "must be of type integer, found number 1.5" },
      { path: "spec.schema.fields[0].required", message: 'must be of type boolean, found string "yes"' },
      { path: "spec.keys.eventTime", message: "required field is missing" },
    ]);
    expect(issues({ ...VALID_BASES.stream(), spec: "topic: clicks" })).toEqual([{ path: "spec", message: 'must be of type object, found string "topic: clicks"' }]);
  });

  it("fills defaults, so downstream code never handles unset", () => {
    const verdict = validateDocument(VALID_BASES.sink());
    expect(verdict.status).toBe("valid");
    const spec = (verdict as { value: { spec: Record<string, any> } }).value.spec;
    expect(spec.batching).toEqual({ maxRows: 10_000, maxBytes: 8_388_608, maxDelay: "1s" });
    expect(spec.clickhouse.database).toBe("default");
    expect(spec.scaling.minReplicas).toBe(1);
  });

  it("points inline credentials at Secrets and misspellings at the right name", () => {
    const withPassword = VALID_BASES.sink();
    withPassword.spec.clickhouse.password = "x";
    withPassword.spec.clickhouse.databse = "y";
    const verdict = validateDocument(withPassword);
    const hints = verdict.status === "invalid" ? verdict.issues.map((i) => i.hint) : [];
    expect(hints).toContain("credentials are never inline: put them in a Secret and reference it by name (secretRef)");
    expect(hints).toContain('did you mean "database"?');
  });

  it("skips non-Sluice documents and refuses unknown Sluice kinds and versions", () => {
    expect(validateDocument({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }).status).toBe("skipped");
    expect(validateDocument({ apiVersion: "sluice.dev/v1alpha1", kind: "Pipeline", metadata: { name: "p" }, spec: {} })).toMatchObject({ status: "invalid", issues: [{ path: "kind" }] });
    expect(validateDocument({ ...VALID_BASES.sink(), apiVersion: "sluice.dev/v1" })).toMatchObject({ status: "invalid", issues: [{ path: "apiVersion" }] });
  });
});
