/**
 * `sluice tail <stream> [--dlq]`: follows a stream's topic or its dead-letter topic,
 * decoded. It reads by manual assignment (runtime/kafka/confluent/reader.ts): it joins no
 * consumer group and commits nothing, so it can never take partitions from a pipeline.
 */
import { Command, Option } from "commander";
import type { KafkaReader } from "../runtime/kafka/port.js";
import { runAction, usageError, withHelp } from "./exit-codes.js";
import { untilInterrupted } from "./interrupt.js";
import { brokersFrom, connectKafka, requireTopic, unreachable } from "./kafka-connection.js";
import { FROM_HELP, parseStartPosition, resolveStart } from "./start-position.js";
import { resolveStreamTopics } from "./stream-topics.js";
import { formatJson, formatText, tenantOf } from "./tail-format.js";

export interface TailOptions {
  dlq?: boolean;
  filename?: string[];
  namespace?: string;
  topic?: string;
  kubeconfig?: string;
  kafka?: string;
  tenant?: string;
  from: string;
  limit?: string;
  output: "text" | "json";
}

/** Records asked for per read, and how long one read waits for the first (ms). */
const READ_MAX = 500;
const READ_WAIT_MS = 500;

export async function tail(stream: string | undefined, o: TailOptions, stop: AbortSignal): Promise<void> {
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw usageError(`--limit ${o.limit} is not a positive whole number`);
  const from = parseStartPosition(o.from, Date.now());
  const brokers = brokersFrom(o.kafka);
  const topics = await resolveStreamTopics(stream, o);
  const topic = o.dlq ? topics.deadLetterTopic : topics.topic;
  if (topics.source === "default") console.error(`reading ${topic} (the default topic name of stream "${stream}" in namespace ${o.namespace ?? "default"}; pass -f <manifest dir> or --kubeconfig <file> if the stream names its own)`);

  const conn = await connectKafka(brokers, "sluice-tail");
  let reader: KafkaReader | undefined;
  try {
    await requireTopic(conn.admin, topic, o.dlq ? "a dead-letter topic is made with its stream; check --namespace, -f or --topic" : "check the stream name, --namespace (default: default), -f or --topic");
    const start = await resolveStart(conn.admin, topic, from);
    reader = conn.kafka.reader();
    await reader.connect().catch((err: unknown) => Promise.reject(unreachable(brokers, err)));
    reader.assign(topic, start);
    // `| head` closing the pipe ends the tail (writeOut sees it), not a crash on EPIPE.
    process.stdout.on("error", () => {});
    const write = o.output === "json" ? formatJson : (r: Parameters<typeof formatText>[0]) => formatText(r, o.dlq === true);
    let printed = 0;
    while (!stop.aborted && (limit === undefined || printed < limit)) {
      for (const r of await reader.read(READ_MAX, READ_WAIT_MS)) {
        if (o.tenant !== undefined && tenantOf(r, topics.tenantField) !== o.tenant) continue;
        if (!(await writeOut(write(r)))) return;
        if (++printed === limit) break;
      }
    }
  } finally {
    await reader?.disconnect();
    await conn.close();
  }
}

/** Writes with back-pressure; false once stdout is gone (`| head` closed it). */
function writeOut(text: string): Promise<boolean> {
  return new Promise((ok) => {
    if (process.stdout.destroyed) return ok(false);
    process.stdout.write(text, (err) => ok(!err));
  });
}

export function tailCommand(): Command {
  const cmd = new Command("tail")
    .description("Follow a stream's topic (or its dead-letter topic), decoded: one JSON event per line")
    .argument("[stream]", "EventStream name (metadata.name); optional with --topic")
    .option("--dlq", "read the stream's dead-letter topic, each record after a # line with its error headers")
    .option("-f, --filename <path...>", "manifest files or folders declaring the stream (its topic names are taken from there)")
    .option("--namespace <ns>", "namespace the stream lives in (default: default, or with a cluster the kubeconfig context's): topics default to <namespace>.<stream>")
    .option("--kubeconfig <file>", "without -f: read the EventStream from this cluster for its topic names, in --namespace or the context's namespace")
    .option("--topic <topic>", "read this topic directly instead of a stream's")
    .option("--kafka <brokers>", "Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)")
    .option("--tenant <id>", "only this tenant's events (the sluice-tenant header, else the stream's tenant field)")
    .option("--from <position>", FROM_HELP, "latest")
    .option("-n, --limit <N>", "stop after printing N events (default: follow until Ctrl-C)")
    .addOption(new Option("-o, --output <format>", "text: the events; json: one object per record with partition, offset, timestamp, key, headers and value").choices(["text", "json"]).default("text"))
    .action((stream: string | undefined, opts: TailOptions) =>
      runAction(() => untilInterrupted((signal) => tail(stream, opts, signal))),
    );
  return withHelp(cmd, [
    "sluice tail page-views -f examples/clickstream                  # new events as they arrive",
    "sluice tail page-views --namespace shop --from 10m --tenant shop-a",
    "sluice tail page-views --kubeconfig ~/.kube/config --dlq        # topic names from the EventStream as applied",
    "sluice tail page-views --dlq --from earliest -n 20              # the oldest kept dead letters, with why",
    "sluice tail --topic shop.page-views --from 2026-11-29T14:00:00Z -o json | jq .value.url",
  ], [
    "It joins no consumer group (partitions are assigned by hand) and commits nothing:",
    "tailing never moves a pipeline's partitions or offsets. -n is --limit here; the",
    "namespace is --namespace.",
  ]);
}
