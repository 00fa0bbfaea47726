/**
 * What every reconcile shares: API clients, the Kafka admin and ClickHouse client of the
 * default clusters (connected lazily, kept for the process), the clock and the logger.
 */
import * as k8s from "@kubernetes/client-node";
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import type { Admin } from "kafkajs";
import { kafkaClient } from "../runtime/kafka/client.js";
import { TopicSpecError } from "../runtime/kafka/ensure-topic.js";
import { detectServerFeatures, type ServerFeatures } from "../runtime/clickhouse/server-version.js";
import type { Logger } from "../runtime/log.js";
import { Applier } from "./apply.js";
import type { Clock } from "./clock.js";
import type { OperatorConfig } from "./config.js";
import { EventRecorder } from "./events.js";
import { Autoscaler } from "./autoscale/autoscaler.js";
import type { Writer } from "./table-cleanup.js";

export class OperatorContext {
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly autoscaler = new Autoscaler();
  readonly applier: Applier;
  readonly events: EventRecorder;
  private admin?: Promise<Admin>;
  /** Reconciles using each admin client right now (a dropped one is disconnected when this reaches zero). */
  private readonly adminUsers = new Map<Admin, number>();
  /**
   * Every Sink and Aggregation in the watched namespaces, from the informers' caches (set
   * by startOperator): deletion asks it whether a table is still written by someone else.
   */
  writers: () => Writer[] = () => [];
  private clickhouseClient?: ClickHouseClient;
  private features?: ServerFeatures;

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

  /** The admin client, connected on first use; a failed connect is retried on the next call. */
  kafkaAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = kafkaClient(this.config.kafkaBrokers, "sluice-operator").admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => {
        this.admin = undefined;
      });
    }
    return this.admin;
  }

  /**
   * Runs `fn` with the shared admin client, and throws the client away when `fn` fails
   * for a reason other than the spec (TopicSpecError: a refused shrink says nothing about
   * the client). kafkajs keeps every topic it was ever asked about in the client's
   * metadata targets and fails each later metadata refresh while one of them does not
   * exist: one missing or deleted topic would otherwise block every other stream's
   * reconcile (seen with the examples on a three-broker cluster). A fresh client starts
   * with no targets. A dropped client is disconnected only once the reconciles still
   * using it are done (disconnecting under them failed them with "write after end").
   */
  async withKafkaAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const pending = this.kafkaAdmin();
    const admin = await pending;
    this.adminUsers.set(admin, (this.adminUsers.get(admin) ?? 0) + 1);
    try {
      return await fn(admin);
    } catch (err) {
      if (!(err instanceof TopicSpecError) && this.admin === pending) this.admin = undefined;
      throw err;
    } finally {
      const left = this.adminUsers.get(admin)! - 1;
      if (left > 0) this.adminUsers.set(admin, left);
      else this.adminUsers.delete(admin);
      if (left === 0 && this.admin !== pending) await admin.disconnect().catch(() => {});
    }
  }

  /** Drops the admin client after deleting topics it knew about (see withKafkaAdmin). */
  async resetKafkaAdmin(): Promise<void> {
    const pending = this.admin;
    this.admin = undefined;
    const admin = await pending?.catch(() => undefined);
    if (admin && !this.adminUsers.has(admin)) await admin.disconnect().catch(() => {});
  }

  clickhouse(): ClickHouseClient {
    this.clickhouseClient ??= createClient({ url: this.config.clickhouseUrl, request_timeout: 30_000 });
    return this.clickhouseClient;
  }

  /** Server features, detected once per process (a server upgrade is picked up on restart). */
  async clickhouseFeatures(): Promise<ServerFeatures> {
    this.features ??= await detectServerFeatures(this.clickhouse());
    return this.features;
  }

  async close(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect().catch(() => {});
    await this.clickhouseClient?.close().catch(() => {});
  }
}
