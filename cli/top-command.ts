/**
 * `sluice top`: a live view of every pipeline, refreshed in place: per stream the events
 * accepted per second, and under it each Sink and Aggregation with what it writes or
 * consumes per second, its lag, freshness p99, dead letters per second, replicas and
 * watermark lag. Reads only: metrics endpoints (`sluice run`'s /metrics by default) and
 * Kafka's offsets, as `sluice lag` reads them.
 *
 * On a terminal it redraws until q or Ctrl-C; piped, with --once or -o json it prints one
 * snapshot (two samples an interval apart, so rates are there) and exits.
 */
import { Command, Option } from "commander";
import { parseDuration } from "../api/duration.js";
import { EXIT_FAILURE, runAction, usageError, withHelp } from "./exit-codes.js";
import { brokersFrom, connectKafka } from "./kafka-connection.js";
import { clusterScope, contextNamespace, loadKubeConfig } from "./top-cluster.js";
import { renderTop, type RenderContext } from "./top-render.js";
import { metricsUrl, takeSample, type SampleSources } from "./top-sample.js";
import { openScreen } from "./top-screen.js";
import { manifestScope, noScope, type TopScope } from "./top-scope.js";
import { topSnapshot, type TopSample, type TopSnapshot } from "./top-snapshot.js";

export interface TopOptions {
  filename?: string[];
  namespace?: string;
  kubeconfig?: string;
  metrics?: string[];
  kafka?: string;
  interval: string;
  once: boolean;
  seconds: boolean;
  output: "text" | "json";
}

/** Where `sluice run` serves its metrics: beside the collector, on its default port. */
export const DEFAULT_METRICS_URL = "http://127.0.0.1:8080/metrics";

function intervalMs(text: string): number {
  let ms: number;
  try {
    ms = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  } catch {
    throw usageError(`--interval ${text}: not a duration`, "say 2s, 500ms or 1m (a bare number is seconds)");
  }
  if (!(ms >= 200) || !Number.isFinite(ms)) throw usageError(`--interval ${text}: too short`, "at least 200ms: each refresh reads Kafka offsets for every pipeline");
  return ms;
}

/** The manifests when given (-f); else the cluster of --kubeconfig or $KUBECONFIG. */
async function scopeOf(o: TopOptions): Promise<TopScope> {
  if (o.filename) return manifestScope(o.filename, o.namespace ?? "default");
  if (!o.kubeconfig && !process.env.KUBECONFIG) noScope();
  const kc = loadKubeConfig(o.kubeconfig);
  return clusterScope(kc, o.namespace ?? contextNamespace(kc));
}

function snapshotOf(scope: TopScope, prev: TopSample | undefined, cur: TopSample): TopSnapshot {
  const s = topSnapshot(scope.streams, scope.pipelines, prev, cur);
  return { ...s, notes: [...scope.notes, ...s.notes] };
}

export async function top(o: TopOptions): Promise<void> {
  const interval = intervalMs(o.interval);
  const urls = (o.metrics ?? (o.filename ? [DEFAULT_METRICS_URL] : [])).map((u) => {
    try {
      return metricsUrl(u);
    } catch {
      throw usageError(`--metrics ${u}: not a URL`, "say http://127.0.0.1:8080/metrics, or host:port for its /metrics");
    }
  });
  const brokers = brokersFrom(o.kafka);
  const scope = await scopeOf(o);
  const conn = await connectKafka(brokers, "sluice-top");
  const sources: SampleSources = { kafka: conn.kafka, admin: conn.admin, targets: scope.targets, metricsUrls: urls, seconds: o.seconds, replicas: scope.replicas };
  const context = (live: boolean, width?: number): RenderContext => ({ namespace: scope.namespace, intervalMs: interval, source: scope.source, live, width, noMetrics: urls.length === 0 });
  try {
    const live = !o.once && o.output === "text" && process.stdout.isTTY === true;
    if (live) return await liveView(scope, sources, interval, context);
    const first = await takeSample(sources);
    await new Promise((r) => setTimeout(r, interval));
    const snapshot = snapshotOf(scope, first, await takeSample(sources));
    if (o.output === "json") console.log(JSON.stringify(snapshot, null, 2));
    else console.log(renderTop(snapshot, context(false)).join("\n"));
    if (problems(snapshot)) process.exitCode = EXIT_FAILURE;
  } finally {
    await conn.close();
  }
}

