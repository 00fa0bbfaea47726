/** Operator metrics: reconciles per kind and result, and how long they take. */
import { Counter, Histogram, type Registry } from "prom-client";

export interface OperatorMetrics {
  reconciles: Counter<"kind" | "result">;
  duration: Histogram<"kind">;
}

export function operatorMetrics(registry: Registry): OperatorMetrics {
  return {
    reconciles: new Counter({ name: "sluice_operator_reconcile_total", help: "Reconciles by kind and result (success, requeue, error).", labelNames: ["kind", "result"], registers: [registry] }),
    duration: new Histogram({
      name: "sluice_operator_reconcile_duration_seconds",
      help: "Time one reconcile took, by kind.",
      labelNames: ["kind"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
  };
}
