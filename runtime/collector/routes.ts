/**
 * HTTP routing: the events endpoint, health, readiness and metrics. Every answer is
 * JSON (except /metrics); every refusal is an IngestError turned into its status, with
 * Retry-After when retrying can help.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Logger } from "../log.js";
import { discardBody } from "./body.js";
import { IngestError, unavailable } from "./errors.js";
import { ingest, type IngestContext } from "./handle-ingest.js";
import { sendJson } from "./respond.js";

export interface RouteDeps {
  ingest: IngestContext;
  registry: Registry;
  log: Logger;
  producerConnected: () => boolean;
  stopping: () => boolean;
}

const EVENTS_PATH = /^\/v1\/streams\/([^/]+)\/events\/?$/;
/** What is left of a refused body is read (and dropped) up to this much, so the client sees the answer. */
const DISCARD_LIMIT_BYTES = 1024 * 1024;
const DISCARD_TIMEOUT_MS = 2_000;

export function router(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "GET" && path === "/healthz") return sendJson(res, 200, { status: "alive" });
    if (req.method === "GET" && path === "/readyz") return readiness(deps, res);
    if (req.method === "GET" && path === "/metrics") {
      const text = await deps.registry.metrics();
      res.writeHead(200, { "Content-Type": deps.registry.contentType });
      return void res.end(text);
    }
    const match = EVENTS_PATH.exec(path);
    if (!match) return refuse(deps, req, res, new IngestError(404, `no route for ${req.method} ${path}; events go to POST /v1/streams/{stream}/events`));
    if (req.method !== "POST") return refuse(deps, req, res, new IngestError(405, "use POST to send events"), { Allow: "POST" });
    return handleEvents(deps, req, res, decodeSegment(match[1]!));
  };
}

function readiness(deps: RouteDeps, res: ServerResponse): void {
  if (deps.stopping()) return sendJson(res, 503, { error: "shutting down" });
  if (!deps.producerConnected()) return sendJson(res, 503, { error: "not connected to Kafka" });
  sendJson(res, 200, { status: "ready" });
}

async function handleEvents(deps: RouteDeps, req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
  const { metrics, config } = deps.ingest;
  // Only configured names become label values: probing random URLs cannot add series.
  const label = config.streams.has(name) ? name : "unknown";
  const stopTimer = metrics.requestSeconds.startTimer({ stream: label });
  try {
    if (deps.stopping()) throw unavailable("the collector is shutting down; retry against another replica", 1);
    const answer = await ingest(deps.ingest, name, req);
    metrics.requests.inc({ stream: label, code: String(answer.status) });
    sendJson(res, answer.status, answer.body);
  } catch (err) {
    if (!(err instanceof IngestError)) throw err;
    metrics.requests.inc({ stream: label, code: String(err.status) });
    if (err.status >= 500) deps.log.warn("request refused", { stream: label, status: err.status, reason: err.message });
    await refuse(deps, req, res, err);
  } finally {
    stopTimer();
  }
}

async function refuse(deps: RouteDeps, req: IncomingMessage, res: ServerResponse, err: IngestError, headers: Record<string, string> = {}): Promise<void> {
  const ended = await discardBody(req, DISCARD_LIMIT_BYTES, DISCARD_TIMEOUT_MS);
  // A body we stopped reading cannot be skipped on a kept-alive connection: close it.
  if (!ended || deps.stopping()) headers.Connection = "close";
  if (err.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.retryAfterSeconds);
  sendJson(res, err.status, { error: err.message }, headers);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
