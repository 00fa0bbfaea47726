/**
 * The autoscaler's memory: the previous lag sample and recent recommendations per worker
 * (kind/namespace/name). Lost on restart by design: the first sample after a restart holds
 * the current replica count, and the history refills within one scale-down window.
 */
import { autoscale, DEFAULT_SCALE_DOWN_WINDOW_MS, type AutoscaleDecision, type AutoscaleInput, type LagSample } from "./replicas.js";

interface Memory {
  previous?: LagSample;
  history: { atMs: number; replicas: number }[];
}

export class Autoscaler {
  private readonly memory = new Map<string, Memory>();

  decide(key: string, input: Omit<AutoscaleInput, "previous" | "history">): AutoscaleDecision {
    const m = this.memory.get(key) ?? { history: [] };
    const decision = autoscale({ ...input, previous: m.previous, history: m.history });
    const since = input.sample.atMs - (input.scaleDownWindowMs ?? DEFAULT_SCALE_DOWN_WINDOW_MS);
    this.memory.set(key, {
      previous: input.sample,
      history: [...m.history.filter((h) => h.atMs >= since), { atMs: input.sample.atMs, replicas: decision.recommendation }],
    });
    return decision;
  }

  forget(key: string): void {
    this.memory.delete(key);
  }
}
