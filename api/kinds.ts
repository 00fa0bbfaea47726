/**
 * The three kinds and everything the CRD needs besides the spec schema: names, printer
 * columns, subresources. The CRD generator and the validators both read this table.
 */
import { z } from "zod";
import { API_VERSION } from "./common.js";
import { aggregationSpec, aggregationStatus } from "./aggregation.js";
import { eventStreamSpec, eventStreamStatus } from "./eventstream.js";
import { sinkSpec, sinkStatus } from "./sink.js";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDef {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  /** Kinds that run workers expose the scale subresource so HPA/KEDA can drive them. */
  scalable: boolean;
  columns: PrinterColumn[];
}

const ready: PrinterColumn = { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "Whether everything the resource declares is in place." };
// Shown by default (no priority): READY False without the why sends users to describe.
const reason: PrinterColumn = { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: "Why it is or is not ready." };
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since creation." };
const replicas: PrinterColumn = { name: "Replicas", type: "integer", jsonPath: ".status.replicas", description: "Worker replicas running." };
const lag: PrinterColumn = { name: "Lag", type: "integer", jsonPath: ".status.lagMessages", description: "Consumer lag in messages." };
const lagSeconds: PrinterColumn = { name: "Lag-Seconds", type: "number", jsonPath: ".status.lagSeconds", description: "Consumer lag in seconds.", priority: 1 };

export const KINDS: KindDef[] = [
  {
    kind: "EventStream",
    plural: "eventstreams",
    singular: "eventstream",
    shortNames: ["es", "stream"],
    description: "EventStream is one Kafka topic plus the schema of its events and how the HTTP collector accepts them.",
    spec: eventStreamSpec,
    status: eventStreamStatus,
    scalable: false,
    columns: [
      ready,
      { name: "Topic", type: "string", jsonPath: ".status.topic", description: "The Kafka topic." },
      // From status: the spec can ask for fewer than Kafka has (a refused shrink).
      { name: "Partitions", type: "integer", jsonPath: ".status.partitions", description: "Partitions the topic has in Kafka." },
      { name: "Schema", type: "integer", jsonPath: ".status.schemaVersion", description: "Schema version in use." },
      reason,
      age,
    ],
  },
  {
    kind: "Aggregation",
    plural: "aggregations",
    singular: "aggregation",
    shortNames: ["agg"],
    description: "Aggregation computes event-time windows over a stream with watermarks, allowed lateness and early firings, and writes them to ClickHouse.",
    spec: aggregationSpec,
    status: aggregationStatus,
    scalable: true,
    columns: [
      ready,
      { name: "Source", type: "string", jsonPath: ".spec.source.stream", description: "The stream aggregated." },
      { name: "Window", type: "string", jsonPath: ".spec.window.type", description: "Window type." },
      replicas,
      lag,
      lagSeconds,
      reason,
      age,
    ],
  },
  {
    kind: "Sink",
    plural: "sinks",
    singular: "sink",
    shortNames: ["sk"],
    description: "Sink moves a stream, or an aggregation's results, into ClickHouse with effectively-once writes.",
    spec: sinkSpec,
    status: sinkStatus,
    scalable: true,
    columns: [
      ready,
      { name: "Stream", type: "string", jsonPath: ".spec.source.stream", description: "The stream written, if the source is a stream." },
      { name: "Table", type: "string", jsonPath: ".spec.clickhouse.table", description: "The ClickHouse table." },
      replicas,
      lag,
      lagSeconds,
      reason,
      age,
    ],
  },
];

export const kindByName = new Map(KINDS.map((k) => [k.kind, k]));

/** Metadata as the validators see it: a name is required, everything else is the API server's. */
export const objectMeta = z
  .object({
    name: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a lowercase RFC 1123 name"),
    namespace: z.string().max(63).optional(),
  })
  .passthrough();

/** A whole manifest of one kind, as written in a file. */
export function manifestSchema(def: KindDef) {
  return z
    .object({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal(def.kind),
      metadata: objectMeta,
      spec: def.spec,
      status: def.status.optional(),
    })
    .strict();
}
