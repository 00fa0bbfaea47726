/**
 * How a librdkafka consumer prefetches: the settings the port's consumer (consumer.ts) and
 * the bare read loop it is measured against (read-loop.ts) share.
 *
 * Bounded prefetch. librdkafka's defaults keep up to 100,000 records per partition and
 * 64 MiB queued, plus 50 MiB fetch responses: a worker that starts on a backlog (a new
 * sink, a replay, the minutes after an outage) held hundreds of MiB in native memory
 * besides its own buffers, and pods with a 512Mi limit were OOM-killed at every restart
 * (test/e2e/on-node.test.ts, Kafka cut off from a sink under load).
 *
 * A short backoff at those bounds. The bounds count the consumer's one queue, all
 * partitions together, and once it holds either of them librdkafka postpones every
 * partition's next fetch by `fetch.queue.backoff.ms`, 1,000 ms by default. A worker that
 * reads faster than that queue refills then sits idle with Kafka full of records: a bare
 * read of 200k records took 12.3 s of wall time with the default and 2.0-2.7 s with 10-200 ms,
 * at the same CPU (`.probe`-style read loop, 12 partitions, in the note of issue 14). In a
 * worker under load the stall is latency: a sink that fell a second behind lost another
 * second before its next fetch. The queue still never holds more than the bounds and one
 * fetch response: the backoff only decides how soon the bounds are looked at again.
 */
export const FETCH_QUEUE_BACKOFF_MS = 50;

export function fetchConfig(maxWaitMs: number): Record<string, number> {
  return {
    "fetch.wait.max.ms": maxWaitMs,
    "queued.min.messages": 10_000,
    "queued.max.messages.kbytes": 16_384,
    "fetch.max.bytes": 8 << 20,
    "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
  };
}
