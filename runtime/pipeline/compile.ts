/**
 * Turns validated manifests into a CompiledPipeline: pure, so `sluice run`, the workers
 * and the operator all derive the same topic names, tables and consumer groups.
 */
import type { SinkSpec } from "../../api/sink.js";
import type { EventStreamSpec } from "../../api/eventstream.js";
import { parseDuration } from "../../api/duration.js";
import type { CompiledPipeline, CompiledSink, CompiledStream } from "./compiled.js";

export interface Manifest<S> {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: S;
}

export class PipelineError extends Error {
  constructor(message: string, readonly resource: string) {
    super(`${resource}: ${message}`);
  }
}

export function compileStream(m: Manifest<EventStreamSpec>, defaultNamespace = "default"): CompiledStream {
  const s = m.spec;
  const namespace = m.metadata.namespace ?? defaultNamespace;
  const topic = s.topic.name ?? `${namespace}.${m.metadata.name}`;
  const burst = s.ingest?.rateLimit?.burst ?? s.ingest?.rateLimit?.perTenantEventsPerSecond;
  return {
    namespace,
    name: m.metadata.name,
    topic,
    deadLetterTopic: s.deadLetter?.topic ?? `${topic}.dlq`,
    partitions: s.topic.partitions,
    replicationFactor: s.topic.replicationFactor,
    minInSyncReplicas: s.topic.minInSyncReplicas,
    retentionMs: parseDuration(s.topic.retention),
    compression: s.topic.compression,
    schema: { version: s.schema.version, strict: s.schema.strict, fields: s.schema.fields.map((f) => ({ ...f })) },
    keys: { ...s.keys, partitionBy: s.keys.partitionBy ?? s.keys.eventId },
    ingest: {
      enabled: s.ingest?.enabled ?? true,
      authSecret: s.ingest?.auth?.secretRef.name,
      rateLimit: s.ingest?.rateLimit ? { eventsPerSecond: s.ingest.rateLimit.perTenantEventsPerSecond, burst: burst! } : undefined,
      maxBodyBytes: s.ingest?.limits.maxBodyBytes ?? 1_048_576,
      maxEventBytes: s.ingest?.limits.maxEventBytes ?? 65_536,
      maxEventsPerRequest: s.ingest?.limits.maxEventsPerRequest ?? 1000,
    },
    deletionPolicy: s.deletionPolicy,
  };
}

export function compileSink(m: Manifest<SinkSpec>, streams: CompiledStream[], defaultNamespace = "default"): CompiledSink {
  const namespace = m.metadata.namespace ?? defaultNamespace;
  const id = `Sink ${namespace}/${m.metadata.name}`;
  const s = m.spec;
  if (!s.source.stream) throw new PipelineError("sinks of aggregation results are not supported yet", id);
  const stream = streams.find((st) => st.namespace === namespace && st.name === s.source.stream);
  if (!stream) throw new PipelineError(`source stream "${s.source.stream}" not found in namespace ${namespace}`, id);
  const columns = new Set(stream.schema.fields.map((f) => f.name));
  const orderBy = s.clickhouse.orderBy ?? [stream.keys.tenant, stream.keys.eventTime, stream.keys.eventId].filter((c): c is string => !!c);
  for (const c of orderBy) if (!columns.has(c)) throw new PipelineError(`orderBy column "${c}" is not a field of stream ${stream.name}`, id);
  // The table deduplicates on its sorting key, so the event id must be part of it.
  if (!orderBy.includes(stream.keys.eventId)) orderBy.push(stream.keys.eventId);
  return {
    namespace,
    name: m.metadata.name,
    stream,
    groupId: `sluice.${namespace}.sink.${m.metadata.name}`,
    database: s.clickhouse.database,
    table: s.clickhouse.table,
    orderBy,
    partitionBy: s.clickhouse.partitionBy ?? `toYYYYMMDD(${stream.keys.eventTime})`,
    retentionMs: parseDuration(s.clickhouse.retention),
    batching: { maxRows: s.batching.maxRows, maxBytes: s.batching.maxBytes, maxDelayMs: parseDuration(s.batching.maxDelay) },
    scaling: { ...s.scaling },
  };
}
