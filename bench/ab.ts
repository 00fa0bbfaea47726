/**
 * `make bench-ab`: one stage's worker in two environments, unconstrained and as deployed
 * (a pod's memory environment), drained alternately from one pre-filled topic: each round
 * runs both, in alternating order, each in a fresh process and consumer group. On this
 * shared 2-core machine a single drain moves by ±25% from one run to the next, far more
 * than most environment effects; alternating rounds on the same records cancel the drift
 * that one `make bench` run cannot. Prints each round and the ratio of the means.
 *
 *   BENCH_AB_STAGE=sink|tumbling|sliding (default sink)   BENCH_AB_ROUNDS=3
 *   BENCH_AB_A_NODE_OPTIONS="..."  side A is as deployed too, with these NODE_OPTIONS in
 *     place of the operator's: weighs one V8 flag of the pod environment against its absence.
 *   BENCH_AB_A_ENV='{"NAME":"value"}'  side A is as deployed too, with these variables over it.
 */
import { benchConfig } from "./config.js";
import { benchContext } from "./context.js";
import { deployedMemoryEnv, killAllChildren, runBenchMain, startChild, workerMemoryMiB } from "./child.js";
import { workerDrain } from "./aggregation.js";
import { sinkDrain } from "./sink-drain.js";

const STAGES = ["sink", "tumbling", "sliding"] as const;
type Stage = (typeof STAGES)[number];

async function main(): Promise<void> {
  const stage = (process.env.BENCH_AB_STAGE ?? "sink") as Stage;
  if (!STAGES.includes(stage)) throw new Error(`BENCH_AB_STAGE=${stage}: expected one of ${STAGES.join(", ")}`);
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 3);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`BENCH_AB_ROUNDS=${process.env.BENCH_AB_ROUNDS}: expected a whole number >= 1`);
  const aNodeOptions = process.env.BENCH_AB_A_NODE_OPTIONS;
  const aExtra = aEnvOverrides(process.env.BENCH_AB_A_ENV);
  const cfg = benchConfig();
  const ctx = await benchContext(cfg);
  try {
    const childEnv = { kafkaBrokers: ctx.kafkaBrokers, clickhouseUrl: ctx.clickhouseUrl, database: ctx.database, eventBytes: String(cfg.eventBytes) };
    const p = await ctx.newPipeline("bench-ab", "ab");
    const deployed = deployedMemoryEnv();
    // Side A: unconstrained, or as deployed with other settings.
    const aDeployed = aNodeOptions !== undefined || aExtra !== undefined;
    const aEnv: Record<string, string> = aDeployed ? { ...deployed, ...(aNodeOptions !== undefined ? { NODE_OPTIONS: aNodeOptions } : {}), ...aExtra } : {};
    const aLabel = aDeployed ? `as deployed with ${Object.entries(aEnv).filter(([k, v]) => deployed[k] !== v).map(([k, v]) => `${k}=${v}`).join(" ")}` : "unconstrained";
    console.log(`A/B ${stage}: ${aLabel} vs as deployed (${workerMemoryMiB()} MiB pod: ${Object.entries(deployed).map(([k, v]) => `${k}=${v}`).join(" ")}), ${rounds} rounds`);

    let drain: (variant: string, env: Record<string, string>) => Promise<{ perCpu: number; complete: boolean; rssMiB: number }>;
    if (stage === "sink") {
      const filler = await startChild("bare", childEnv, "ab-filler");
      try {
        await filler.call("produce", { topic: p.stream.topic, prefix: `${ctx.runId}-ab`, events: cfg.sinkRecords, perRequest: 500, concurrency: 8 }, 300_000);
      } finally {
        await filler.stop();
      }
      drain = async (variant, env) => {
        const d = await sinkDrain(ctx, childEnv, p.sink, { role: `ab-${variant}`, table: `ab_${variant}`, groupId: `${p.sink.groupId}.${variant}`, env, records: cfg.sinkRecords });
        return { perCpu: (d.rows * 1000) / d.cpuMs, complete: d.complete, rssMiB: d.peakRssBytes / 2 ** 20 };
      };
    } else {
      const shape = { prefix: `${ctx.runId}-ab`, events: cfg.aggEvents, groups: cfg.aggGroups, eventMinutes: cfg.aggEventMinutes, startMs: Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000 };
      const filler = await startChild("aggregate", childEnv, "ab-filler");
      try {
        await filler.call("fill", { topic: p.stream.topic, shape, partitions: p.stream.partitions }, 300_000);
      } finally {
        await filler.stop();
      }
      const ends = (await ctx.admin.fetchTopicOffsets(p.stream.topic)).map((o) => ({ partition: o.partition, high: Number(o.high) }));
      const groups: string[] = [];
      drain = async (variant, env) => {
        const d = await workerDrain(ctx, childEnv, p.stream.namespace, stage, ends, groups, { env, suffix: variant });
        return { perCpu: (d.drain.events * 1000) / d.drain.cpuMs, complete: d.drain.complete, rssMiB: d.rssAfterBytes / 2 ** 20 };
      };
    }

    const per: Record<"unconstrained" | "deployed", number[]> = { unconstrained: [], deployed: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (["unconstrained", "deployed"] as const) : (["deployed", "unconstrained"] as const);
      for (const v of order) {
        const d = await drain(`${v.slice(0, 1)}${r}`, v === "deployed" ? deployed : aEnv);
        per[v].push(d.perCpu);
        console.log(`  round ${r + 1} ${(v === "deployed" ? "as deployed" : aDeployed ? "A" : v).padEnd(13)} ${Math.round(d.perCpu)} per CPU-second, RSS ${Math.round(d.rssMiB)} MiB (${stage === "sink" ? "peak" : "after the drain"})${d.complete ? "" : " (did not finish within BENCH_DRAIN_TIMEOUT_S)"}`);
      }
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const rows = per.deployed.map((d, i) => (d / per.unconstrained[i]!).toFixed(2)).join(", ");
    console.log(`${stage}: ${aLabel} ${Math.round(mean(per.unconstrained))}, as deployed ${Math.round(mean(per.deployed))} per CPU-second: ${(mean(per.deployed) / mean(per.unconstrained)).toFixed(2)}x (per round: ${rows})`);
  } finally {
    killAllChildren();
    await ctx.close();
  }
}

/** BENCH_AB_A_ENV: a JSON object of variable names to string values. */
function aEnvOverrides(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`BENCH_AB_A_ENV: not JSON (${(err as Error).message}); expected an object such as {"SLUICE_HEAP_GROWING_PERCENT":"100"}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
    throw new Error(`BENCH_AB_A_ENV=${raw}: expected an object of string values, such as {"SLUICE_HEAP_GROWING_PERCENT":"100"}`);
  }
  return parsed as Record<string, string>;
}

runBenchMain(main);
