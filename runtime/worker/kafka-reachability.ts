/**
 * Readiness that follows Kafka. librdkafka retries an unreachable broker forever, so a
 * sink or aggregation cut off from Kafka would otherwise stay Ready while doing nothing.
 * Every `intervalMs` this opens a TCP connection to the bootstrap brokers; after `graceMs`
 * without any broker answering, the worker reports NotReady (its pod leaves the Service
 * and `kubectl get pods` shows it), and the first broker that answers again makes it Ready.
 * Liveness is not touched: restarting a worker does not bring Kafka back.
 */
import { connect } from "node:net";

export interface KafkaReachability {
  reachable(): boolean;
  /** When a broker last accepted a connection (ms since the epoch). */
  lastAnswerMs(): number;
  stop(): void;
}

export function watchKafkaReachability(brokers: string[], o: { intervalMs?: number; timeoutMs?: number; graceMs?: number } = {}): KafkaReachability {
  const intervalMs = o.intervalMs ?? 5_000;
  const timeoutMs = o.timeoutMs ?? 3_000;
  const graceMs = o.graceMs ?? 15_000;
  let lastSeen = Date.now();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (await anyAnswers(brokers, timeoutMs)) lastSeen = Date.now();
    if (!stopped) timer = setTimeout(() => void check(), intervalMs).unref();
  };
  void check();
  return {
    reachable: () => Date.now() - lastSeen <= graceMs,
    lastAnswerMs: () => lastSeen,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** Whether any `host:port` accepts a TCP connection within `timeoutMs`. */
export async function anyAnswers(brokers: string[], timeoutMs: number): Promise<boolean> {
  const results = await Promise.all(brokers.map((b) => acceptsConnection(b, timeoutMs)));
  return results.some(Boolean);
}

/** Whether `host:port` accepts a TCP connection within `timeoutMs`. */
export function acceptsConnection(address: string, timeoutMs: number): Promise<boolean> {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(address.slice(colon + 1)), timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}