/** A pipeline that could not be measured, or a metrics URL that did not answer. */
function problems(s: TopSnapshot): boolean {
  return s.notes.length > 0 || s.streams.some((st) => st.pipelines.some((p) => p.error));
}

async function liveView(scope: TopScope, sources: SampleSources, interval: number, context: (live: boolean, width?: number) => RenderContext): Promise<void> {
  let last: TopSnapshot | undefined;
  const draw = () => last && screen.draw(renderTop(last, context(true, screen.width())));
  const screen = openScreen(process.stdout, process.stdin, draw);
  let quitting = false;
  void screen.quit.then(() => {
    quitting = true;
    // Give the shell back at once; a Kafka read in flight finishes behind it.
    screen.close();
  });
  try {
    screen.draw([`sluice top  ${scope.source}  reading Kafka and metrics ...  (q quits)`]);
    let prev: TopSample | undefined;
    while (!quitting) {
      const started = Date.now();
      const cur = await takeSample(sources);
      if (quitting) break;
      last = snapshotOf(scope, prev, cur);
      prev = cur;
      draw();
      const wait = Math.max(0, interval - (Date.now() - started));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([screen.quit, new Promise((r) => (timer = setTimeout(r, wait)))]);
      clearTimeout(timer);
    }
  } finally {
    screen.close();
  }
}

export function topCommand(): Command {
  const cmd = new Command("top")
    .description("Live view of each pipeline: events in, rows written, lag, freshness p99, dead letters, replicas, watermark lag")
    .option("-f, --filename <path...>", "manifest files or folders: their streams, Sinks and Aggregations")
    .option("-n, --namespace <ns>", "with -f: the namespace they are compiled in (as `sluice run -n`; default: default); else the cluster namespace to read (default: the kubeconfig context's)")
    .option("--kubeconfig <file>", "without -f: read the Sinks and Aggregations, and their replicas, from this cluster (default: $KUBECONFIG)")
    .option("--metrics <url...>", `Prometheus endpoints to scrape for rates and freshness (host:port means its /metrics; default with -f: sluice run's ${DEFAULT_METRICS_URL}, with a cluster: none, rates from Kafka)`)
    .option("--kafka <brokers>", "Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)")
    .option("--interval <duration>", "time between refreshes (2s, 500ms, 1m)", "2s")
    .option("--once", "print one snapshot and exit (what a non-terminal stdout gets anyway)", false)
    .option("--no-seconds", "skip reading the oldest unconsumed records (lag in seconds then unknown, refreshes cheaper)")
    .addOption(new Option("-o, --output <format>", "text or json (json: one snapshot)").choices(["text", "json"]).default("text"))
    .action((opts: TopOptions) => runAction(() => top(opts)));
  return withHelp(cmd, [
    "sluice top -f examples/clickstream/ -n shop                     # beside `sluice run -f examples/clickstream/ -n shop`",
    "sluice top -f examples/clickstream/ --interval 5s --metrics 10.0.0.7:8080 10.0.0.8:8080",
    "sluice top -f examples/clickstream/ -o json | jq '.streams[].pipelines[] | {name, lagMessages}'",
    "sluice top --kubeconfig ~/.kube/config -n shop --kafka kafka-0.kafka:9092     # a cluster's, with replicas",
  ], [
    "Rates are counter deltas between two refreshes (IN/s: events the collector accepted;",
    "WRITTEN/s: rows a sink wrote, or events an aggregation consumed); where no metrics answer,",
    "they come from Kafka's end offsets and the groups' positions. LAG and LAG(s) are `sluice lag`'s.",
    "FRESH p99: collector accept to written in ClickHouse, over the last refresh. REPLICAS needs a",
    "cluster (\"-\" for manifests). Keys: q or Ctrl-C quits. Not a terminal, --once or -o json:",
    "one snapshot, taken over one interval; exit 1 when a pipeline or a metrics URL could not be read.",
  ]);
}
