/**
 * What every reconcile shares: API clients, a Kafka admin and a ClickHouse client per
 * configured cluster (connected lazily, kept for the process), the clock and the logger.
 */
import * as k8s from "@kubernetes/client-node";
import type { ClickHouseClient } from "@clickhouse/client";
import { clickhouseClient } from "../runtime/clickhouse/client.js";
import type { KafkaAdmin as Admin } from "../runtime/kafka/port.js";
import { detectServerFeatures, type ServerFeatures } from "../runtime/clickhouse/server-version.js";
import type { Logger } from "../runtime/log.js";
import { Applier } from "./apply.js";
import type { Clock } from "./clock.js";
import type { OperatorConfig } from "./config.js";
import { EventRecorder } from "./events.js";
import { Autoscaler } from "./autoscale/autoscaler.js";
import type { AutoscaleMetrics } from "./autoscale/metrics.js";
import { DEFAULT_CLUSTER } from "./clusters.js";
import { KafkaAdminPool } from "./kafka-admin-pool.js";
import type { Writer } from "./table-cleanup.js";
import type { Obj } from "./informer.js";

export class OperatorContext {
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly autoscaler = new Autoscaler();
  /** Set by startOperator when it serves metrics. */
  autoscaleMetrics?: AutoscaleMetrics;
  readonly applier: Applier;
  readonly events: EventRecorder;
  private readonly kafkaPools = new Map<string, KafkaAdminPool>();
  /**
   * Every Sink and Aggregation in the watched namespaces, from the informers' caches (set
   * by startOperator): deletion asks it whether a table is still written by someone else.
   */
  writers: () => Writer[] = () => [];
  /** Every EventStream in the watched namespaces (set by startOperator): who owns which topic. */
  streams: () => Obj[] = () => [];
  private readonly clickhouseClients = new Map<string, ClickHouseClient>();
  private readonly features = new Map<string, ServerFeatures>();

  constructor(kc: k8s.KubeConfig, readonly config: OperatorConfig, readonly clock: Clock, readonly log: Logger) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.applier = new Applier(kc);
    this.events = new EventRecorder(this.core, log, () => this.now());
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  /** The admin client of a Kafka cluster (see KafkaAdminPool), connected on first use. */
  withKafkaAdmin<T>(fn: (admin: Admin) => Promise<T>, cluster = DEFAULT_CLUSTER): Promise<T> {
    return this.kafkaPool(cluster).withAdmin(fn);
  }

  /** Drops a cluster's admin client after deleting topics it knew about (see KafkaAdminPool). */
  resetKafkaAdmin(cluster = DEFAULT_CLUSTER): Promise<void> {
    return this.kafkaPool(cluster).reset();
  }

  clickhouse(cluster = DEFAULT_CLUSTER): ClickHouseClient {
    let client = this.clickhouseClients.get(cluster);
    if (!client) {
      client = clickhouseClient({ url: this.clusterValue(this.config.clickhouseClusters, "ClickHouse", cluster), requestTimeoutMs: 30_000 });
      this.clickhouseClients.set(cluster, client);
    }
    return client;
  }

  /** Server features, detected once per process and server (an upgrade is picked up on restart). */
  async clickhouseFeatures(cluster = DEFAULT_CLUSTER): Promise<ServerFeatures> {
    let features = this.features.get(cluster);
    if (!features) {
      features = await detectServerFeatures(this.clickhouse(cluster));
      this.features.set(cluster, features);
    }
    return features;
  }

  private kafkaPool(cluster: string): KafkaAdminPool {
    let pool = this.kafkaPools.get(cluster);
    if (!pool) {
      pool = new KafkaAdminPool(this.clusterValue(this.config.kafkaClusters, "Kafka", cluster));
      this.kafkaPools.set(cluster, pool);
    }
    return pool;
  }

  /** Names are checked against the configuration before any step runs; this is the backstop. */
  private clusterValue<T>(clusters: Record<string, T>, what: string, name: string): T {
    const value = clusters[name];
    if (value === undefined) throw new Error(`no ${what} cluster "${name}" in the operator configuration`);
    return value;
  }

  async close(): Promise<void> {
    for (const pool of this.kafkaPools.values()) await pool.close();
    for (const client of this.clickhouseClients.values()) await client.close().catch(() => {});
  }
}
