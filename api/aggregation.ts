/**
 * Aggregation: event-time windows over a stream, computed in the stream and written to
 * ClickHouse as full values (never increments), so a replay rewrites the same rows.
 */
import { z } from "zod";
import { cel, clusterRefs, deletionPolicy, duration, identifier, objectName, scaling, topicName, uniqueBy, workerResources, workerStatus } from "./common.js";
import { parseDuration } from "./duration.js";

export const MEASURE_FNS = ["count", "sum", "min", "max", "avg", "uniqExact", "uniq"] as const;

export const window = z
  .object({
    type: z.enum(["tumbling", "sliding", "session"]).describe("tumbling: fixed, non-overlapping; sliding: fixed size, advancing by slide; session: closed by a gap of inactivity."),
    size: duration("Window length (tumbling, sliding).").optional(),
    slide: duration("How far a sliding window advances; no larger than size.").optional(),
    gap: duration("Inactivity that closes a session window.").optional(),
  })
  .strict()
  .meta(
    cel(
      { rule: "self.type == 'session' || has(self.size)", message: "tumbling and sliding windows need a size", fieldPath: ".size" },
      { rule: "self.type != 'sliding' || (has(self.slide) && has(self.size) && duration(self.slide) <= duration(self.size))", message: "a sliding window needs a slide no larger than its size", fieldPath: ".slide" },
      { rule: "self.type == 'sliding' || !has(self.slide)", message: "slide applies only to sliding windows", fieldPath: ".slide" },
      { rule: "self.type != 'session' || (has(self.gap) && !has(self.size))", message: "a session window needs a gap and no size", fieldPath: ".gap" },
      { rule: "self.type == 'session' || !has(self.gap)", message: "gap applies only to session windows", fieldPath: ".gap" },
    ),
  )
  .superRefine((w, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (w.type !== "session" && !w.size) issue("size", "tumbling and sliding windows need a size");
    if (w.type === "sliding" && (!w.slide || !w.size || parseDuration(w.slide) > parseDuration(w.size))) issue("slide", "a sliding window needs a slide no larger than its size");
    if (w.type !== "sliding" && w.slide) issue("slide", "slide applies only to sliding windows");
    if (w.type === "session" && (!w.gap || w.size)) issue("gap", "a session window needs a gap and no size");
    if (w.type !== "session" && w.gap) issue("gap", "gap applies only to session windows");
  })
  .describe("The event-time window.");

export const measure = z
  .object({
    name: identifier("Output column name."),
    fn: z.enum(MEASURE_FNS).describe("count, sum, min, max, avg, uniqExact (exact distinct) or uniq (approximate distinct, HyperLogLog)."),
    field: identifier("Input field the function reads. Not used by count.").optional(),
  })
  .strict()
  .meta(cel({ rule: "self.fn == 'count' || has(self.field)", message: "every measure except count needs a field", fieldPath: ".field" }))
  .superRefine((m, ctx) => {
    if (m.fn !== "count" && !m.field) ctx.addIssue({ code: "custom", path: ["field"], message: "every measure except count needs a field" });
  })
  .describe("One computed value per window and group.");

export const clickhouseTable = z
  .object({
    database: identifier("ClickHouse database.").default("default"),
    table: identifier("ClickHouse table."),
  })
  .strict()
  .describe("A ClickHouse table, created by the operator.");

export const aggregationSpec = z
  .object({
    source: z.object({ stream: objectName("EventStream in the same namespace.") }).strict().describe("The stream to aggregate."),
    window,
    watermark: z
      .object({
        maxOutOfOrderness: duration("How far behind the newest event time an event may arrive and still be on time.").default("10s"),
        idleTimeout: duration("After this long without events, a partition stops holding the watermark back.").default("30s"),
      })
      .strict()
      .default({ maxOutOfOrderness: "10s", idleTimeout: "30s" })
      .describe("How event-time progress is tracked."),
    allowedLateness: duration("How long after a window closes late events still correct it (re-emitted). Later events go to the late-data output.").default("0s"),
    earlyFirings: duration("Emit a window's running value this often while it is open, so results show within seconds. Unset: only on close. Not for session windows: a session's row is written once, when it closes, since a session can still merge with another until then.").optional(),
    groupBy: z
      .array(identifier("A field to group by."))
      .max(10)
      .default([])
      .superRefine(uniqueBy((g) => g, "group-by field"))
      .meta({ "x-kubernetes-list-type": "set" })
      .describe("Fields whose values form the group key of each window row."),
    measures: z
      .array(measure)
      .min(1)
      .max(50)
      .superRefine(uniqueBy((m) => m.name, "measure name"))
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] })
      .describe("The values computed per window and group."),
    lateData: z
      .object({
        policy: z.enum(["Table", "Topic"]).default("Table").describe("Table: late events land in a ClickHouse table; Topic: in a Kafka topic. They are always counted, never dropped."),
        table: identifier("Late-event table. Default: <output table>_late.").optional(),
        topic: topicName("Late-event topic (policy Topic). Default: <stream topic>.late.").optional(),
      })
      .strict()
      .meta(cel({ rule: "self.policy == 'Topic' || !has(self.topic)", message: "lateData.topic applies only to policy Topic", fieldPath: ".topic" }))
      .superRefine((l, ctx) => {
        if (l.policy !== "Topic" && l.topic) ctx.addIssue({ code: "custom", path: ["topic"], message: "lateData.topic applies only to policy Topic" });
      })
      .default({ policy: "Table" })
      .describe("Where events later than the allowed lateness go."),
    output: z.object({ clickhouse: clickhouseTable }).strict().describe("Where window results are written (upserts keyed by window and group, with a version)."),
    scaling: scaling.default({ minReplicas: 1, maxReplicas: 10, targetLagSeconds: 5, scaleDownStabilizationSeconds: 120 }),
    resources: workerResources.optional(),
    deletionPolicy: deletionPolicy(
      "What deleting the Aggregation does to its tables. Retain (default) keeps them; Delete stops the workers, then drops the aggregate table and the late table (policy Table), unless another Sink or Aggregation the operator watches writes the same table. A late topic is never deleted: by default every aggregation of the stream shares it.",
    ),
    clusters: clusterRefs.optional(),
  })
  .strict()
  .meta(cel({ rule: "self.window.type != 'session' || !has(self.earlyFirings)", message: "earlyFirings does not apply to session windows: a session is written once, when it closes", fieldPath: ".earlyFirings" }))
  .superRefine((a, ctx) => {
    if (a.window.type === "session" && a.earlyFirings !== undefined) ctx.addIssue({ code: "custom", path: ["earlyFirings"], message: "earlyFirings does not apply to session windows: a session is written once, when it closes" });
  })
  .describe("An event-time windowed aggregation of a stream.");

export const aggregationStatus = z.object({ ...workerStatus }).describe("What the operator observed and did.");

export type AggregationSpec = z.output<typeof aggregationSpec>;
