/**
 * One Prometheus registry per worker process. Components create their metrics on it with
 * the `sluice_` prefix and label by stream/sink, so one /metrics endpoint serves them all.
 * The process and Node.js metrics keep their standard names (process_cpu_seconds_total,
 * nodejs_eventloop_lag_seconds, ...), unprefixed as every Node.js service serves them, so
 * the usual dashboards and queries work; the scrape's job and pod labels tell them apart.
 * (A `sluice_process_` prefix made them sluice_process_process_cpu_seconds_total.)
 */
import { Registry, collectDefaultMetrics } from "prom-client";

export function createRegistry(defaults = true): Registry {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  return registry;
}
