/**
 * The source stream as a sink or aggregation worker's config carries it: without the
 * partition count, which no worker reads (the consumer group learns partitions from Kafka),
 * and without the ingest settings, which only the collector reads. So growing a topic or
 * changing ingest limits changes no reader's spec hash and rolls no reader's pods.
 */
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";

export function workerStream(stream: CompiledStream): Omit<CompiledStream, "partitions" | "ingest"> {
  const { partitions: _partitions, ingest: _ingest, ...rest } = stream;
  return rest;
}
