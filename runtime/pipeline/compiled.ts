/**
 * The compiled pipeline: specs with defaults applied, references resolved and units made
 * explicit (milliseconds, bytes), so nothing downstream handles "unset" or "7d".
 */
import type { EventStreamField } from "../../api/eventstream.js";
import type { CompiledAggregationJob } from "../aggregation-worker/job.js";

export type FieldType = EventStreamField["type"];

export interface CompiledField {
  name: string;
  type: FieldType;
  required: boolean;
  description?: string;
}

export interface CompiledStream {
  namespace: string;
  name: string;
  topic: string;
  deadLetterTopic: string;
  partitions: number;
  replicationFactor: number;
  minInSyncReplicas: number;
  retentionMs: number;
  compression: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  schema: { version: number; strict: boolean; fields: CompiledField[] };
  keys: { eventId: string; eventTime: string; tenant?: string; partitionBy: string };
  ingest: {
    enabled: boolean;
    /** Name of the Secret holding tenant -> API key; undefined means no auth (local only). */
    authSecret?: string;
    rateLimit?: { eventsPerSecond: number; burst: number };
    maxBodyBytes: number;
    maxEventBytes: number;
    maxEventsPerRequest: number;
  };
  deletionPolicy: "Retain" | "Delete";
}

export interface CompiledSink {
  namespace: string;
  name: string;
  stream: CompiledStream;
  /** Kafka consumer group: stable per sink, so a restart resumes at committed offsets. */
  groupId: string;
  database: string;
  table: string;
  /** Always ends with the event id column: the table's dedupe key. */
  orderBy: string[];
  partitionBy: string;
  retentionMs: number;
  batching: { maxRows: number; maxBytes: number; maxDelayMs: number };
  scaling: { minReplicas: number; maxReplicas: number; targetLagSeconds: number; scaleDownStabilizationSeconds: number; replicas?: number };
}

export interface CompiledPipeline {
  streams: CompiledStream[];
  sinks: CompiledSink[];
  aggregations: CompiledAggregationJob[];
  /** Secrets found beside the manifests (sluice run): name -> key -> value. */
  secrets: Map<string, Record<string, string>>;
}
