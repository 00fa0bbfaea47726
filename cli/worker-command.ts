/** `sluice worker sink|aggregation|collector --config <file>`: what the operator's Deployments run. */
import { jsonLogger } from "../runtime/log.js";
import { runWorker, type WorkerComponent } from "../runtime/worker/run-worker.js";
import { growHeapWithinPodLimit } from "../runtime/worker/heap-growth.js";

export interface WorkerCommandOptions {
  config: string;
  keys?: string;
  host: string;
  port: string;
}

export async function workerCommand(component: string, opts: WorkerCommandOptions): Promise<void> {
  if (component !== "sink" && component !== "aggregation" && component !== "collector") throw new Error(`unknown worker "${component}": expected sink, aggregation or collector`);
  const kafka = process.env.KAFKA_BROKERS;
  const clickhouse = process.env.CLICKHOUSE_URL ?? "";
  if (!kafka) throw new Error("sluice worker needs KAFKA_BROKERS in its environment");
  if (component !== "collector" && !clickhouse) throw new Error(`sluice worker ${component} needs CLICKHOUSE_URL in its environment`);
  const log = jsonLogger(`worker-${component}`);
  // Before any work: a pod's heap cap otherwise makes V8 collect far more often (heap-growth.ts).
  const heapGrowth = growHeapWithinPodLimit();
  const worker = await runWorker({
    component: component as WorkerComponent,
    configPath: opts.config,
    ...(opts.keys !== undefined && { keysDir: opts.keys }),
    kafkaBrokers: kafka.split(","),
    clickhouseUrl: clickhouse,
    host: opts.host,
    port: Number(opts.port),
    log,
  });
  log.info("worker started", { component, ops: worker.opsUrl, podHeapGrowth: heapGrowth });
  console.log(JSON.stringify({ ready: true, ops: worker.opsUrl }));
  await new Promise<void>((resolveRun, reject) => {
    const stop = () => void worker.stop().then(resolveRun, reject);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    worker.failed.catch(reject);
  });
}
