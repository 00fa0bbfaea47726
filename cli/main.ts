/** The `sluice` command line. */
import { Command } from "commander";
import { crdsCommand } from "./crds-command.js";
import { lagCommand } from "./lag-command.js";
import { replayCommand } from "./replay-command.js";
import { runCommand } from "./run-command.js";
import { sendCommand } from "./send-command.js";
import { tailCommand } from "./tail-command.js";
import { topCommand } from "./top-command.js";
import { operatorCommand } from "./operator-command.js";
import { validatePaths } from "./validate-command.js";
import { workerCommand } from "./worker-command.js";
import { withHelp } from "./exit-codes.js";

export function program(): Command {
  const cli = new Command("sluice").description("Declarative real-time event pipelines: Kafka in, ClickHouse out.");
  cli
    .command("validate")
    .description("Validate EventStream, Aggregation and Sink manifests offline with the API's own schemas")
    .requiredOption("-f, --filename <path...>", "manifest files or folders (YAML, multi-document)")
    .action((opts: { filename: string[] }) => {
      const report = validatePaths(opts.filename);
      (report.ok ? console.log : console.error)(report.lines.join("\n"));
      process.exitCode = report.ok ? 0 : 1;
    });
  cli
    .command("run")
    .description("Run the pipeline declared in a folder locally: collector and sinks in one process, topics and tables created as needed")
    .requiredOption("-f, --filename <path...>", "manifest files or folders, with the Secrets they reference")
    .option("--kafka <brokers>", "Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)")
    .option("--clickhouse <url>", "ClickHouse HTTP URL (default: $CLICKHOUSE_URL)")
    .option("--host <host>", "collector listen address", "127.0.0.1")
    .option("--port <port>", "collector port (0: any free port)", "8080")
    .option("-n, --namespace <ns>", "namespace the manifests are compiled in (topic names default to <namespace>.<stream>)", "default")
    .action(async (opts) => {
      try {
        await runCommand(opts);
      } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        process.exitCode = 1;
      }
    });
  cli
    .command("operator")
    .description("Run the Sluice operator: reconcile EventStreams and Sinks into Kafka topics, ClickHouse tables and workers")
    .option("--kafka <brokers>", "Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)")
    .option("--clickhouse <url>", "ClickHouse HTTP URL (default: $CLICKHOUSE_URL)")
    .option("--kafka-cluster <name=brokers...>", "a further Kafka cluster resources may name in spec.clusters.kafka (repeatable)")
    .option("--clickhouse-cluster <name=url...>", "a further ClickHouse resources may name in spec.clusters.clickhouse (repeatable)")
    .option("--worker-image <image>", "image the sink and aggregation workers run (default: $SLUICE_WORKER_IMAGE)")
    .option("-n, --namespace <ns...>", "namespaces to watch (default: $SLUICE_WATCH_NAMESPACES, else all)")
    .option("--resync <duration>", "reconcile every object at least this often", "5m")
    .option("--autoscale-interval <duration>", "how often each Sink/Aggregation's lag is sampled and its replicas decided", "5s")
    .option("--autoscale-lookback <duration>", "incoming and consumed rates are measured over this much history", "30s")
    .option("--autoscale-settle-timeout <duration>", "a rebalance or pod start-up holds scaling decisions at most this long", "2m")
    .option("--workers <n>", "reconciles running at once per kind", "4")
    .option("--metrics-port <port>", "port of /metrics, /healthz and /readyz (0: any free port, logged at start)", "9090")
    .option("--no-leader-elect", "run without leader election (one local process only)")
    .option("--leader-election-namespace <ns>", "namespace of the Lease (default: $POD_NAMESPACE, else default)")
    .option("--leader-election-id <name>", "name of the Lease; operators sharing a namespace need distinct ones (default: sluice-operator)")
    .action(async (opts) => {
      try {
        await operatorCommand(opts);
      } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        process.exitCode = 1;
      }
    });
  cli
    .command("worker")
    .description("Run one sink, aggregation or collector worker from its compiled config (what the operator's Deployments run)")
    .argument("<component>", "sink, aggregation or collector")
    .requiredOption("--config <file>", "compiled worker config (the operator mounts it from a ConfigMap)")
    .option("--keys <dir>", "collector: folder of API keys, one file per tenant (the stream's mounted Secret)")
    .option("--host <host>", "listen address of the ops endpoint (/healthz, /readyz, /metrics; the collector serves events there too)", "0.0.0.0")
    .option("--port <port>", "ops endpoint port (0: any free port)", "8080")
    .action(async (component: string, opts) => {
      try {
        await workerCommand(component, opts);
      } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        process.exitCode = 1;
      }
    });
  cli.addCommand(crdsCommand());
  cli.addCommand(tailCommand());
  cli.addCommand(lagCommand());
  cli.addCommand(sendCommand());
  cli.addCommand(replayCommand());
  cli.addCommand(topCommand());
  // The first four commands get the same help and exit codes as the day-two ones: examples,
  // the codes listed, and commander's parse errors (unknown option, missing argument) as 2.
  const examples: Record<string, string[]> = {
    validate: ["sluice validate -f examples/                    # every manifest there; exit 1 names file, document and field"],
    run: ["source .testbed/env && sluice run -f examples/clickstream/ -n shop   # collector on :8080, sinks and aggregations"],
    operator: ["sluice operator --kafka kafka:9092 --clickhouse http://clickhouse:8123 --worker-image registry.example.com/sluice:0.1.0   # what the chart runs"],
    worker: ["sluice worker sink --config /etc/sluice/worker.json   # what the operator's Deployments run"],
  };
  for (const cmd of cli.commands) if (examples[cmd.name()]) withHelp(cmd, examples[cmd.name()]!);
  return withHelp(cli, [
    "sluice validate -f examples/clickstream/",
    "sluice run -f examples/clickstream/",
    "sluice send page-views --generate 1000 --rate 100 -f examples/clickstream/ --tenant shop-a",
    "sluice top -f examples/clickstream/",
    "sluice <command> --help                          # each command's options and examples",
  ]);
}

await program().parseAsync(process.argv);
