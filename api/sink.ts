/**
 * Sink: moves a stream, or an aggregation's output, into a store. ClickHouse first.
 * Offsets are committed only after the store acknowledged, and writes dedupe on event id.
 */
import { z } from "zod";
import { cel, clusterRefs, deletionPolicy, duration, identifier, objectName, retention, scaling, workerResources, workerStatus } from "./common.js";

export const sinkSource = z
  .object({
    stream: objectName("EventStream in the same namespace.").optional(),
    aggregation: objectName("Aggregation in the same namespace, whose results are copied.").optional(),
  })
  .strict()
  .meta(cel({ rule: "has(self.stream) != has(self.aggregation)", message: "source needs exactly one of stream or aggregation" }))
  .superRefine((s, ctx) => {
    if (!!s.stream === !!s.aggregation) ctx.addIssue({ code: "custom", path: [], message: "source needs exactly one of stream or aggregation" });
  })
  .describe("What the sink reads.");

/** A ClickHouse expression for PARTITION BY: a function call over columns, nothing more. */
const sqlExpression = (description: string) =>
  z.string().min(1).max(256).regex(/^[A-Za-z0-9_(), ]+$/, "must be a simple expression: identifiers, function calls and commas").describe(description);

export const clickhouseSinkTarget = z
  .object({
    database: identifier("ClickHouse database, created if missing.").default("default"),
    table: identifier("ClickHouse table, created if missing; new optional schema fields become new columns."),
    orderBy: z
      .array(identifier("A column."))
      .min(1)
      .max(16)
      .optional()
      .describe("ORDER BY columns (the sorting and deduplication key). Default: tenant, event time, event id."),
    partitionBy: sqlExpression("PARTITION BY expression, e.g. toYYYYMM(event_time). Default: by day of event time.").optional(),
    retention: retention("Rows older than this (by event time) are dropped by ClickHouse TTL where the server supports it (current servers also skip such rows at insert, e.g. a backfill of older events), e.g. 90d or infinite.").default("infinite"),
  })
  .strict()
  .describe("The ClickHouse table the sink writes.");

export const batching = z
  .object({
    maxRows: z.number().int().min(1).max(10_000_000).default(10_000).describe("Flush when a batch has this many rows. A batch is one insert: partial batches of a worker's partitions are combined up to this."),
    maxBytes: z.number().int().min(1024).max(1_073_741_824).default(8_388_608).describe("Flush when a batch has this many bytes of encoded rows."),
    maxDelay: duration("Flush a non-empty batch at least this often; bounds end-to-end latency.").default("1s"),
  })
  .strict()
  .describe("When a batch is written: whichever limit is reached first. When one partition's batch is due, the worker's other partitions' buffered records join it in the same insert, up to maxRows and maxBytes, so ClickHouse gets about one insert per maxDelay per worker.");

export const sinkSpec = z
  .object({
    source: sinkSource,
    clickhouse: clickhouseSinkTarget,
    batching: batching.default({ maxRows: 10_000, maxBytes: 8_388_608, maxDelay: "1s" }),
    scaling: scaling.default({ minReplicas: 1, maxReplicas: 10, targetLagSeconds: 5, scaleDownStabilizationSeconds: 120 }),
    resources: workerResources.optional(),
    deletionPolicy: deletionPolicy(
      "What deleting the Sink does to its table. Retain (default) keeps it; Delete stops the workers, then drops the table, unless another Sink or Aggregation the operator watches writes the same table.",
    ),
    clusters: clusterRefs.optional(),
  })
  .strict()
  .describe("Moves a stream or an aggregation's results into ClickHouse.");

export const sinkStatus = z.object({ ...workerStatus }).describe("What the operator observed and did.");

export type SinkSpec = z.output<typeof sinkSpec>;
