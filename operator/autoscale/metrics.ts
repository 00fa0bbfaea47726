/**
 * The autoscaler's view as Prometheus series, one set per Sink/Aggregation (labels bounded
 * by the number of resources): what a team needs to hand scaling to an HPA (through the
 * resource's scale subresource and an external-metrics adapter) or to KEDA's Prometheus
 * scaler, and to graph the loop. Series of a deleted resource are removed.
 */
import { Counter, Gauge, type Registry } from "prom-client";

type Labels = "kind" | "namespace" | "name";
const labelNames: Labels[] = ["kind", "namespace", "name"];

export class AutoscaleMetrics {
  readonly desired: Gauge<Labels>;
  readonly current: Gauge<Labels>;
  readonly lagMessages: Gauge<Labels>;
  readonly lagSeconds: Gauge<Labels>;
  readonly scaleEvents: Counter<Labels | "direction">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.desired = new Gauge({ name: "sluice_autoscaler_desired_replicas", help: "Worker replicas the lag autoscaler asks for.", labelNames, registers });
    this.current = new Gauge({ name: "sluice_autoscaler_current_replicas", help: "Worker replicas the Deployment had when last observed.", labelNames, registers });
    this.lagMessages = new Gauge({ name: "sluice_autoscaler_lag_messages", help: "Consumer lag of the worker's group, summed over partitions.", labelNames, registers });
    this.lagSeconds = new Gauge({ name: "sluice_autoscaler_lag_seconds", help: "Consumer lag divided by the consumption rate: seconds to drain at the current pace.", labelNames, registers });
    this.scaleEvents = new Counter({ name: "sluice_autoscaler_scale_events_total", help: "Replica changes made by the lag autoscaler, by direction (up, down).", labelNames: [...labelNames, "direction"], registers });
  }

  forget(labels: Record<Labels, string>): void {
    for (const g of [this.desired, this.current, this.lagMessages, this.lagSeconds]) g.remove(labels);
    for (const direction of ["up", "down"]) this.scaleEvents.remove({ ...labels, direction });
  }
}
