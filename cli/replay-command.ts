/**
 * `sluice replay <sink|aggregation> --from <position>`: moves a pipeline's consumer group
 * back so its workers read again, relying on the tables' dedupe. The rules (what is safe,
 * and why) are replay-plan.ts; this file reads the numbers from Kafka, refuses with a hint,
 * commits the new offsets from outside the group (never joining it), checks Kafka stored
 * them, and follows the workers' progress.
 */
import { Command, Option } from "commander";
import type { KafkaAdmin } from "../runtime/kafka/port.js";
import { CliError, runAction, usageError, withHelp } from "./exit-codes.js";
import { untilInterrupted } from "./interrupt.js";
import { clusterTargets } from "./cluster-targets.js";
import { brokersFrom, connectKafka, requireTopic, type Connection } from "./kafka-connection.js";
import { contextNamespace, loadKubeConfig } from "./kube-config.js";
import { lagTargets, type LagTarget } from "./lag-targets.js";
import { formatPlanText, type PlanHeading } from "./replay-format.js";
import { planReplay, type PartitionFacts, type ReplayPlan } from "./replay-plan.js";
import { followReplay, type FollowResult } from "./replay-progress.js";
import { FROM_HELP, parseStartPosition, type StartPosition } from "./start-position.js";

export interface ReplayOptions {
  from: string;
  filename?: string[];
  /** Unset: "default" for manifests, the kubeconfig context's namespace for a cluster. */
  namespace?: string;
  kubeconfig?: string;
  group?: string;
  topic?: string;
  kafka?: string;
  dryRun?: boolean;
  clamp?: boolean;
  allowSkip?: boolean;
  wait: boolean;
  progress: boolean;
  output: "text" | "json";
}

interface Target extends LagTarget {
  topic: string;
  /** Where a Sink or Aggregation lives, for the kubectl hints; undefined for a bare group. */
  namespace?: string;
}

export async function replay(resource: string | undefined, o: ReplayOptions, stop: AbortSignal): Promise<void> {
  const from = parseStartPosition(o.from, Date.now());
  const target = await replayTarget(resource, o);
  const conn = await connectKafka(brokersFrom(o.kafka), "sluice-replay");
  try {
    await run(conn, target, from, o, stop);
  } finally {
    await conn.close();
  }
}

/** As `sluice lag` finds them: from the manifests (-f), a bare --group, or else the kubeconfig's cluster. */
async function replayTarget(resource: string | undefined, o: ReplayOptions): Promise<Target> {
  if (o.group && !o.topic) throw usageError("--group needs --topic: the topic whose offsets to move", `sluice replay --group ${o.group} --topic <topic> --from ...`);
  if (!o.group && !resource) {
    throw usageError("name the Sink or Aggregation to replay", "sluice replay <name> -n <namespace> --from ... (a cluster's, or with -f <manifest dir> the manifests'), or --group <id> --topic <topic>");
  }
  if (o.group) {
    const [t] = lagTargets(resource, { namespace: "default", group: [o.group], topic: [o.topic!] });
    return { ...t!, topic: o.topic! };
  }
  if (o.filename) {
    const namespace = o.namespace ?? "default";
    const [t] = lagTargets(resource, { filename: o.filename, namespace });
    return { ...t!, topic: t!.topics![0]!, namespace };
  }
  const namespace = contextNamespace(loadKubeConfig(o.kubeconfig), o.namespace);
  const [t] = await clusterTargets(resource, namespace, o.kubeconfig);
  const topic = t!.topics?.[0];
  if (!topic) {
    throw usageError(`${t!.kind} ${t!.name} in namespace ${namespace} reads no stream (an Aggregation's output?): its topic is not known here`, `sluice replay --group ${t!.groupId} --topic <the topic it reads> --from ...`);
  }
  return { ...t!, topic, namespace };
}

