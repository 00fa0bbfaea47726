import { describe, expect, it } from "vitest";
import { validateSpec } from "./validate.js";

const sink = (clusters?: Record<string, string>) => ({
  kind: "Sink",
  metadata: { name: "raw", namespace: "ns" },
  spec: { source: { stream: "s" }, clickhouse: { table: "t" }, ...(clusters ? { clusters } : {}) },
});

describe("validateSpec", () => {
  it("gives the defaulted spec", () => {
    const v = validateSpec<{ clickhouse: { database: string } }>(sink());
    expect(v).toMatchObject({ ok: true, spec: { clickhouse: { database: "default" } } });
  });
  it("accepts the default clusters by name", () => {
    expect(validateSpec(sink({ kafka: "default", clickhouse: "default" })).ok).toBe(true);
  });
  it("refuses a cluster the operator is not configured with, naming field and cluster", () => {
    expect(validateSpec(sink({ clickhouse: "analytics" }))).toEqual({
      ok: false,
      message: 'spec.clusters.clickhouse: no ClickHouse cluster "analytics" in the operator configuration (configured: default)',
    });
    const both = validateSpec(sink({ kafka: "eu", clickhouse: "analytics" }));
    expect(both.ok === false && both.message).toMatch(/^spec\.clusters\.kafka: no Kafka cluster "eu".*; spec\.clusters\.clickhouse/);
  });
  it("reports schema problems by path", () => {
    const v = validateSpec({ ...sink(), spec: { source: { stream: "s" }, clickhouse: { table: "bad name" } } });
    expect(v.ok === false && v.message).toMatch(/^spec\.clickhouse\.table: /);
  });
});
