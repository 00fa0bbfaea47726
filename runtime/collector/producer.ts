/**
 * The collector's Kafka producer: idempotent, acks=all, and never waiting forever.
 *
 * A request is answered 2xx only after Kafka acknowledged its events. When Kafka is down
 * or slow, the answer is 503 at the deadline, while the send itself may still be
 * retrying: `onSettled` fires only when it really ends, so the in-flight byte budget
 * keeps counting those bytes and memory stays bounded. (A send that completes after its
 * 503 duplicates the events the client retries; the event id dedupes them downstream.)
 */
import type { Message, Producer } from "kafkajs";
import { kafkaClient } from "../kafka/client.js";
import { IngestError, unavailable } from "./errors.js";

export interface ProducerOptions {
  brokers: string[];
  clientId: string;
  /** How long a request waits for Kafka's acknowledgement before answering 503. */
  timeoutMs: number;
}

export class EventProducer {
  private connectedNow = false;

  private constructor(
    private readonly producer: Producer,
    private readonly timeoutMs: number,
  ) {
    producer.on(producer.events.CONNECT, () => (this.connectedNow = true));
    producer.on(producer.events.DISCONNECT, () => (this.connectedNow = false));
  }

  static async connect(opts: ProducerOptions): Promise<EventProducer> {
    const producer = kafkaClient(opts.brokers, opts.clientId).producer({
      idempotent: true,
      // kafkajs retries an idempotent send forever by default; bounded retries let a send
      // against a dead cluster end, releasing its bytes. kafkajs warns once about this.
      retry: { retries: 5 },
    });
    const wrapped = new EventProducer(producer, opts.timeoutMs);
    await producer.connect();
    return wrapped;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /** Resolves when Kafka acknowledged every message; throws a 503 IngestError otherwise. */
  async send(topic: string, messages: Message[], onSettled: () => void): Promise<void> {
    const sending = this.producer.send({ topic, acks: -1, timeout: this.timeoutMs, messages });
    sending.then(onSettled, onSettled);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(`Kafka did not acknowledge within ${this.timeoutMs} ms; retry with the same event ids`, retryAfter(this.timeoutMs))), this.timeoutMs);
    });
    try {
      await Promise.race([sending, deadline]);
    } catch (err) {
      if (err instanceof IngestError) throw err;
      throw unavailable(`Kafka refused the events (${(err as Error).message}); retry with the same event ids`, 1);
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

function retryAfter(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 2000));
}
