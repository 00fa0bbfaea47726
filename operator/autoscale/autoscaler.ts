/**
 * The autoscaler's memory per worker (kind/namespace/name): the lookback samples, the
 * measured per-replica capacity, the last change and recent recommendations. Lost on
 * restart or leader change by design: decisions hold ("Warming") until two samples span
 * time again, and capacity is measured again at the next saturated window.
 */
import { decide, emptyMemory, type Decision, type Input, type Memory } from "./replicas.js";

export class Autoscaler {
  private readonly memory = new Map<string, Memory>();

  decide(key: string, input: Omit<Input, "memory">): Decision {
    const decision = decide({ ...input, memory: this.memory.get(key) ?? emptyMemory() });
    this.memory.set(key, decision.memory);
    return decision;
  }

  forget(key: string): void {
    this.memory.delete(key);
  }
}
