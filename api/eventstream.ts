/**
 * EventStream: one Kafka topic, the schema of its events, which fields identify and
 * place them, and how the HTTP collector accepts them.
 */
import { z } from "zod";
import { cel, clusterRefs, deletionPolicy, identifier, retention, secretRef, statusBase, topicName, uniqueBy } from "./common.js";

export const FIELD_TYPES = ["string", "int32", "int64", "float64", "boolean", "timestamp", "uuid"] as const;

export const field = z
  .object({
    name: identifier("Field name in the event JSON; also the ClickHouse column name."),
    type: z.enum(FIELD_TYPES).describe("One of string, int32, int64, float64, boolean, timestamp (RFC 3339 string or epoch milliseconds), uuid."),
    required: z.boolean().default(false).describe("Events without this field are rejected at ingest and sent to the dead-letter topic by workers."),
    description: z.string().max(1024).optional().describe("What the field means; becomes the ClickHouse column comment."),
  })
  .strict()
  .describe("One typed field of the event schema.");

export const schema = z
  .object({
    version: z.number().int().min(1).describe("Schema version. Raise it with every change; every version is kept."),
    compatibility: z
      .enum(["Backward", "Forward", "Full", "None"])
      .default("Backward")
      .describe("Which changes are allowed between versions. Backward (default): new readers read old events, so fields may be added as optional, never removed or retyped."),
    strict: z.boolean().default(false).describe("Reject events carrying fields the schema does not declare. Off by default: unknown fields are accepted and ignored."),
    fields: z
      .array(field)
      .min(1)
      .max(500)
      .superRefine(uniqueBy((f) => f.name, "field name"))
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] })
      .describe("The event's typed fields. Names are unique."),
  })
  .strict()
  .describe("The schema every event of the stream is validated against.");

export const topic = z
  .object({
    name: topicName("Kafka topic name. Default: <namespace>.<name> of the EventStream.").optional(),
    partitions: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(6)
      .meta(cel({ rule: "self >= oldSelf", message: "partitions may only grow: Kafka cannot shrink a topic without losing ordering" }))
      .describe("Partition count: the unit of parallelism. May only grow."),
    replicationFactor: z.number().int().min(1).max(10).default(3).describe("Copies of each partition across brokers."),
    minInSyncReplicas: z.number().int().min(1).max(10).default(2).describe("Replicas that must acknowledge a write (acks=all) before it counts as accepted."),
    retention: retention("How long Kafka keeps events, e.g. 7d. Sinks must keep up within it.").default("7d"),
    compression: z.enum(["none", "gzip", "snappy", "lz4", "zstd"]).default("lz4").describe("Topic compression codec."),
  })
  .strict()
  .meta(cel({ rule: "self.minInSyncReplicas <= self.replicationFactor", message: "minInSyncReplicas must not exceed replicationFactor", fieldPath: ".minInSyncReplicas" }))
  .superRefine((t, ctx) => {
    if (t.minInSyncReplicas > t.replicationFactor) ctx.addIssue({ code: "custom", path: ["minInSyncReplicas"], message: "minInSyncReplicas must not exceed replicationFactor" });
  })
  .describe("The Kafka topic that holds the stream.");

export const keys = z
  .object({
    eventId: identifier("Field holding the unique event id, the key of deduplication. Events without one get a UUIDv7 at ingest."),
    eventTime: identifier("Field holding when the event happened (type timestamp); windows use it."),
    tenant: identifier("Field naming the tenant: rate limits and API keys are per tenant.").optional(),
    partitionBy: identifier("Field whose value keys the Kafka record, keeping one key's events in order. Default: the event id.").optional(),
  })
  .strict()
  .describe("Which schema fields identify, time, own and place each event.");

/**
 * The collector is stateless and its work is per request, so it scales on CPU with a
 * HorizontalPodAutoscaler, unlike the readers, which scale on consumer lag.
 */
/** Also what the operator uses for a stream without an ingest section. */
export const DEFAULT_COLLECTOR_SCALING = { minReplicas: 2, maxReplicas: 10, targetCPUUtilization: 70 };

export const collectorScaling = z
  .object({
    minReplicas: z.number().int().min(1).max(1000).default(2).describe("Fewest collector replicas. Default 2, so one can be disrupted while the other takes events."),
    maxReplicas: z.number().int().min(1).max(1000).default(10).describe("Most collector replicas."),
    targetCPUUtilization: z
      .number()
      .int()
      .min(10)
      .max(100)
      .default(70)
      .describe("Average CPU use, in percent of the collector's CPU request (500m), at which the HorizontalPodAutoscaler holds the collectors."),
  })
  .strict()
  .meta(cel({ rule: "self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas", fieldPath: ".minReplicas" }))
  .superRefine((s, ctx) => {
    if (s.minReplicas > s.maxReplicas) ctx.addIssue({ code: "custom", path: ["minReplicas"], message: "minReplicas must not exceed maxReplicas" });
  })
  .default(DEFAULT_COLLECTOR_SCALING)
  .describe("How many collectors run: a HorizontalPodAutoscaler on CPU between these bounds.");

