import { describe, expect, it } from "vitest";
import type { Obj } from "./informer.js";
import { deletionPolicyOf, sharedTables, tablesOf, type Writer } from "./table-cleanup.js";

const sink = (name: string, table: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Writer => ({
  kind: "Sink",
  obj: { metadata: { name, namespace: "ns", ...meta }, spec: { source: { stream: "s" }, clickhouse: { database: "db", table }, ...extra } } as Obj,
});
const aggregation = (name: string, table: string, lateData: Record<string, unknown> = { policy: "Table" }): Writer => ({
  kind: "Aggregation",
  obj: {
    metadata: { name, namespace: "ns" },
    spec: {
      source: { stream: "s" },
      window: { type: "tumbling", size: "1m" },
      groupBy: ["page"],
      measures: [{ name: "views", fn: "count" }],
      lateData,
      output: { clickhouse: { database: "db", table } },
      deletionPolicy: "Delete",
    },
  } as Obj,
});

describe("tablesOf", () => {
  it("is the Sink's table, database defaulted", () => {
    const s = sink("a", "raw");
    delete (s.obj.spec.clickhouse as { database?: string }).database;
    expect(tablesOf("Sink", s.obj)).toEqual([{ cluster: "default", database: "default", table: "raw" }]);
  });
  it("is the Aggregation's output and late tables under policy Table, only the output under Topic", () => {
    expect(tablesOf("Aggregation", aggregation("x", "per_minute").obj)).toEqual([
      { cluster: "default", database: "db", table: "per_minute" },
      { cluster: "default", database: "db", table: "per_minute_late" },
    ]);
    expect(tablesOf("Aggregation", aggregation("x", "per_minute", { policy: "Table", table: "late_ones" }).obj)[1]).toEqual({ cluster: "default", database: "db", table: "late_ones" });
    expect(tablesOf("Aggregation", aggregation("x", "per_minute", { policy: "Topic" }).obj)).toEqual([{ cluster: "default", database: "db", table: "per_minute" }]);
  });
  it("is on the ClickHouse the resource names itself", () => {
    expect(tablesOf("Sink", sink("a", "raw", { clusters: { clickhouse: "analytics" } }).obj)).toEqual([{ cluster: "analytics", database: "db", table: "raw" }]);
  });
  it("is nothing for an invalid spec, and its policy is Retain: an unreadable spec never drops data", () => {
    const broken = sink("a", "raw", { clickhouse: { table: "no spaces allowed" } });
    expect(tablesOf("Sink", broken.obj)).toEqual([]);
    expect(deletionPolicyOf("Sink", { ...broken.obj, spec: { ...broken.obj.spec, deletionPolicy: "Delete" } })).toBe("Retain");
  });
  it("defaults the policy to Retain", () => {
    expect(deletionPolicyOf("Sink", sink("a", "raw").obj)).toBe("Retain");
    expect(deletionPolicyOf("Sink", sink("a", "raw", { deletionPolicy: "Delete" }).obj)).toBe("Delete");
  });
});

describe("sharedTables", () => {
  const self = sink("a", "raw", { deletionPolicy: "Delete" }, { deletionTimestamp: "2026-01-01T00:00:00Z" });
  const mine = tablesOf("Sink", self.obj);
  it("names the live writer of the same table, and ignores itself and other tables", () => {
    const shared = sharedTables(self, mine, [self, sink("b", "raw"), sink("c", "other")]);
    expect([...shared]).toEqual([["db.raw", "Sink/ns/b"]]);
  });
  it("counts an Aggregation writing the table as its late table", () => {
    const late = { ...self, obj: { ...self.obj, spec: { ...self.obj.spec, clickhouse: { database: "db", table: "m_late" } } } } as Writer;
    expect(sharedTables(late, tablesOf("Sink", late.obj), [aggregation("m", "m")]).get("db.m_late")).toBe("Aggregation/ns/m");
  });
  it("lets a writer being deleted under Retain protect the table, one deleted under Delete not", () => {
    const retaining = sink("b", "raw", {}, { deletionTimestamp: "2026-01-01T00:00:00Z" });
    const deleting = sink("b", "raw", { deletionPolicy: "Delete" }, { deletionTimestamp: "2026-01-01T00:00:00Z" });
    expect(sharedTables(self, mine, [retaining]).size).toBe(1);
    expect(sharedTables(self, mine, [deleting]).size).toBe(0);
  });
  it("does not count the same table name on another ClickHouse", () => {
    expect(sharedTables(self, mine, [sink("b", "raw", { clusters: { clickhouse: "analytics" } })]).size).toBe(0);
    const there = sink("c", "raw", { clusters: { clickhouse: "analytics" } }, { deletionTimestamp: "2026-01-01T00:00:00Z" });
    expect([...sharedTables(there, tablesOf("Sink", there.obj), [sink("b", "raw", { clusters: { clickhouse: "analytics" } })])]).toEqual([["analytics:db.raw", "Sink/ns/b"]]);
  });
  it("tells a Sink and an Aggregation of the same name apart", () => {
    const agg = aggregation("a", "raw", { policy: "Topic" });
    expect(sharedTables(self, mine, [agg]).get("db.raw")).toBe("Aggregation/ns/a");
  });
});
