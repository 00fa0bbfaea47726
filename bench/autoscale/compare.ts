/**
 * The old lag formula and the current one, side by side on the same simulated loops
 * (operator/autoscale/simulate.ts: replicas of fixed capacity, pods joining 10 s after a
 * scale, a decision every 5 s): a spike, and ten minutes of steady load with ±30% noise per
 * second after settling. Pure computation, a few milliseconds; the real-pod loop is
 * test/e2e/autoscale-loop.test.ts. Run by `make bench-autoscale`.
 */
import { DEFAULT_POLICY, type Bounds, type Decision } from "../../operator/autoscale/replicas.js";
import { noise, simulateLoop, sluiceDecider, type Decider, type LoopOptions } from "../../operator/autoscale/simulate.js";
import { autoscale, type LagSample } from "./old-formula.js";

const bounds: Bounds = { minReplicas: 1, maxReplicas: 12, partitions: 12, targetLagSeconds: 5 };
const CAPACITY = 1_000;

function oldDecider(b: Bounds, scaleDownWindowMs: number): Decider {
  let previous: LagSample | undefined;
  let history: { atMs: number; replicas: number }[] = [];
  return (s) => {
    const sample = { atMs: s.nowMs, produced: Math.round(s.end), consumed: Math.round(s.position) };
    const d = autoscale({ previous, sample, current: s.current, minReplicas: b.minReplicas, maxReplicas: b.maxReplicas, partitions: b.partitions, targetLagSeconds: b.targetLagSeconds, history, scaleDownWindowMs });
    previous = sample;
    history = [...history.filter((h) => h.atMs >= s.nowMs - scaleDownWindowMs), { atMs: s.nowMs, replicas: d.recommendation }];
    return { replicas: d.replicas, reason: "OnTarget", message: "", recommendation: d.recommendation, memory: { samples: [], recommendations: [] } } satisfies Decision;
  };
}

interface Scenario {
  name: string;
  options: LoopOptions;
  /** When the interesting change starts (ms). */
  atMs: number;
  /** From when scale events count as flapping (ms). */
  countFromMs?: number;
}

export function compareFormulas() {
  const policy = { ...DEFAULT_POLICY };
  const n = noise(42, 0.3);
  const noisy = Array.from({ length: 2_000 }, () => n());
  const scenarios: Scenario[] = [
    { name: "spike 800/s -> 4,000/s at 60 s", atMs: 60_000, options: { ticks: 120, capacity: CAPACITY, start: 1, bounds, policy, incoming: (t) => (t < 60_000 ? 800 : 4_000) } },
    {
      name: "steady 2,500/s with ±30% noise, 10 min after 2 min settling",
      atMs: 120_000,
      countFromMs: 120_000,
      options: { ticks: 144, capacity: CAPACITY, start: 3, bounds, policy, incoming: (t) => 2_500 * (1 + noisy[Math.floor(t / 1000)]!) },
    },
  ];
  const rows = [];
  for (const s of scenarios) {
    for (const [formula, decider] of [["old", oldDecider(bounds, 300_000)], ["new", sluiceDecider(bounds, policy)]] as const) {
      const r = simulateLoop({ ...s.options, startupMs: 10_000 }, decider);
      const before = r.trace.filter((x) => x.t < s.atMs).at(-1)?.replicas ?? s.options.start;
      const decision = r.trace.find((x) => x.t >= s.atMs && x.replicas > before);
      const ready = decision ? r.trace.find((x) => x.t >= decision.t + 10_000) : undefined;
      const under = r.trace.find((x) => x.t > (ready?.t ?? s.atMs) && x.lag <= bounds.targetLagSeconds * CAPACITY * x.replicas);
      rows.push({
        scenario: s.name,
        formula,
        decisionSeconds: decision ? (decision.t - s.atMs) / 1000 : undefined,
        readySeconds: ready ? (ready.t - s.atMs) / 1000 : undefined,
        lagUnderTargetSeconds: under ? (under.t - s.atMs) / 1000 : undefined,
        peakReplicas: Math.max(...r.trace.map((x) => x.replicas)),
        scaleEvents: r.changes.filter((c) => c.t >= (s.countFromMs ?? 0)).length,
        replicaCounts: [...new Set(r.trace.map((x) => x.replicas))].sort((a, b) => a - b).join(" "),
      });
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log("lag formulas on the same simulated loops (1,000/s per replica, pods ready 10 s after a scale, a decision every 5 s)");
  console.table(compareFormulas());
}