async function run(conn: Connection, t: Target, from: StartPosition, o: ReplayOptions, stop: AbortSignal): Promise<void> {
  const admin = conn.admin;
  await requireTopic(admin, t.topic, t.kind === "group" ? "check --topic" : "is the pipeline deployed (kubectl apply, or sluice run) in this namespace (-n)?");
  const [group, marks, committed, byTime] = await Promise.all([
    admin.describeGroupMembers(t.groupId),
    admin.fetchTopicOffsets(t.topic),
    admin.fetchOffsets({ groupId: t.groupId, topics: [t.topic] }),
    from.kind === "time" ? admin.fetchTopicOffsetsByTime(t.topic, from.ms) : Promise.resolve([]),
  ]);
  const commits = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p]));
  const forTime = new Map(byTime.map((p) => [p.partition, Number(p.offset)]));
  const facts: PartitionFacts[] = marks.map((m) => ({
    partition: m.partition,
    committed: Number(commits.get(m.partition)?.offset ?? -1),
    metadata: commits.get(m.partition)?.metadata ?? null,
    low: Number(m.low),
    high: Number(m.high),
    offsetForTime: forTime.get(m.partition),
  }));
  const aggregation = isAggregation(t, facts);
  const plan = planReplay({ aggregation, from, clamp: o.clamp === true, allowSkip: o.allowSkip === true, partitions: facts });
  // A time is matched against Kafka's record timestamps (when the collector produced the
  // event), not the events' own event time: said where it is printed.
  const fromTime = from.kind === "time" ? new Date(from.ms).toISOString() : undefined;
  const heading: PlanHeading = { kind: t.kind, name: t.name, groupId: t.groupId, topic: t.topic, from: o.from, fromTime, state: group.state, members: group.members.length };
  const json = (extra: Record<string, unknown>) => {
    if (o.output === "json") console.log(JSON.stringify({ ...heading, aggregation, dryRun: o.dryRun === true, ...plan, ...extra }, null, 2));
  };
  if (o.output === "text") process.stdout.write(formatPlanText(heading, plan));

  if (plan.refusals.length > 0) {
    json({ reset: false });
    throw refusal(plan);
  }
  const live = group.members.length > 0 ? liveGroup(t, group.members.length, group.state) : undefined;
  if (o.dryRun) {
    json({ reset: false, blockedBy: live ? live.message : null });
    if (o.output === "text") console.log(`dry run: nothing changed.${live ? ` Before the replay: ${live.message}; ${live.hint}` : ""}`);
    return;
  }
  if (live) {
    json({ reset: false });
    throw live;
  }
  if (plan.commits.length === 0) {
    json({ reset: false });
    if (o.output === "text") console.log(`nothing to replay: group ${t.groupId} already starts where --from ${o.from} points on every partition`);
    return;
  }
  await reset(conn, t, plan);
  if (o.output === "text") console.log(`reset: group ${t.groupId} now starts ${plan.commits.map((c) => `partition ${c.partition} at ${c.offset}`).join(", ")}`);
  let followed: FollowResult | undefined;
  if (o.wait) {
    followed = await followReplay(admin, { groupId: t.groupId, topic: t.topic, aggregation, restartHint: restartHint(t) }, plan.partitions.filter((p) => p.change), {
      bar: o.progress && o.output === "text" && process.stderr.isTTY === true,
      stop,
    });
    if (o.output === "text") console.log(summary(followed, plan));
  } else if (o.output === "text") {
    console.log(`not following (--no-wait): ${restartHint(t)}; sluice lag shows the progress`);
  }
  json({ reset: true, followed: followed ?? null });
}

/** Named an Aggregation, or a bare group that is one (its id, or a checkpoint in its commit metadata). */
function isAggregation(t: Target, facts: PartitionFacts[]): boolean {
  if (t.kind !== "group") return t.kind === "Aggregation";
  return /^sluice\.[^.]+\.aggregation\./.test(t.groupId) || facts.some((f) => f.metadata?.startsWith('{"v":') === true);
}

function refusal(plan: ReplayPlan): CliError {
  const reasons = plan.refusals.map((r) => r.reason);
  const hints = [...new Set(plan.refusals.map((r) => r.hint))];
  return new CliError(`replay refused, nothing changed:\n  ${reasons.join("\n  ")}`, hints.join("\n  hint: "));
}

function liveGroup(t: Target, members: number, state: string): CliError {
  return new CliError(
    `group ${t.groupId} has ${members} active member${members === 1 ? "" : "s"} (state ${state}): Kafka refuses offsets for a group with members, and a worker still reading would carry on from its own position`,
    `stop the workers first, ${stopHint(t)}; replay; then ${restartHint(t)}`,
  );
}

function kubeKind(t: Target): string | undefined {
  return t.kind === "Sink" ? "sink" : t.kind === "Aggregation" ? "aggregation" : undefined;
}

function stopHint(t: Target): string {
  const k = kubeKind(t);
  if (!k) return "every consumer of the group (wait until `sluice lag --group " + t.groupId + "` shows 0 members)";
  return `on a cluster with \`kubectl scale ${k}/${t.name} -n ${t.namespace} --replicas=0\` (it sets spec.scaling.replicas, which also holds the lag autoscaler off; wait until \`sluice lag ${t.name}\` shows 0 members), locally by stopping \`sluice run\``;
}

function restartHint(t: Target): string {
  const k = kubeKind(t);
  if (!k) return "start the group's consumers again";
  return `start the workers again: \`kubectl scale ${k}/${t.name} -n ${t.namespace} --replicas=<n>\` for a fixed count, or back to lag autoscaling with \`kubectl patch ${k}/${t.name} -n ${t.namespace} --type=json -p '[{"op":"remove","path":"/spec/scaling/replicas"}]'\` (locally: start \`sluice run\` again)`;
}

