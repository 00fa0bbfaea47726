/**
 * Which Kafka and ClickHouse a resource lives on, from its `spec.clusters` and the clusters
 * the operator is configured with. Pure, so the rules are unit-tested:
 * - an EventStream picks its Kafka; it writes no table, so it names no ClickHouse;
 * - a Sink or Aggregation reads its stream where the stream is: its Kafka is the stream's
 *   (naming another is refused), and it picks its own ClickHouse. Tables are placed by the
 *   reader's own spec only, so deleting it never has to guess where its tables are.
 * Any name the operator is not configured with is refused: a resource is never quietly
 * placed on the default cluster instead of the one it asked for.
 */
import type { OperatorConfig } from "./config.js";

export const DEFAULT_CLUSTER = "default";

export interface ClusterRefs {
  kafka?: string;
  clickhouse?: string;
}

export type Placed<T> = { ok: true } & T | { ok: false; message: string };

type Clusters = Pick<OperatorConfig, "kafkaClusters" | "clickhouseClusters">;

function unknown(config: Clusters, system: "kafka" | "clickhouse", name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const known = Object.keys(system === "kafka" ? config.kafkaClusters : config.clickhouseClusters);
  if (known.includes(name)) return undefined;
  return `spec.clusters.${system}: no ${system === "kafka" ? "Kafka" : "ClickHouse"} cluster "${name}" in the operator configuration (configured: ${known.join(", ")})`;
}

export function streamPlacement(refs: ClusterRefs | undefined, config: Clusters): Placed<{ kafka: string }> {
  if (refs?.clickhouse !== undefined) {
    return { ok: false, message: "spec.clusters.clickhouse: an EventStream writes no table; set spec.clusters.clickhouse on the Sinks and Aggregations that read it" };
  }
  const problem = unknown(config, "kafka", refs?.kafka);
  return problem ? { ok: false, message: problem } : { ok: true, kafka: refs?.kafka ?? DEFAULT_CLUSTER };
}

export function readerPlacement(refs: ClusterRefs | undefined, stream: { name: string; kafka: string }, config: Clusters): Placed<{ kafka: string; clickhouse: string }> {
  const problems = [unknown(config, "kafka", refs?.kafka), unknown(config, "clickhouse", refs?.clickhouse)].filter((p): p is string => p !== undefined);
  if (problems.length > 0) return { ok: false, message: problems.join("; ") };
  if (refs?.kafka !== undefined && refs.kafka !== stream.kafka) {
    return { ok: false, message: `spec.clusters.kafka: EventStream ${stream.name} is on Kafka cluster "${stream.kafka}", and a reader reads its stream where it is (leave spec.clusters.kafka out)` };
  }
  return { ok: true, kafka: stream.kafka, clickhouse: refs?.clickhouse ?? DEFAULT_CLUSTER };
}

/** Where a reader's tables are: its own choice, else the default. Needs no stream (deletion). */
export function readerClickHouse(refs: ClusterRefs | undefined): string {
  return refs?.clickhouse ?? DEFAULT_CLUSTER;
}

/** The addresses a worker of this placement is given (its Deployment's environment). */
export function endpoints(config: Clusters, placement: { kafka: string; clickhouse?: string }): { kafkaBrokers: string[]; clickhouseUrl: string } {
  return { kafkaBrokers: config.kafkaClusters[placement.kafka]!, clickhouseUrl: config.clickhouseClusters[placement.clickhouse ?? DEFAULT_CLUSTER]! };
}
