/**
 * Operator configuration: flags and environment parsed once, defaults applied, units made
 * explicit. Nothing downstream handles "unset" or "30s".
 */
import { parseDuration } from "../api/duration.js";

export interface OperatorConfig {
  /** Kafka bootstrap servers of the default cluster. */
  kafkaBrokers: string[];
  /** ClickHouse HTTP URL of the default cluster. */
  clickhouseUrl: string;
  /** Every Kafka cluster a resource may name in spec.clusters.kafka, "default" included. */
  kafkaClusters: Record<string, string[]>;
  /** Every ClickHouse a resource may name in spec.clusters.clickhouse, "default" included. */
  clickhouseClusters: Record<string, string>;
  /** Image the sink and aggregation workers run. */
  workerImage: string;
  /** Namespaces watched; empty means every namespace (cluster-wide informers). */
  namespaces: string[];
  /** Every object is reconciled at least this often, even without a change (drift repair). */
  resyncPeriodMs: number;
  /** How often a worker's lag is sampled and its replicas decided. */
  autoscaleIntervalMs: number;
  /** Rates (incoming, consumed) are measured over this much recent history. */
  autoscaleLookbackMs: number;
  /** A rebalance or pod start-up holds decisions at most this long. */
  autoscaleSettleTimeoutMs: number;
  /** Reconciles running at once, across all keys (one key is never reconciled twice at once). */
  workers: number;
  /** Requeue backoff after a transient failure: base * 2^(failures-1), capped at max. */
  backoff: { baseMs: number; maxMs: number };
  /** One active replica at a time, elected on a Lease; off for a single local process. */
  leaderElection: { enabled: boolean; namespace: string; leaseName: string; identity: string };
}

/** What the command line (or Helm values rendered into flags) may set; all optional. */
export interface OperatorConfigInput {
  kafka?: string;
  clickhouse?: string;
  /** Further named Kafka clusters, each "name=host:port,host:port". */
  kafkaCluster?: string[];
  /** Further named ClickHouse servers, each "name=url". */
  clickhouseCluster?: string[];
  workerImage?: string;
  namespace?: string[];
  resync?: string;
  autoscaleInterval?: string;
  autoscaleLookback?: string;
  autoscaleSettleTimeout?: string;
  workers?: string | number;
  backoffBase?: string;
  backoffMax?: string;
  /** Default on: replicas of a Deployment must not reconcile concurrently. */
  leaderElect?: boolean;
  leaderElectionNamespace?: string;
  /** Name of the Lease: distinct per operator sharing a namespace (the chart uses the release name). */
  leaderElectionId?: string;
}

export class ConfigError extends Error {}

export const DEFAULT_WORKER_IMAGE = "ghcr.io/sluice-dev/sluice:0.1.0";

export function compileConfig(input: OperatorConfigInput, env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const kafka = input.kafka ?? env.KAFKA_BROKERS;
  const clickhouse = input.clickhouse ?? env.CLICKHOUSE_URL;
  if (!kafka) throw new ConfigError("the operator needs Kafka: pass --kafka or set KAFKA_BROKERS");
  if (!clickhouse) throw new ConfigError("the operator needs ClickHouse: pass --clickhouse or set CLICKHOUSE_URL");
  const namespaces = (input.namespace ?? (env.SLUICE_WATCH_NAMESPACES ?? "").split(","))
    .flatMap((n) => n.split(","))
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const workers = Number(input.workers ?? 4);
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`--workers must be a positive integer, got "${input.workers}"`);
  const kafkaBrokers = brokerList(kafka);
  return {
    kafkaBrokers,
    clickhouseUrl: clickhouse,
    kafkaClusters: { default: kafkaBrokers, ...namedClusters("--kafka-cluster", input.kafkaCluster, brokerList) },
    clickhouseClusters: { default: clickhouse, ...namedClusters("--clickhouse-cluster", input.clickhouseCluster, (url) => url) },
    workerImage: input.workerImage ?? env.SLUICE_WORKER_IMAGE ?? DEFAULT_WORKER_IMAGE,
    namespaces: [...new Set(namespaces)],
    resyncPeriodMs: durationFlag("--resync", input.resync ?? "5m"),
    autoscaleIntervalMs: durationFlag("--autoscale-interval", input.autoscaleInterval ?? "5s"),
    autoscaleLookbackMs: durationFlag("--autoscale-lookback", input.autoscaleLookback ?? "30s"),
    autoscaleSettleTimeoutMs: durationFlag("--autoscale-settle-timeout", input.autoscaleSettleTimeout ?? "2m"),
    workers,
    backoff: { baseMs: durationFlag("--backoff-base", input.backoffBase ?? "500ms"), maxMs: durationFlag("--backoff-max", input.backoffMax ?? "5m") },
    leaderElection: {
      enabled: input.leaderElect ?? true,
      // In a pod, the Downward API gives POD_NAMESPACE and HOSTNAME is the pod name.
      namespace: input.leaderElectionNamespace ?? env.POD_NAMESPACE ?? "default",
      leaseName: leaseName(input.leaderElectionId ?? "sluice-operator"),
      identity: `${env.HOSTNAME ?? "local"}-${process.pid}`,
    },
  };
}

const brokerList = (text: string) => text.split(",").map((b) => b.trim()).filter(Boolean);

/** "name=value" flags into a map; "default" is what --kafka/--clickhouse set, so it is reserved. */
function namedClusters<T>(flag: string, entries: string[] = [], parse: (value: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const entry of entries) {
    const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)=(.+)$/.exec(entry.trim());
    if (!m) throw new ConfigError(`${flag} must be name=address with a lowercase DNS-label name, got "${entry}"`);
    const [, name, , value] = m as unknown as [string, string, string, string];
    if (name === "default") throw new ConfigError(`${flag}: "default" is the cluster --kafka/--clickhouse configure; name the others`);
    if (name in out) throw new ConfigError(`${flag}: cluster "${name}" is given twice`);
    out[name] = parse(value);
  }
  return out;
}

/** A Lease is named like any object: a DNS subdomain. */
function leaseName(name: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new ConfigError(`--leader-election-id must be a lowercase DNS name (a Lease name), got "${name}"`);
  return name;
}

function durationFlag(flag: string, text: string): number {
  try {
    const ms = parseDuration(text);
    if (!Number.isFinite(ms) || ms <= 0) throw new Error("must be positive");
    return ms;
  } catch {
    throw new ConfigError(`${flag} must be a positive duration such as 30s or 5m, got "${text}"`);
  }
}
