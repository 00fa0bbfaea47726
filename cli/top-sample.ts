/**
 * One refresh of `sluice top`: every metrics URL scraped at once, and each pipeline's
 * consumer group measured with `sluice lag`'s own code (observeTarget). A URL that does
 * not answer is a note on the screen, not a failure: the rates then come from Kafka.
 */
import type { KafkaAdmin, KafkaClient } from "../runtime/kafka/port.js";
import { observeTarget, type GroupLag } from "./lag-observe.js";
import type { LagTarget } from "./lag-targets.js";
import { parsePromText, type PromSample } from "./prom-text.js";
import type { Replicas, TopSample } from "./top-snapshot.js";

/** A scrape slower than this is reported as not answering, so one stuck pod cannot freeze the screen. */
const SCRAPE_TIMEOUT_MS = 3_000;

export interface SampleSources {
  kafka: KafkaClient;
  admin: KafkaAdmin;
  targets: LagTarget[];
  metricsUrls: string[];
  seconds: boolean;
  /** Cluster mode: replicas from the resources' status. */
  replicas?: () => Promise<Map<string, Replicas>>;
}

export async function takeSample(s: SampleSources): Promise<TopSample> {
  let replicasError: string | undefined;
  const [scrapes, lag, replicas] = await Promise.all([
    Promise.all(s.metricsUrls.map(scrape)),
    observeAll(s),
    s.replicas?.().catch((err: unknown) => {
      // A refresh without replicas is still worth showing; the next may have them.
      replicasError = `replicas not read: ${err instanceof Error ? err.message : String(err)}`;
      return undefined;
    }),
  ]);
  // One time for both: the rates divide by the time between two samples.
  const atMs = Date.now();
  const answered = scrapes.filter((r): r is { samples: PromSample[] } => "samples" in r);
  return {
    atMs,
    metrics: answered.length > 0 ? answered.flatMap((r) => r.samples) : undefined,
    notes: [...scrapes.flatMap((r) => ("error" in r ? [r.error] : [])), ...(replicasError ? [replicasError] : [])],
    lag,
    ...(replicas ? { replicas } : {}),
  };
}

async function observeAll(s: SampleSources): Promise<GroupLag[]> {
  const out: GroupLag[] = [];
  for (const t of s.targets) {
    try {
      out.push(...(await observeTarget(s.kafka, s.admin, t, { seconds: s.seconds, nowMs: Date.now })));
    } catch (err) {
      // One group that cannot be described must not blank the others.
      const topic = t.topics?.[0] ?? "";
      out.push({ kind: t.kind, name: t.name, groupId: t.groupId, topic, state: "Unknown", protocol: "", members: [], lag: { messages: 0, seconds: null }, partitions: [], error: `lag not read: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return out;
}

async function scrape(url: string): Promise<{ samples: PromSample[] } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS), headers: { accept: "text/plain" } });
    const body = await res.text();
    if (!res.ok) return { error: `metrics ${url}: HTTP ${res.status}` };
    return { samples: parsePromText(body) };
  } catch (err) {
    const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return { error: `metrics ${url}: ${why} (rates from Kafka offsets instead; freshness unknown)` };
  }
}

/** `host:port` or a URL without a path means its /metrics, where `sluice run` and the workers serve them. */
export function metricsUrl(text: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  const url = new URL(withScheme);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/metrics";
  return url.toString();
}
