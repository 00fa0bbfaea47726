/**
 * The clickstream example compiled for one benchmark: a random namespace gives it its own
 * topics, and its table lives in the run's private database. The example's per-tenant
 * rate limit is removed: the benchmark measures the collector's capacity, not the limit.
 */
import { join } from "node:path";
import type { KafkaAdmin } from "../runtime/kafka/port.js";
import { loadPipeline } from "../runtime/pipeline/load.js";
import type { CompiledPipeline, CompiledSink, CompiledStream } from "../runtime/pipeline/compiled.js";
import { provisionTopics } from "../runtime/pipeline/provision-topics.js";
import { repoRoot } from "../testbed/paths.js";

export interface BenchPipeline {
  stream: CompiledStream;
  sink: CompiledSink;
  secrets: CompiledPipeline["secrets"];
  tenants: Record<string, string>;
}

export function benchPipeline(namespace: string, database: string, table: string): BenchPipeline {
  const p = loadPipeline([join(repoRoot, "examples", "clickstream")], namespace);
  const declared = p.streams[0]!;
  // The example names its dead-letter topic outright (shared by every namespace): give the
  // bench its own, so nothing the bench creates or deletes is anyone else's.
  const stream: CompiledStream = { ...declared, deadLetterTopic: `${declared.topic}.dlq`, ingest: { ...declared.ingest, rateLimit: undefined } };
  const sink: CompiledSink = { ...p.sinks[0]!, stream, database, table };
  const tenants = p.secrets.get(stream.ingest.authSecret!)!;
  return { stream, sink, secrets: p.secrets, tenants };
}

/** Creates the stream's topic and DLQ as `sluice run` would (replication clamped to the testbed's brokers). */
export async function provision(admin: KafkaAdmin, p: BenchPipeline): Promise<void> {
  await provisionTopics(admin, [p.stream], { clampToBrokers: true });
}
