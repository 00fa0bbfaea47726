/** docs/capacity.md from a capacity plan: tables per target rate, the assumptions, how to regenerate (a test keeps it current). */
import { CORES_PER_POD, PARTITION_HEADROOM, PARTITION_MULTIPLE, RSS_80, TARGET_RATES, capacityPlan, usable, type BenchResults, type Traced } from "./plan.js";

export const CAPACITY_DOC = "docs/capacity.md";
export const RESULTS_FILE = "bench/results/latest.json";
export const GENERATE_COMMAND = "make reference";

const NOT_MEASURED = "not measured in this run";
// en-US grouping, fixed digits: the output must be byte-identical wherever it is generated.
const num = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const opt = (n: number | null, digits = 0, unit = "") => (n === null ? NOT_MEASURED : `${num(n, digits)}${unit}`);
const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
const cite = (t: Traced) => `\`${cell(t.source)}\``;
const rateName = (r: number) => (r % 1_000_000 === 0 ? `${r / 1_000_000}M` : num(r));

export function capacityMarkdown(results: BenchResults): string {
  const plan = capacityPlan(results);
  const m = results.machine ?? {};
  const eventBytes = results.config?.eventBytes;
  const lines = [
    "# Capacity plan",
    "",
    `<!-- Generated from ${RESULTS_FILE} by \`${GENERATE_COMMAND}\` (also run at the end of \`make bench\`); do not edit. A test fails when it is stale. -->`,
    "",
    `Run: ${results.startedAt ?? "unknown date"} on ${m.cpus ?? "?"} x ${m.cpuModel ?? "unknown CPU"}` +
      `${m.memoryBytes ? `, ${num(m.memoryBytes / 2 ** 30, 1)} GiB` : ""}${m.node ? `, Node ${m.node}` : ""}` +
      `${results.clickhouse ? `, ClickHouse ${results.clickhouse}` : ""}` +
      `${m.loadAverageBefore ? `; load average before the run ${m.loadAverageBefore.map((x) => num(x, 2)).join(" / ")}` : ""}.`,
    `Events of ${eventBytes !== undefined ? `${num(eventBytes)} bytes` : "unknown size"} of JSON (bench/README.md).`,
    "The machine is small and shared, so the absolute per-core figures below move from run to run;",
    "treat the plan as an order of magnitude to be checked on your own hardware, not a guarantee.",
    "",
    "Every number is computed from a figure of latest.json, cited as `bench / metric` (the `figures` array);",
    `a figure the run lacks shows as "${NOT_MEASURED}".`,
    "",
    "## Per-core figures",
    "",
    "| stage | Sluice per core | figure |",
    "|---|---|---|",
  ];
  for (const s of plan.stages) lines.push(`| ${s.def.name} | ${opt(s.perCore.value, 0, ` ${s.perCore.unit}`)} | ${cite(s.perCore)} |`);
  lines.push("", "Beside them, Kafka's and ClickHouse's own clients doing the same I/O alone (same-run baselines):", "", "| stage | baseline | per core | figure |", "|---|---|---|---|");
  for (const s of plan.stages) {
    s.def.beside.forEach((b, i) => {
      const t = s.beside[i]!;
      // A figure's own note already says why it is missing; don't say "not measured" twice.
      const missing = t.note ? (t.note.startsWith("not measured") ? cell(t.note) : `${NOT_MEASURED}: ${cell(t.note)}`) : NOT_MEASURED;
      const v = t.value === null ? missing : `${num(t.value)} ${t.unit}${b.perCore ? "" : " (wall)"}`;
      lines.push(`| ${s.def.name} | ${b.label} | ${v} | ${cite(t)} |`);
    });
  }
  lines.push(
    `| all | Kafka broker CPU per event | ${NOT_MEASURED} | none: the bench does not sample the broker's CPU |`,
    `| all | ClickHouse server CPU per row inserted | ${NOT_MEASURED} | none: the bench does not sample ClickHouse's CPU |`,
    "",
  );
  const so = plan.scaleOut;
  lines.push(
    "## Scale-out efficiency",
    "",
    so.measured
      ? so.capped
        ? `${num(so.value ?? 0, 2)}, from ${cite(so)}: two pods did more per CPU-second than one in this run. The plan takes 1.0 (N pods do N times one pod's work), never more.`
        : `${num(so.efficiency, 2)}, from ${cite(so)}: N pods are taken to do ${num(so.efficiency, 2)} x N times one pod's work.`
      : `**Not measured yet**: no figure in latest.json measures it (e.g. throughput of 2 sink workers / 2 x one's). The plan uses 1.0, i.e. perfect linear scaling, so its core and pod counts are a lower bound.`,
    "",
  );
  for (const rate of TARGET_RATES) {
    lines.push(
      `## ${rateName(rate)} events/s`,
      "",
      "| stage | cores | pods | partitions | RSS of the pods | baseline cores beside |",
      "|---|---|---|---|---|---|",
    );
    for (const s of plan.stages) {
      const a = s.atRate.get(rate)!;
      const beside = s.def.beside
        .map((b, i) => (b.perCore ? `${b.label.replace(/ \(.*\)$/, "")}: ${opt(a.besideCores[i] ?? null, 1)}` : null))
        .filter((x): x is string => x !== null)
        .join("; ");
      const partitions = s.def.consumes ? opt(a.partitions) : "not bound (produces only)";
      const rss = s.rssPerPodMiB === null ? "not measured (no figure for this stage)" : a.rssMiB === null ? NOT_MEASURED : `${num(a.rssMiB / 1024, 1)} GiB`;
      lines.push(`| ${s.def.name} | ${opt(a.cores, 1)} | ${opt(a.pods)} | ${partitions} | ${rss} | ${beside} |`);
    }
    const tp = plan.topicPartitions.get(rate) ?? null;
    lines.push("", `Topic partitions: ${tp === null ? NOT_MEASURED : `**${num(tp)}**`} (the largest any consuming stage above needs: they all read the same topic).`, "");
  }
  const rss = plan.stages.find((s) => s.def.rss === RSS_80 && s.rssPerPodMiB !== null)?.rssPerPodMiB;
  const aggRss = plan.stages.filter((s) => s.def.rss !== undefined && s.def.rss !== RSS_80 && usable(s.rssPerPodMiB?.value));
  lines.push(
    "## Assumptions",
    "",
    "- cores = rate / (per core x scale-out efficiency). Per core is events (rows) per CPU-second of the stage's own process,",
    "  librdkafka's threads included; Kafka's and ClickHouse's servers are not counted and need their own cores.",
    "  The pods run at 100% of their core at the target rate: add the headroom your autoscaler targets.",
    `- pods = ceil(cores / ${CORES_PER_POD}): ${CORES_PER_POD} core per pod, because a worker's JavaScript runs on one thread;`,
    "  a second core would mostly idle. Scale by pods (what the autoscaler changes).",
    `- partitions >= pods, since a consumer group uses at most one consumer per partition; planned as the next multiple of`,
    `  ${PARTITION_MULTIPLE} >= pods x ${PARTITION_HEADROOM}. The ${PARTITION_HEADROOM}x lets the stage grow ${num((PARTITION_HEADROOM - 1) * 100)}% without adding partitions`,
    `  (they can only grow, and adding them moves keys between partitions); multiples of ${PARTITION_MULTIPLE} split evenly among`,
    `  1, 2, 3, 4, 6 and ${PARTITION_MULTIPLE} consumers. The collector produces only, so partitions do not bound it.`,
    `- RSS of the pods = pods x ${rss && rss.value !== null ? `${num(rss.value)} MiB, ${cite(rss)}` : "the peak RSS under 80% load (" + NOT_MEASURED + ")"}:`,
    "  the larger of the collector's and the sink's process (separate pods, as deployed), so an upper bound for either.",
    `  Aggregation pods: ${aggRss.length > 0 ? aggRss.map((s) => `${num(s.rssPerPodMiB!.value!)} MiB (${s.def.name}, ${cite(s.rssPerPodMiB!)})`).join("; ") : NOT_MEASURED}, the worker's RSS`,
    "  after draining a backlog as deployed, holding the open windows of the figure's groups. Their state grows with open (window, group) keys,",
    `  not with the rate: ${opt(plan.stateMemory.value, 0, " MiB")} of RSS per 1M open keys (${cite(plan.stateMemory)}).`,
    "- Each stage reads (or, the collector, writes) the whole stream, so the stages' pods add up: plan each stage you run.",
    "- The aggregation figures are for count + uniqExact + sum by user_id over the groups named in the figure; more keys or functions cost more.",
    "- A sink row is one event; the sink's figure is rows per CPU-second.",
    "",
    "## Regenerate",
    "",
    "```bash",
    "make bench       # measures, writes bench/results/latest.json, then regenerates this file",
    "make reference   # regenerates this file from the latest.json on disk",
    "```",
    "",
    `The code is \`bench/capacity/\` (\`plan.ts\` does the arithmetic); \`bench/capacity/capacity-doc.test.ts\` fails when this file differs from what latest.json gives.`,
  );
  return lines.join("\n") + "\n";
}

