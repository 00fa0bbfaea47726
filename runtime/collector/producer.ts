/**
 * The collector's Kafka producer: idempotent, acks=all, never waiting forever, and never
 * left wedged.
 *
 * A request is answered 2xx only after Kafka acknowledged every one of its events. When
 * Kafka is down or slow, the answer is 503 at the deadline, while the send itself may
 * still be retrying: `onSettled` fires only when it really ends, so the in-flight byte
 * budget keeps counting those bytes and memory stays bounded. (A send that completes
 * after its 503 duplicates the events the client retries; the event id dedupes them.)
 *
 * A producer whose idempotence state is broken for good (librdkafka's fatal error, or the
 * broker refusing its sequence numbers or epoch) fails every later send. Such a producer
 * is replaced by a fresh one, with a new producer id, without restarting the process;
 * the replacement is logged and counted.
 */
import type { KafkaProducer, OutMessage } from "../kafka/port.js";
import { isFatalProducerError } from "../kafka/errors.js";
import { kafkaClient } from "../kafka/client.js";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import { IngestError, unavailable } from "./errors.js";

export interface ProducerOptions {
  brokers: string[];
  clientId: string;
  /** How long a request waits for Kafka's acknowledgement before answering 503. */
  timeoutMs: number;
  log?: Logger;
  /** Called each time a wedged producer is replaced. */
  onReplaced?: (reason: string) => void;
  /** Makes the Kafka producer; tests may pass another adapter of the port. */
  create?: () => KafkaProducer;
}

export class EventProducer {
  private current: Promise<KafkaProducer>;
  private replacing = false;
  private ready = false;

  private constructor(private readonly opts: ProducerOptions) {
    this.current = this.open();
  }

  static async connect(opts: ProducerOptions): Promise<EventProducer> {
    const p = new EventProducer(opts);
    await p.current;
    return p;
  }

  /** Connected and not being replaced. */
  get connected(): boolean {
    return this.ready && !this.replacing;
  }

  private make(): KafkaProducer {
    // Records that miss the request deadline go on being retried for a while; they end at
    // twice the deadline at most, so the bytes they hold are released.
    return this.opts.create?.() ?? kafkaClient(this.opts.brokers, this.opts.clientId).producer({ deliveryTimeoutMs: Math.max(5_000, this.opts.timeoutMs * 2) });
  }

  private async open(): Promise<KafkaProducer> {
    const producer = this.make();
    await producer.connect();
    this.ready = true;
    return producer;
  }

  /** Resolves when Kafka acknowledged every message; throws a 503 IngestError otherwise. */
  async send(topic: string, messages: OutMessage[], onSettled: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(`Kafka did not acknowledge within ${this.opts.timeoutMs} ms; retry with the same event ids`, retryAfter(this.opts.timeoutMs))), this.opts.timeoutMs);
    });
    let sending: Promise<void> | undefined;
    try {
      // The deadline covers waiting for a replacement producer too.
      const producer = await Promise.race([this.current, deadline]);
      sending = producer.send({ topic, messages });
      sending.then(onSettled, (err: unknown) => {
        onSettled();
        if (isFatalProducerError(err)) this.replace(producer, (err as Error).message);
      });
      await Promise.race([sending, deadline]);
    } catch (err) {
      // Nothing was handed to Kafka: nothing will settle later.
      if (!sending) onSettled();
      if (err instanceof IngestError) throw err;
      throw unavailable(`Kafka refused the events (${(err as Error).message}); retry with the same event ids`, 1);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Swaps in a new producer once per broken one; sends in flight on the old one end on their own. */
  private replace(broken: KafkaProducer, reason: string): void {
    if (this.replacing) return;
    void this.current.then((now) => {
      if (now !== broken || this.replacing) return;
      this.replacing = true;
      (this.opts.log ?? silentLogger).warn("kafka producer replaced", { reason });
      this.opts.onReplaced?.(reason);
      const next = this.openWithRetry();
      this.current = next;
      void next.finally(() => (this.replacing = false));
      void broken.disconnect().catch(() => {});
    });
  }

  private async openWithRetry(): Promise<KafkaProducer> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await this.open();
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async disconnect(): Promise<void> {
    this.ready = false;
    await (await this.current).disconnect();
  }
}

function retryAfter(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 2000));
}
