/**
 * The HTTP collector: accepts events over HTTP and answers 2xx only once Kafka holds
 * them (acks=all). See README.md beside this file for the endpoint and its limits.
 *
 *   const collector = await startCollector({ streams, secrets, kafkaBrokers, registry });
 *   // POST ${collector.url}/v1/streams/page-views/events
 *   await collector.stop(); // finishes in-flight requests, then disconnects from Kafka
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { v7 as uuidv7 } from "uuid";
import { silentLogger } from "../log.js";
import { discardBody } from "./body.js";
import { IngestError } from "./errors.js";
import { findStream, ingest, type IngestContext } from "./handle-ingest.js";
import { ByteBudget } from "./in-flight.js";
import { collectorMetrics } from "./metrics.js";
import { collectorConfig, type CollectorOptions } from "./options.js";
import { EventProducer } from "./producer.js";
import { sendJson } from "./respond.js";
import { RateLimiter } from "./token-bucket.js";

export type { CollectorOptions } from "./options.js";

export interface CollectorHandle {
  /** http://host:port, without a trailing slash. */
  url: string;
  port: number;
  /** Stops accepting, finishes in-flight requests, then disconnects the producer. */
  stop(): Promise<void>;
}

const EVENTS_PATH = /^\/v1\/streams\/([^/]+)\/events\/?$/;
/** What is left of a refused body is read (and dropped) up to this much, so the client sees the answer. */
const DISCARD_LIMIT_BYTES = 1024 * 1024;
const DISCARD_TIMEOUT_MS = 2_000;

export async function startCollector(opts: CollectorOptions): Promise<CollectorHandle> {
  const config = collectorConfig(opts);
  const log = opts.logger ?? silentLogger;
  const metrics = collectorMetrics(opts.registry);
  const producer = await EventProducer.connect({ brokers: config.kafkaBrokers, clientId: config.clientId, timeoutMs: config.produceTimeoutMs });
  const ctx: IngestContext = {
    config,
    limiter: new RateLimiter(),
    budget: new ByteBudget(config.maxInFlightBytes, (used) => metrics.inFlightBytes.set(used)),
    producer,
    metrics,
    newEventId: () => uuidv7(),
    now: Date.now,
  };
  const active = new Set<Promise<void>>();
  let stopping = false;

  const server = createServer((req, res) => {
    const done = route(req, res).catch((err: unknown) => {
      log.error("request failed unexpectedly", { url: req.url, error: String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" }, { Connection: "close" });
      else res.destroy();
    });
    active.add(done);
    void done.finally(() => active.delete(done));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "GET" && path === "/healthz") return sendJson(res, 200, { status: "alive" });
    if (req.method === "GET" && path === "/readyz") {
      if (stopping) return sendJson(res, 503, { error: "shutting down" });
      if (!producer.connected) return sendJson(res, 503, { error: "not connected to Kafka" });
      return sendJson(res, 200, { status: "ready" });
    }
    if (req.method === "GET" && path === "/metrics") {
      const text = await opts.registry.metrics();
      res.writeHead(200, { "Content-Type": opts.registry.contentType });
      return void res.end(text);
    }
    const match = EVENTS_PATH.exec(path);
    if (!match) return refuse(req, res, "unknown", new IngestError(404, `no route for ${req.method} ${path}; events go to POST /v1/streams/{stream}/events`));
    if (req.method !== "POST") return refuse(req, res, "unknown", new IngestError(405, "use POST to send events"), { Allow: "POST" });
    return handleEvents(req, res, decodeURIComponentSafe(match[1]!));
  }

  async function handleEvents(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const label = config.streams.has(name) ? name : "unknown";
    const stopTimer = metrics.requestSeconds.startTimer({ stream: label });
    try {
      if (stopping) throw new IngestError(503, "the collector is shutting down; retry against another replica", 1);
      const answer = await ingest(ctx, findStream(config, name), req);
      metrics.requests.inc({ stream: label, code: String(answer.status) });
      sendJson(res, answer.status, answer.body);
    } catch (err) {
      if (!(err instanceof IngestError)) throw err;
      metrics.requests.inc({ stream: label, code: String(err.status) });
      await refuse(req, res, label, err);
    } finally {
      stopTimer();
    }
  }

  async function refuse(req: IncomingMessage, res: ServerResponse, stream: string, err: IngestError, headers: Record<string, string> = {}): Promise<void> {
    if (err.status >= 500) log.warn("request refused", { stream, status: err.status, reason: err.message });
    const ended = await discardBody(req, DISCARD_LIMIT_BYTES, DISCARD_TIMEOUT_MS);
    if (!ended || stopping) headers.Connection = "close";
    if (err.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.retryAfterSeconds);
    sendJson(res, err.status, { error: err.message }, headers);
  }

  await listen(server, config.host, config.port);
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

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
