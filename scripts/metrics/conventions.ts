/**
 * Prometheus naming conventions (https://prometheus.io/docs/practices/naming/), as checks:
 * one prefix, counters and only counters end in _total, base units spelled out as the
 * suffix (seconds, bytes; never ms or KiB), and only labels whose values are bounded by
 * configuration, each listed here with what bounds it. A label not listed fails the audit
 * until someone says why its values stay few.
 */
import type { MetricFamily } from "./catalog.js";

export const BOUNDED_LABELS: Record<string, string> = {
  stream: "one per EventStream",
  tenant: "one per API key configured for the stream (its Secret)",
  outcome: "accepted, invalid, forbidden, rate_limited, unavailable",
  code: "the HTTP status codes the collector answers",
  sink: "one per Sink",
  aggregation: "one per Aggregation",
  step: "the named Kafka steps (read offsets, commit, transaction, dead letters, insert)",
  firing: "early, on_time, late",
  kind: "EventStream, Sink, Aggregation",
  result: "success, requeue, error",
  namespace: "namespaces with Sluice resources",
  name: "one per resource",
  direction: "up, down",
  // prom-client's process and Node.js metrics.
  version: "the Node.js version",
  major: "the Node.js version",
  minor: "the Node.js version",
  patch: "the Node.js version",
  type: "Node.js handle and resource types",
  space: "V8 heap spaces",
};

/** Units the name must not use: the base unit instead. */
const NON_BASE_UNITS = /_(ms|millis|milliseconds|microseconds|us|ns|minutes|hours|kb|kib|mb|mib|gb|percent)(_|$)/;
/** What a histogram or summary observes must be named by its unit. */
const OBSERVED_UNITS = /_(seconds|bytes|rows)$/;

/** prom-client's process_* and nodejs_* families: named as every Node.js service names them. */
export const isStandardProcessMetric = (name: string) => /^(process|nodejs)_/.test(name);

export function conventionProblems(m: MetricFamily): string[] {
  const problems: string[] = [];
  if (isStandardProcessMetric(m.name)) {
    for (const l of m.labels) if (!(l in BOUNDED_LABELS)) problems.push(`label "${l}" is not known to be bounded`);
    return problems;
  }
  if (!/^sluice_[a-z][a-z0-9_]*$/.test(m.name)) problems.push("name is not sluice_ followed by lower-case snake_case");
  if (m.type === "counter" && !m.name.endsWith("_total")) problems.push("a counter's name ends in _total");
  if (m.type !== "counter" && m.name.endsWith("_total")) problems.push(`a ${m.type}'s name must not end in _total (only counters do)`);
  if (NON_BASE_UNITS.test(m.name)) problems.push("uses a non-base unit: seconds and bytes only");
  if ((m.type === "histogram" || m.type === "summary") && !OBSERVED_UNITS.test(m.name))
    problems.push("a histogram's name ends in its unit (_seconds, _bytes, _rows)");
  if (m.help.trim().length === 0) problems.push("has no help text");
  for (const l of m.labels) {
    if (!(l in BOUNDED_LABELS)) problems.push(`label "${l}" is not known to be bounded (add it to BOUNDED_LABELS with what bounds it, or drop it)`);
    if (l === "le" || l === "quantile") problems.push(`label "${l}" is reserved`);
  }
  return problems;
}
