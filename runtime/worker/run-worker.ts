/**
 * One worker process as the operator deploys it: a sink or an aggregation from its
 * compiled config, plus the ops endpoint; or a stream's collector, whose own server
 * answers /healthz, /readyz and /metrics beside the events endpoint. Fails loudly (the returned promise rejects) on
 * an unrecoverable error, so Kubernetes restarts the pod and the event is visible.
 */
import type { CompiledSink, CompiledStream } from "../pipeline/compiled.js";
import { startCollector } from "../collector/server.js";
import type { CompiledAggregationJob } from "../aggregation-worker/index.js";
import { startAggregation } from "../aggregation-worker/index.js";
import { startSink } from "../sink/index.js";
import { RetryBoard } from "../sink/retry-board.js";
import { createRegistry } from "../metrics/registry.js";
import type { Logger } from "../log.js";
import { readKeysDir, readWorkerConfig, WorkerConfigError } from "./config-file.js";
import { watchKafkaReachability } from "./kafka-reachability.js";
import { startOpsServer } from "./ops-server.js";

export type WorkerComponent = "sink" | "aggregation" | "collector";

export interface WorkerOptions {
  component: WorkerComponent;
  configPath: string;
  /** Collector: a folder with one file per tenant holding its API key (a mounted Secret). */
  keysDir?: string;
  kafkaBrokers: string[];
  /** Not used by the collector. */
  clickhouseUrl: string;
  host: string;
  port: number;
  log: Logger;
}

export interface RunningWorker {
  opsUrl: string;
  failed: Promise<never>;
  stop(): Promise<void>;
}

export async function runWorker(o: WorkerOptions): Promise<RunningWorker> {
  if (o.component === "collector") return runCollector(o);
  // Read the config before opening any socket: a bad config must end the process at once.
  const config = readWorkerConfig<CompiledSink | CompiledAggregationJob>(o.configPath);
  const registry = createRegistry();
  let ready = false;
  const kafka = watchKafkaReachability(o.kafkaBrokers);
  const retries = new RetryBoard();
  const ops = await startOpsServer({ host: o.host, port: o.port, registry, ready: () => ready && kafka.reachable(), retries: () => retries.report(),
    kafka: () => ({ reachable: kafka.reachable(), lastAnswerAt: new Date(kafka.lastAnswerMs()).toISOString() }) });
  const common = { kafkaBrokers: o.kafkaBrokers, clickhouseUrl: o.clickhouseUrl, registry, logger: o.log, retries };
  let handle;
  try {
    handle =
      o.component === "sink"
        ? await startSink({ ...common, sink: config as CompiledSink })
        : await startAggregation({ ...common, aggregation: config as CompiledAggregationJob });
  } catch (err) {
    kafka.stop();
    await ops.stop();
    throw err;
  }
  ready = true;
  handle.failed.catch(() => (ready = false));
  return {
    opsUrl: ops.url,
    failed: handle.failed,
    stop: async () => {
      ready = false;
      kafka.stop();
      await handle.stop();
      await ops.stop();
    },
  };
}

async function runCollector(o: WorkerOptions): Promise<RunningWorker> {
  const stream = readWorkerConfig<CompiledStream>(o.configPath);
  const secrets = new Map<string, Record<string, string>>();
  if (stream.ingest.authSecret !== undefined) {
    if (o.keysDir === undefined) throw new WorkerConfigError(`stream ${stream.name} requires API keys (Secret ${stream.ingest.authSecret}): pass --keys <dir>`);
    secrets.set(stream.ingest.authSecret, readKeysDir(o.keysDir));
  }
  const collector = await startCollector({ streams: [stream], secrets, kafkaBrokers: o.kafkaBrokers, host: o.host, port: o.port, registry: createRegistry(), logger: o.log });
  return { opsUrl: collector.url, failed: new Promise<never>(() => {}), stop: () => collector.stop() };
}
