/**
 * The HTTP collector: accepts events over HTTP and answers 2xx only once Kafka holds
 * them (acks=all). See README.md beside this file for the endpoint and its limits.
 *
 *   const collector = await startCollector({ streams, secrets, kafkaBrokers, registry });
 *   // POST ${collector.url}/v1/streams/page-views/events
 *   await collector.stop(); // finishes in-flight requests, then disconnects from Kafka
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { v7 as uuidv7 } from "uuid";
import { silentLogger } from "../log.js";
import type { IngestContext } from "./handle-ingest.js";
import { ByteBudget } from "./in-flight.js";
import { collectorMetrics } from "./metrics.js";
import { collectorConfig, type CollectorOptions } from "./options.js";
import { EventProducer } from "./producer.js";
import { sendJson } from "./respond.js";
import { router } from "./routes.js";
import { RateLimiter } from "./token-bucket.js";

export type { CollectorOptions } from "./options.js";

export interface CollectorHandle {
  /** http://host:port, without a trailing slash. */
  url: string;
  port: number;
  /** Stops accepting, finishes in-flight requests, then disconnects the producer. Idempotent. */
  stop(): Promise<void>;
}

export async function startCollector(opts: CollectorOptions): Promise<CollectorHandle> {
  const config = collectorConfig(opts);
  const log = opts.logger ?? silentLogger;
  const metrics = collectorMetrics(opts.registry);
  const producer = await EventProducer.connect({
    brokers: config.kafkaBrokers,
    clientId: config.clientId,
    timeoutMs: config.produceTimeoutMs,
    log,
    onReplaced: () => metrics.producerReplacements.inc(),
  });
  const ingest: IngestContext = {
    config,
    limiter: new RateLimiter(),
    budget: new ByteBudget(config.maxInFlightBytes, (used) => metrics.inFlightBytes.set(used)),
    producer,
    metrics,
    newEventId: () => uuidv7(),
    now: Date.now,
  };
  let stopping = false;
  const route = router({ ingest, registry: opts.registry, log, producerConnected: () => producer.connected, stopping: () => stopping });

  // Every request's promise, so stop() can wait for exactly the requests in flight.
  const active = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const done = route(req, res).catch((err: unknown) => {
      log.error("request failed unexpectedly", { url: req.url, error: String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" }, { Connection: "close" });
      else res.destroy();
    });
    active.add(done);
    void done.finally(() => active.delete(done));
  });
  try {
    await listen(server, config.host, config.port);
  } catch (err) {
    await producer.disconnect();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  log.info("collector listening", { host: config.host, port, streams: [...config.streams.keys()] });

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.allSettled([...active]);
    // Keep-alive sockets that went idle after their last answer would hold close() open.
    server.closeAllConnections();
    await closed;
    await producer.disconnect();
    log.info("collector stopped", { port });
  })());

  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return { url: `http://${host}:${port}`, port, stop };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
