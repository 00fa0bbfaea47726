/** `sluice run -f <dir>`: the declared pipeline, locally, against real Kafka and ClickHouse. */
import { loadPipeline } from "../runtime/pipeline/load.js";
import { runPipeline } from "../runtime/pipeline/run-pipeline.js";
import { jsonLogger } from "../runtime/log.js";

export interface RunCommandOptions {
  filename: string[];
  kafka?: string;
  clickhouse?: string;
  host: string;
  port: string;
  namespace: string;
}

export async function runCommand(opts: RunCommandOptions): Promise<void> {
  const kafka = opts.kafka ?? process.env.KAFKA_BROKERS;
  const clickhouse = opts.clickhouse ?? process.env.CLICKHOUSE_URL;
  if (!kafka || !clickhouse) {
    throw new Error("sluice run needs Kafka and ClickHouse: pass --kafka and --clickhouse, or set KAFKA_BROKERS and CLICKHOUSE_URL (`source .testbed/env` after `make testbed-up`)");
  }
  const log = jsonLogger("sluice-run");
  const pipeline = loadPipeline(opts.filename, opts.namespace);
  const running = await runPipeline({
    pipeline,
    kafkaBrokers: kafka.split(","),
    clickhouseUrl: clickhouse,
    host: opts.host,
    port: Number(opts.port),
    log,
  });
  for (const s of pipeline.streams) {
    console.log(`collector: POST ${running.collectorUrl}/v1/streams/${s.name}/events  (topic ${s.topic})`);
  }
  for (const s of pipeline.sinks) console.log(`sink ${s.name}: ${s.stream.topic} -> ${s.database}.${s.table}`);
  console.log(`metrics: ${running.collectorUrl}/metrics   (Ctrl-C stops, finishing in-flight work)`);
  await new Promise<void>((resolveRun, reject) => {
    const stop = () => void running.stop().then(resolveRun, reject);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    running.failed.catch(async (err: unknown) => {
      log.error("worker failed", { error: err instanceof Error ? err.message : String(err) });
      await running.stop().catch(() => {});
      reject(err);
    });
  });
}
