import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startClickHouse } from "./clickhouse.js";
import { startKafka } from "./kafka.js";
import { startKube } from "./kube.js";
import { binDir, envFile, pidsFile, repoRoot, stateDir } from "./paths.js";
import { alive, type ServerHandle } from "./server-process.js";

export interface TestbedEnv {
  KAFKA_BROKERS: string;
  CLICKHOUSE_URL: string;
  KUBECONFIG: string;
  SLUICE_TESTBED_LOGS: string;
}

export interface Testbed {
  env: TestbedEnv;
  dataDir: string;
  servers: ServerHandle[];
  stop: () => Promise<void>;
}

export interface TestbedOptions {
  /** Servers outlive this process (make testbed-up) instead of dying with it. */
  detached?: boolean;
  kafkaBrokers?: number;
  kafkaVersion?: string;
  /** Folder for server logs; kept after stop so failures can be read. */
  logDir?: string;
}

/**
 * Starts Kafka, ClickHouse and a Kubernetes API server in parallel on free loopback
 * ports, each in its own folder under a fresh temp dir. If any fails, the others are
 * stopped and the error names the failing server with the tail of its log.
 */
export async function startTestbed(opts: TestbedOptions = {}): Promise<Testbed> {
  pruneAbandonedDataDirs();
  const dataDir = mkdtempSync(join(tmpdir(), DATA_PREFIX));
  // A run killed before its teardown cannot delete its folder; the next run does.
  writeFileSync(join(dataDir, "owner.pid"), String(opts.detached ? 0 : process.pid));
  const logDir = opts.logDir ?? join(dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const detached = opts.detached ?? false;
  const started: ServerHandle[] = [];
  const track = <T extends { servers: ServerHandle[] }>(p: Promise<T>) => p.then((v) => (started.push(...v.servers), v));
  const results = await Promise.allSettled([
    track(startKafka({ dir: join(dataDir, "kafka"), logDir, brokers: opts.kafkaBrokers, version: opts.kafkaVersion, detached })),
    track(startClickHouse({ dir: join(dataDir, "clickhouse"), logDir, detached })),
    track(startKube({ dir: join(dataDir, "kube"), logDir, detached })),
  ]);
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failures.length > 0) {
    // Servers that failed readiness were spawned but not tracked; their process
    // groups die via pdeathsig (attached) or are listed in the error (detached).
    await stop();
    throw new Error(failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join("\n\n"));
  }
  const [kafka, clickhouse, kube] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof startKafka>>,
    Awaited<ReturnType<typeof startClickHouse>>,
    Awaited<ReturnType<typeof startKube>>,
  ];
  return {
    env: { KAFKA_BROKERS: kafka.bootstrap, CLICKHOUSE_URL: clickhouse.url, KUBECONFIG: kube.kubeconfig, SLUICE_TESTBED_LOGS: logDir },
    dataDir,
    servers: started,
    stop,
  };
}

const DATA_PREFIX = "sluice-testbed-";

function pruneAbandonedDataDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(DATA_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    const owner = existsSync(join(dir, "owner.pid")) ? Number(readFileSync(join(dir, "owner.pid"), "utf8")) : 0;
    if (owner > 0 && !alive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Shell-sourceable: `source .testbed/env` then kubectl, kcat and curl reach the testbed. */
export function envFileText(env: TestbedEnv): string {
  const path = [binDir, join(repoRoot, "bin"), join(repoRoot, "node_modules", ".bin")].join(":");
  return [
    ...Object.entries(env).map(([k, v]) => `export ${k}='${v}'`),
    `export PATH='${path}':"$PATH"`,
    "",
  ].join("\n");
}

export function writeState(tb: Testbed): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(envFile, envFileText(tb.env));
  writeFileSync(
    pidsFile,
    JSON.stringify({ dataDir: tb.dataDir, servers: tb.servers.map((s) => ({ name: s.name, pid: s.pid })) }, null, 2),
  );
}