async function reset(conn: Connection, t: Target, plan: ReplayPlan): Promise<void> {
  try {
    await conn.kafka.commitGroupOffsets(t.groupId, plan.commits.map((c) => ({ topic: t.topic, partition: c.partition, offset: String(c.offset), metadata: null })));
  } catch (err) {
    throw new CliError(`resetting group ${t.groupId} failed: ${err instanceof Error ? err.message : String(err)}`, `a worker may have joined the group meanwhile: ${stopHint(t)}, then run the replay again`);
  }
  // Kafka answered; what it stores is what the workers will read, so it is checked.
  const stored = await storedOffsets(conn.admin, t);
  const wrong = plan.commits.filter((c) => stored.get(c.partition)?.offset !== c.offset || stored.get(c.partition)?.metadata);
  // Workers that joined after the commit started from it (Kafka refused it while any was
  // there), so their own commits since are progress, not a failed reset.
  if (wrong.length > 0 && (await conn.admin.describeGroup(t.groupId)).members === 0) {
    throw new CliError(
      `group ${t.groupId}: Kafka stores ${wrong.map((c) => `partition ${c.partition} at ${stored.get(c.partition)?.offset ?? "nothing"}`).join(", ")}, not the offsets just committed`,
      "a worker joined and committed meanwhile? check with sluice lag, stop the workers, and replay again",
    );
  }
}

async function storedOffsets(admin: KafkaAdmin, t: Target): Promise<Map<number, { offset: number; metadata: string | null }>> {
  const fetched = await admin.fetchOffsets({ groupId: t.groupId, topics: [t.topic] });
  return new Map((fetched[0]?.partitions ?? []).map((p) => [p.partition, { offset: Number(p.offset), metadata: p.metadata || null }]));
}

function summary(f: FollowResult, plan: ReplayPlan): string {
  const parts = `${plan.totals.changed} partition${plan.totals.changed === 1 ? "" : "s"}`;
  if (f.complete) return `replayed: the group read ${f.total} messages on ${parts} up to the end offsets taken at the reset, in ${f.seconds.toFixed(1)} s`;
  return `stopped following after ${f.seconds.toFixed(1)} s: ${f.done} of ${f.total} messages read on ${parts}; the replay goes on in the workers (sluice lag shows where they are)`;
}

export function replayCommand(): Command {
  const cmd = new Command("replay")
    .description("Re-read a Sink's or Aggregation's input from a time or offset: reset its consumer group (workers stopped), relying on the tables' dedupe")
    .argument("[resource]", "the Sink or Aggregation of the manifests (-f) to replay")
    .requiredOption("--from <position>", `where to read again from: ${FROM_HELP.replace("latest, ", "")}`)
    .option("-f, --filename <path...>", "manifest files or folders declaring the resource (default: the resource in the kubeconfig's cluster)")
    .option("-n, --namespace <ns>", "namespace of the resource: with -f the one the manifests are compiled in (default: default), else the cluster's (default: the kubeconfig context's); group ids are sluice.<namespace>.sink|aggregation.<name>")
    .option("--kubeconfig <file>", "without -f: the cluster to find the resource in (default: $KUBECONFIG, else ~/.kube/config)")
    .option("--group <id>", "a consumer group to reset instead of a resource's (with --topic)")
    .option("--topic <topic>", "with --group: the topic whose offsets to reset")
    .option("--kafka <brokers>", "Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)")
    .option("--dry-run", "show per partition the committed offset, the new one and what would be re-read; change nothing")
    .option("--clamp", "start a partition whose --from offset was deleted by retention (or is past its end) at the nearest kept offset")
    .option("--allow-skip", "allow moving a partition forward past records the group has not read (they are then never written)")
    .option("--no-wait", "return right after the reset instead of following the workers until they have re-read it")
    .option("--no-progress", "no progress bar while following (it is shown only on a terminal anyway)")
    .addOption(new Option("-o, --output <format>", "text or json").choices(["text", "json"]).default("text"))
    .action((resource: string | undefined, opts: ReplayOptions) =>
      runAction(() => untilInterrupted((signal) => replay(resource, opts, signal))),
    );
  return withHelp(cmd, [
    "sluice replay page-views-raw -n shop --from 2h --dry-run                            # what would be re-read (resource from the cluster)",
    "kubectl scale sink/page-views-raw -n shop --replicas=0                              # stop its workers, then:",
    "sluice replay page-views-raw -f examples/clickstream/ -n shop --from 2026-11-29T14:00:00Z",
    "sluice replay active-users-per-minute -f examples/clickstream/ -n shop --from earliest --no-wait",
    "sluice replay --group sluice.shop.sink.page-views-raw --topic shop.page-views --from 1200 -o json",
  ], [
    "The group's workers must be stopped: Kafka refuses offsets for a group with members.",
    "(`kubectl scale --replicas=0` also holds the lag autoscaler off until spec.scaling.replicas",
    "is removed again; the refusal prints both commands.)",
    "A time or duration is matched against Kafka's record timestamps (when the collector",
    "accepted the event), not the events' event time.",
    "A Sink re-reads safely: its table dedupes by event id (count with FINAL or uniqExact).",
    "Moving forward past unread records is refused (--allow-skip), and so is an offset",
    "retention deleted (--clamp). An Aggregation is replayed only from offset 0 of every",
    "partition with nothing deleted (a full recompute): from elsewhere it would start without",
    "its event-time state and could count late events and write partial windows.",
    "Dead letters of re-read poison records are written again. After the reset it follows the",
    "group up to the end offsets taken then (Ctrl-C stops following, not the replay).",
    "--dry-run exits 1 where the replay would be refused; live workers it only reports.",
  ]);
}
