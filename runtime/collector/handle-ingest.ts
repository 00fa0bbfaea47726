/**
 * POST /v1/streams/{stream}/events, from request to Kafka acknowledgement. Each step
 * either passes the request on or throws the IngestError that becomes its answer:
 * authenticate and find the stream (access.ts), read the body, parse, prepare events, rate-limit,
 * reserve in-flight bytes, produce. Nothing reaches Kafka unless every step passed.
 */
import type { IncomingMessage } from "node:http";
import type { OutMessage as Message } from "../kafka/port.js";
import type { CompiledStream } from "../pipeline/compiled.js";
import { admit } from "./access.js";
import { readBody } from "./body.js";
import { IngestError, rateLimited, unavailable } from "./errors.js";
import type { ByteBudget } from "./in-flight.js";
import type { CollectorMetrics, EventOutcome } from "./metrics.js";
import type { CollectorConfig } from "./options.js";
import { bodyFormat, parseEvents } from "./parse-events.js";
import { prepareEvents, type PreparedBatch, type PreparedRecord, type Rejection } from "./prepare.js";
import type { EventProducer } from "./producer.js";
import type { RateLimiter } from "./token-bucket.js";

export interface IngestContext {
  config: CollectorConfig;
  limiter: RateLimiter;
  budget: ByteBudget;
  producer: Pick<EventProducer, "send">;
  metrics: CollectorMetrics;
  newEventId: () => string;
  now: () => number;
}

export interface IngestAnswer {
  status: 200 | 400;
  body: { accepted: number; rejected: Rejection[]; error?: string };
}

/** `name` is the {stream} of the URL. */
export async function ingest(ctx: IngestContext, name: string, req: IncomingMessage): Promise<IngestAnswer> {
  const { stream, tenant } = admit(ctx.config, name, req.headers.authorization);
  const body = await readBody(req, {
    maxBytes: stream.ingest.maxBodyBytes,
    contentEncoding: req.headers["content-encoding"],
    contentLength: req.headers["content-length"],
  });
  const parsed = parseEvents(body, bodyFormat(req.headers["content-type"]), stream.ingest.maxEventsPerRequest);
  const events = parsed.events;
  if (events.length === 0) return { status: 400, body: { error: "the request holds no events", accepted: 0, rejected: [] } };
  let batch: PreparedBatch;
  try {
    batch = prepareEvents(stream, events, { tenant, newEventId: ctx.newEventId }, parsed);
  } catch (err) {
    if (err instanceof IngestError) ctx.metrics.events.inc({ stream: stream.name, tenant: tenant ?? "", outcome: "forbidden" }, events.length);
    throw err;
  }
  if (batch.rejected.length > 0) ctx.metrics.events.inc({ stream: stream.name, tenant: tenant ?? "", outcome: "invalid" }, batch.rejected.length);
  if (batch.records.length === 0) {
    return { status: 400, body: { error: `all ${events.length} events were rejected`, accepted: 0, rejected: batch.rejected } };
  }
  const count = (outcome: EventOutcome) => countByTenant(ctx.metrics, stream.name, batch.records, outcome);
  try {
    rateLimit(ctx, stream, batch.records);
    await produce(ctx, stream, batch.records);
  } catch (err) {
    if (err instanceof IngestError) count(err.status === 429 ? "rate_limited" : "unavailable");
    throw err;
  }
  count("accepted");
  return { status: 200, body: { accepted: batch.records.length, rejected: batch.rejected } };
}

/** Per-tenant token buckets; a refused request spends no tenant's tokens. */
function rateLimit(ctx: IngestContext, stream: CompiledStream, records: PreparedRecord[]): void {
  const limit = stream.ingest.rateLimit;
  if (limit) {
    const demand = new Map<string, number>();
    for (const r of records) demand.set(r.tenant ?? "", (demand.get(r.tenant ?? "") ?? 0) + 1);
    const verdict = ctx.limiter.takeAll(stream.name, limit, demand);
    if (!verdict.ok) {
      throw rateLimited(`rate limit of ${limit.eventsPerSecond} events/s (burst ${limit.burst}) per tenant exceeded; nothing was accepted`, Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
    }
  }
}

async function produce(ctx: IngestContext, stream: CompiledStream, records: PreparedRecord[]): Promise<void> {
  const bytes = records.reduce((n, r) => n + r.bytes, 0);
  if (!ctx.budget.tryAcquire(bytes)) {
    throw unavailable(`the collector is holding ${ctx.budget.inFlight} bytes for Kafka already (limit ${ctx.budget.limit}); nothing was accepted`, 1);
  }
  const ingestTime = String(ctx.now());
  const version = String(stream.schema.version);
  // One headers object per tenant of the request, shared by its records (the producer
  // reads them and keeps nothing), not one per record.
  const byTenant = new Map<string | undefined, Record<string, string>>();
  const headersOf = (tenant: string | undefined): Record<string, string> => {
    let h = byTenant.get(tenant);
    if (!h) {
      h = { "sluice-ingest-time": ingestTime, "sluice-schema-version": version };
      if (tenant !== undefined) h["sluice-tenant"] = tenant;
      byTenant.set(tenant, h);
    }
    return h;
  };
  const messages: Message[] = records.map((r) => ({ key: r.key, value: r.value, headers: headersOf(r.tenant) }));
  const stopTimer = ctx.metrics.produceSeconds.startTimer({ stream: stream.name });
  let released = false;
  await ctx.producer.send(stream.topic, messages, () => {
    if (!released) ctx.budget.release(bytes);
    released = true;
  });
  stopTimer();
}

function countByTenant(metrics: CollectorMetrics, stream: string, records: PreparedRecord[], outcome: EventOutcome): void {
  const byTenant = new Map<string, number>();
  for (const r of records) byTenant.set(r.tenant ?? "", (byTenant.get(r.tenant ?? "") ?? 0) + 1);
  for (const [tenant, n] of byTenant) metrics.events.inc({ stream, tenant, outcome }, n);
}
