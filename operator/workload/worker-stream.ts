/**
 * The source stream as a sink or aggregation worker's config carries it: without the
 * partition count, which no worker reads (the consumer group learns partitions from Kafka),
 * so growing a topic changes no spec hash and rolls no pods.
 */
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";

export function workerStream(stream: CompiledStream): Omit<CompiledStream, "partitions"> {
  const { partitions: _unused, ...rest } = stream;
  return rest;
}