export const ingest = z
  .object({
    enabled: z.boolean().default(true).describe("Whether the HTTP collector accepts events for this stream."),
    auth: z
      .object({ secretRef })
      .strict()
      .optional()
      .describe("API keys: a Secret whose keys are tenant ids and whose values are that tenant's bearer keys."),
    rateLimit: z
      .object({
        perTenantEventsPerSecond: z.number().int().min(1).max(10_000_000).describe("Sustained events per second allowed per tenant (token bucket)."),
        burst: z.number().int().min(1).max(100_000_000).optional().describe("Bucket size in events. Default: one second's worth."),
      })
      .strict()
      .optional()
      .describe("Per-tenant rate limit; excess requests get 429 with Retry-After."),
    limits: z
      .object({
        maxBodyBytes: z.number().int().min(1024).max(104_857_600).default(1_048_576).describe("Largest request body in bytes, after decompression (413 beyond)."),
        maxEventBytes: z.number().int().min(64).max(10_485_760).default(65_536).describe("Largest single event in bytes (rejected individually beyond)."),
        maxEventsPerRequest: z.number().int().min(1).max(100_000).default(1000).describe("Most events in one request (413 beyond)."),
      })
      .strict()
      .default({ maxBodyBytes: 1_048_576, maxEventBytes: 65_536, maxEventsPerRequest: 1000 })
      .describe("Size limits of the collector endpoint."),
    scaling: collectorScaling,
  })
  .strict()
  .describe("How the HTTP collector accepts events for this stream.");

export const eventStreamSpec = z
  .object({
    topic: topic.default({ partitions: 6, replicationFactor: 3, minInSyncReplicas: 2, retention: "7d", compression: "lz4" }),
    schema,
    keys,
    ingest: ingest.optional(),
    deadLetter: z
      .object({ topic: topicName("Dead-letter topic. Default: <topic>.dlq.").optional() })
      .strict()
      .optional()
      .describe("Where poison events go, with error headers. They never block a partition and never vanish."),
    deletionPolicy: deletionPolicy(
      "What deleting the stream does to its topics. Retain (default) keeps the topic and its dead-letter topic; Delete removes both. Tables belong to the Sinks and Aggregations that write them, each with its own deletionPolicy.",
    ),
    clusters: clusterRefs.optional(),
  })
  .strict()
  .meta(
    cel(
      { rule: "self.schema.fields.exists(f, f.name == self.keys.eventId)", message: "keys.eventId must name a field of the schema", fieldPath: ".keys.eventId" },
      { rule: "self.schema.fields.exists(f, f.name == self.keys.eventTime && f.type == 'timestamp')", message: "keys.eventTime must name a schema field of type timestamp", fieldPath: ".keys.eventTime" },
      { rule: "!has(self.keys.tenant) || self.schema.fields.exists(f, f.name == self.keys.tenant)", message: "keys.tenant must name a field of the schema", fieldPath: ".keys.tenant" },
      { rule: "!has(self.keys.partitionBy) || self.schema.fields.exists(f, f.name == self.keys.partitionBy)", message: "keys.partitionBy must name a field of the schema", fieldPath: ".keys.partitionBy" },
    ),
  )
  .superRefine((s, ctx) => {
    const byName = new Map(s.schema.fields.map((f) => [f.name, f]));
    const check = (key: "eventId" | "tenant" | "partitionBy") => {
      const name = s.keys[key];
      if (name !== undefined && !byName.has(name)) ctx.addIssue({ code: "custom", path: ["keys", key], message: `keys.${key} must name a field of the schema` });
    };
    check("eventId");
    check("tenant");
    check("partitionBy");
    if (byName.get(s.keys.eventTime)?.type !== "timestamp") {
      ctx.addIssue({ code: "custom", path: ["keys", "eventTime"], message: "keys.eventTime must name a schema field of type timestamp" });
    }
  })
  .describe("The desired topic, schema and ingest settings of an event stream.");

export const eventStreamStatus = z
  .object({
    ...statusBase,
    topic: z.string().optional().describe("The Kafka topic the operator manages for this stream."),
    partitions: z.number().int().optional().describe("Partitions the topic has in Kafka, as the operator last saw it; may differ from spec.topic.partitions while a change is refused."),
    schemaVersion: z.number().int().optional().describe("The schema version workers run with: the newest one that passed the compatibility check."),
    ingestUrl: z.string().optional().describe("In-cluster URL of the stream's collector: POST events here."),
  })
  .describe("What the operator observed and did.");

export type EventStreamSpec = z.output<typeof eventStreamSpec>;
export type EventStreamField = z.output<typeof field>;
