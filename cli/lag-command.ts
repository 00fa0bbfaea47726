/**
 * `sluice lag [<resource>]`: how far each pipeline's consumer group is behind, per
 * partition, in messages and seconds, with the group's state and members. It only reads
 * (admin calls, and a manual-assignment read of the oldest unconsumed records).
 */
import { Command, Option } from "commander";
import { runAction, EXIT_FAILURE, withHelp } from "./exit-codes.js";
import { brokersFrom, connectKafka } from "./kafka-connection.js";
import { formatLagText } from "./lag-format.js";
import { observeTarget, type GroupLag } from "./lag-observe.js";
import { clusterTargets } from "./cluster-targets.js";
import { lagTargets } from "./lag-targets.js";

export interface LagOptions {
  filename?: string[];
  /** Unset: "default" for manifests, the kubeconfig context's namespace for a cluster. */
  namespace?: string;
  group?: string[];
  topic?: string[];
  kafka?: string;
  kubeconfig?: string;
  seconds: boolean;
  output: "text" | "json";
}

export async function lag(resource: string | undefined, o: LagOptions): Promise<void> {
  // No manifests and no groups: the Sinks and Aggregations of the kubeconfig's cluster.
  const targets = !o.filename && !o.group ? await clusterTargets(resource, o.namespace, o.kubeconfig) : lagTargets(resource, { ...o, namespace: o.namespace ?? "default" });
  const conn = await connectKafka(brokersFrom(o.kafka), "sluice-lag");
  const groups: GroupLag[] = [];
  try {
    for (const t of targets) groups.push(...(await observeTarget(conn.kafka, conn.admin, t, { seconds: o.seconds, nowMs: Date.now })));
  } finally {
    await conn.close();
  }
  if (o.output === "json") console.log(JSON.stringify({ groups }, null, 2));
  else process.stdout.write(formatLagText(groups) || "no topics to measure: the group has no committed offsets and no members\n");
  if (groups.some((g) => g.error)) process.exitCode = EXIT_FAILURE;
}

export function lagCommand(): Command {
  const cmd = new Command("lag")
    .description("Lag of each pipeline's consumer group per partition, in messages and seconds, with the group's state and members")
    .argument("[resource]", "only this Sink or Aggregation")
    .option("-f, --filename <path...>", "manifest files or folders: their Sinks' and Aggregations' groups (default: those in the kubeconfig's cluster)")
    .option("-n, --namespace <ns>", "namespace of the resources: with -f the one they are compiled in (default: default), else the cluster's (default: the kubeconfig context's); group ids are sluice.<namespace>.sink|aggregation.<name>")
    .option("--kubeconfig <file>", "without -f: the cluster to read Sinks and Aggregations from (default: $KUBECONFIG, else ~/.kube/config)")
    .option("--group <id...>", "consumer group ids to measure instead of the manifests'")
    .option("--topic <topic...>", "with --group: only these topics (default: those it committed on or is assigned)")
    .option("--kafka <brokers>", "Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)")
    .option("--no-seconds", "skip reading the oldest unconsumed record of each lagging partition (lag in seconds then unknown)")
    .addOption(new Option("-o, --output <format>", "text or json").choices(["text", "json"]).default("text"))
    .action((resource: string | undefined, opts: LagOptions) => runAction(() => lag(resource, opts)));
  return withHelp(cmd, [
    "sluice lag -n shop --kafka kafka:9092                   # every sink and aggregation of namespace shop in the kubeconfig's cluster",
    "sluice lag -f examples/clickstream/ -n shop             # those of the manifests, as sluice run compiles them",
    "sluice lag page-views-raw -f examples/clickstream/ -o json | jq '.groups[0].lag'",
    "sluice lag --group sluice.shop.sink.page-views-raw",
  ], [
    "Lag in messages is the end offset minus the group's position: its committed offset, or",
    "further where an Aggregation's commit metadata says it has read (as the autoscaler counts).",
    "Lag in seconds is the age of the oldest unconsumed record, read by manual assignment (no",
    "group joined); \"?\" with a reason where it could not be read within 5 s.",
  ]);
}
