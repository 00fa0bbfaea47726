/**
 * The operator's admin client for one Kafka cluster, shared by the reconciles.
 *
 * `withAdmin` throws the client away when `fn` fails for a reason other than the spec
 * (TopicSpecError: a refused shrink says nothing about the client). The admin client
 * (kafkajs) keeps every topic it was ever asked about in its metadata targets and fails each later
 * metadata refresh while one of them does not exist: one missing or deleted topic would
 * otherwise block every other stream's reconcile (seen with the examples on a three-broker
 * cluster). A fresh client starts with no targets. A dropped client is disconnected only
 * once the reconciles still using it are done (disconnecting under them failed them with
 * "write after end").
 */
import type { KafkaAdmin as Admin } from "../runtime/kafka/port.js";
import { kafkaClient } from "../runtime/kafka/client.js";
import { TopicSpecError } from "../runtime/kafka/ensure-topic.js";

export class KafkaAdminPool {
  private admin?: Promise<Admin>;
  /** Reconciles using each admin client right now (a dropped one is disconnected when this reaches zero). */
  private readonly users = new Map<Admin, number>();

  constructor(private readonly brokers: string[]) {}

  /** The admin client, connected on first use; a failed connect is retried on the next call. */
  private connect(): Promise<Admin> {
    if (!this.admin) {
      const admin = kafkaClient(this.brokers, "sluice-operator").admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => {
        this.admin = undefined;
      });
    }
    return this.admin;
  }

  async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const pending = this.connect();
    const admin = await pending;
    this.users.set(admin, (this.users.get(admin) ?? 0) + 1);
    try {
      return await fn(admin);
    } catch (err) {
      if (!(err instanceof TopicSpecError) && this.admin === pending) this.admin = undefined;
      throw err;
    } finally {
      const left = this.users.get(admin)! - 1;
      if (left > 0) this.users.set(admin, left);
      else this.users.delete(admin);
      if (left === 0 && this.admin !== pending) await admin.disconnect().catch(() => {});
    }
  }

  /** Drops the client after deleting topics it knew about (see above). */
  async reset(): Promise<void> {
    const pending = this.admin;
    this.admin = undefined;
    const admin = await pending?.catch(() => undefined);
    if (admin && !this.users.has(admin)) await admin.disconnect().catch(() => {});
  }

  async close(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect().catch(() => {});
  }
}
