/** `sluice worker sink|aggregation --config <file>`: what the operator's Deployments run. */
import { jsonLogger } from "../runtime/log.js";
import { runWorker, type WorkerComponent } from "../runtime/worker/run-worker.js";

export interface WorkerCommandOptions {
  config: string;
  host: string;
  port: string;
}

export async function workerCommand(component: string, opts: WorkerCommandOptions): Promise<void> {
  if (component !== "sink" && component !== "aggregation") throw new Error(`unknown worker "${component}": expected sink or aggregation`);
  const kafka = process.env.KAFKA_BROKERS;
  const clickhouse = process.env.CLICKHOUSE_URL;
  if (!kafka || !clickhouse) throw new Error("sluice worker needs KAFKA_BROKERS and CLICKHOUSE_URL in its environment");
  const log = jsonLogger(`worker-${component}`);
  const worker = await runWorker({
    component: component as WorkerComponent,
    configPath: opts.config,
    kafkaBrokers: kafka.split(","),
    clickhouseUrl: clickhouse,
    host: opts.host,
    port: Number(opts.port),
    log,
  });
  log.info("worker started", { component, ops: worker.opsUrl });
  console.log(JSON.stringify({ ready: true, ops: worker.opsUrl }));
  await new Promise<void>((resolveRun, reject) => {
    const stop = () => void worker.stop().then(resolveRun, reject);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    worker.failed.catch(reject);
  });
}
