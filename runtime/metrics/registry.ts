/**
 * One Prometheus registry per worker process. Components create their metrics on it with
 * the `sluice_` prefix and label by stream/sink, so one /metrics endpoint serves them all.
 */
import { Registry, collectDefaultMetrics } from "prom-client";

export function createRegistry(defaults = true): Registry {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: "sluice_process_" });
  return registry;
}
