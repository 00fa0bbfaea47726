/**
 * Posts events to a collector in batches and accounts for each one: accepted, rejected
 * (with the collector's reason) or not delivered. 429 and 503 (and a lost connection) are
 * retried with the very same events, ids included, after Retry-After or a backoff: a 503
 * does not prove nothing was written, and the repeated ids let the sinks drop duplicates.
 * A 413 halves the batch. 401/403/404/415 stop everything: no retry can fix them.
 */
import { CliError } from "./exit-codes.js";
import type { InputEvent } from "./send-input.js";

export interface SendTarget {
  /** Collector base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  stream: string;
  apiKey?: string;
  batchSize: number;
  /** Attempts after the first, per batch. */
  retries: number;
  /** Events per second to pace the batches at; unset: as fast as the collector answers. */
  ratePerSecond?: number;
}

export interface Rejection {
  /** 0-based position in the input. */
  index: number;
  where: string;
  reason: string;
}

export interface SendSummary {
  sent: number;
  accepted: number;
  rejected: Rejection[];
  /** Events whose batch failed every attempt: not known to be stored. */
  undelivered: Rejection[];
  /** Events sent again after a 429, 503 or lost connection (with the same ids). */
  retried: number;
  retriedRequests: number;
}

export interface SendDeps {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  onProgress?: (s: SendSummary) => void;
  /** For pacing; default Date.now. */
  now?: () => number;
  /**
   * Called once per batch before its first attempt (generated events take their event
   * time here, when they are sent); retries send the same bytes.
   */
  beforeFirstAttempt?: (events: InputEvent[], start: number, count: number) => void;
}

const REQUEST_TIMEOUT_MS = 30_000;

export async function sendAll(events: InputEvent[], t: SendTarget, deps: SendDeps): Promise<SendSummary> {
  const summary: SendSummary = { sent: 0, accepted: 0, rejected: [], undelivered: [], retried: 0, retriedRequests: 0 };
  const queue: { start: number; count: number }[] = [];
  for (let start = 0; start < events.length; start += t.batchSize) queue.push({ start, count: Math.min(t.batchSize, events.length - start) });
  const now = deps.now ?? Date.now;
  const startedAt = now();
  while (queue.length > 0) {
    const batch = queue.shift()!;
    // Paced: batch k leaves when the events before it have had their share of the time, so
    // a slow answer is caught up on and the average holds at the rate.
    if (t.ratePerSecond !== undefined) {
      const due = startedAt + (batch.start / t.ratePerSecond) * 1000;
      if (due > now()) await deps.sleep(due - now());
    }
    const split = await sendBatch(events, batch.start, batch.count, t, deps, summary);
    if (split) queue.unshift(...split);
    else {
      summary.sent += batch.count;
      deps.onProgress?.(summary);
    }
  }
  return summary;
}

type Outcome = { kind: "done" } | { kind: "retry"; reason: string; afterMs?: number } | { kind: "split" };

async function sendBatch(events: InputEvent[], start: number, count: number, t: SendTarget, deps: SendDeps, summary: SendSummary): Promise<{ start: number; count: number }[] | undefined> {
  deps.beforeFirstAttempt?.(events, start, count);
  const body = JSON.stringify(events.slice(start, start + count).map((e) => e.event));
  for (let attempt = 0; ; attempt++) {
    const outcome = await post(body, start, count, events, t, deps, summary);
    if (outcome.kind === "done") return undefined;
    if (outcome.kind === "split") {
      if (count === 1) {
        summary.rejected.push({ index: start, where: events[start]!.where, reason: "event too large for the collector (413)" });
        return undefined;
      }
      const half = Math.ceil(count / 2);
      return [{ start, count: half }, { start: start + half, count: count - half }];
    }
    if (attempt >= t.retries) {
      for (let i = start; i < start + count; i++) summary.undelivered.push({ index: i, where: events[i]!.where, reason: `${outcome.reason} (gave up after ${attempt + 1} attempts)` });
      return undefined;
    }
    summary.retried += count;
    summary.retriedRequests++;
    await deps.sleep(outcome.afterMs ?? Math.min(200 * 2 ** attempt, 10_000));
  }
}

async function post(body: string, start: number, count: number, events: InputEvent[], t: SendTarget, deps: SendDeps, summary: SendSummary): Promise<Outcome> {
  let res: Response;
  try {
    res = await deps.fetch(`${t.url.replace(/\/$/, "")}/v1/streams/${encodeURIComponent(t.stream)}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(t.apiKey ? { authorization: `Bearer ${t.apiKey}` } : {}) },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return { kind: "retry", reason: `no answer from ${t.url}: ${why}` };
  }
  const answer = (await res.json().catch(() => ({}))) as { accepted?: number; rejected?: { index: number; reason: string }[]; error?: string };
  const reject = (index: number, reason: string) => summary.rejected.push({ index: start + index, where: events[start + index]!.where, reason });
  if (res.status === 200 || (res.status === 400 && Array.isArray(answer.rejected) && answer.rejected.length > 0)) {
    summary.accepted += answer.accepted ?? 0;
    for (const r of answer.rejected ?? []) reject(r.index, r.reason);
    return { kind: "done" };
  }
  if (res.status === 400) {
    for (let i = 0; i < count; i++) reject(i, answer.error ?? "400 Bad Request");
    return { kind: "done" };
  }
  if (res.status === 413) return { kind: "split" };
  if (res.status === 429 || res.status >= 500) {
    const after = Number(res.headers.get("retry-after"));
    return { kind: "retry", reason: `${res.status}: ${answer.error ?? res.statusText}`, afterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined };
  }
  throw refused(res.status, answer.error ?? res.statusText, t);
}

function refused(status: number, error: string, t: SendTarget): CliError {
  const hints: Record<number, string> = {
    401: "pass the stream's API key with --key (or $SLUICE_API_KEY), or -f <manifest dir> --tenant <id> to take it from the folder's Secret",
    403: "the key's tenant may not send these events (an event names another tenant), or the stream's ingest is disabled",
    404: `the collector at ${t.url} serves no stream "${t.stream}": check the name, and that this is the collector of its namespace`,
    415: "the collector takes JSON or NDJSON, optionally gzip-encoded",
  };
  return new CliError(`the collector refused the events: ${status} ${error}`, hints[status]);
}
