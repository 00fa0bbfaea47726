import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../api/repo-root.js";
import { loadPipeline, PipelineLoadError } from "./load.js";

describe("loadPipeline", () => {
  it("compiles the clickstream example with defaults, names and units resolved", () => {
    const p = loadPipeline([join(repoRoot, "examples", "clickstream")]);
    expect(p.streams).toHaveLength(1);
    const s = p.streams[0]!;
    expect(s).toMatchObject({ topic: "default.page-views", deadLetterTopic: "default.page-views.dlq", partitions: 12, retentionMs: 604_800_000 });
    expect(s.keys).toEqual({ eventId: "event_id", eventTime: "event_time", tenant: "tenant_id", partitionBy: "user_id" });
    expect(s.ingest.rateLimit).toEqual({ eventsPerSecond: 5000, burst: 5000 });
    expect(p.secrets.get("page-views-keys")).toEqual({ "shop-a": "demo-key-shop-a", "shop-b": "demo-key-shop-b" });
    const sink = p.sinks[0]!;
    expect(sink).toMatchObject({ groupId: "sluice.default.sink.page-views-raw", database: "clickstream", table: "page_views", orderBy: ["tenant_id", "event_time", "event_id"] });
    expect(sink.batching).toEqual({ maxRows: 50_000, maxBytes: 16_777_216, maxDelayMs: 1000 });
  });

  it("appends the event id to an ORDER BY that lacks it, since the table dedupes on that key", () => {
    const p = loadPipeline([join(repoRoot, "examples", "delivery")]);
    expect(p.sinks[0]!.orderBy).toEqual(["city", "driver_id", "update_id"]);
  });

  it("names every invalid document and a missing Secret", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-load-"));
    writeFileSync(join(dir, "s.yaml"), "apiVersion: sluice.dev/v1alpha1\nkind: Sink\nmetadata: {name: x}\nspec: {source: {stream: nope}, clickhouse: {table: t}, batching: {maxRows: 0}}\n");
    expect(() => loadPipeline([dir])).toThrow(/s.yaml: document 1 \(Sink "x"\): spec.batching.maxRows/);
    const dir2 = mkdtempSync(join(tmpdir(), "sluice-load-"));
    const stream = join(repoRoot, "examples", "clickstream", "stream.yaml");
    writeFileSync(join(dir2, "stream.yaml"), readFileSync(stream, "utf8"));
    expect(() => loadPipeline([dir2])).toThrow(PipelineLoadError);
    expect(() => loadPipeline([dir2])).toThrow(/references Secret "page-views-keys"/);
  });

  it("refuses a sink whose stream is not in the folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-load-"));
    writeFileSync(join(dir, "all.yaml"), [
      "apiVersion: sluice.dev/v1alpha1\nkind: EventStream\nmetadata: {name: a}\nspec: {schema: {version: 1, fields: [{name: id, type: string}, {name: t, type: timestamp}]}, keys: {eventId: id, eventTime: t}}",
      "apiVersion: sluice.dev/v1alpha1\nkind: Sink\nmetadata: {name: s}\nspec: {source: {stream: b}, clickhouse: {table: t}}",
    ].join("\n---\n"));
    expect(() => loadPipeline([dir])).toThrow(/Sink default\/s: source stream "b" not found/);
  });
});
