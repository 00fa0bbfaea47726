import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startClickHouse } from "./clickhouse.js";
import { buildImages } from "./images.js";
import { startKafka } from "./kafka.js";
import { startKube } from "./kube.js";
import { NODE_IP, NODE_LINK } from "./node/addresses.js";
import { makePki } from "./node/certs.js";
import { addNodeLink, recordHost, saveRecord } from "./node/host.js";
import { startNode } from "./node/node.js";
import { startPrometheus, startTargetRefresher } from "./prometheus.js";
import { hasNode, hostRecordFile, NODE_STOP_ORDER, nodeDir, removeContainers, restoreAfterNode } from "./node/teardown.js";
import { binDir, envFile, pidsFile, repoRoot, stateDir } from "./paths.js";
import { alive, stopProcessGroup, type ServerHandle } from "./server-process.js";

export interface TestbedEnv {
  KAFKA_BROKERS: string;
  CLICKHOUSE_URL: string;
  KUBECONFIG: string;
  SLUICE_TESTBED_LOGS: string;
  /** With a node: "1", and what installing Sluice on it needs. */
  SLUICE_TESTBED_NODE?: string;
  /** Kafka and ClickHouse on the node address, as pods reach them. */
  SLUICE_NODE_KAFKA_BROKERS?: string;
  SLUICE_NODE_CLICKHOUSE_URL?: string;
  /** The Sluice image loaded into the node's containerd. */
  SLUICE_IMAGE?: string;
  /** Helm values with the above: `helm install sluice charts/sluice -f "$SLUICE_HELM_VALUES"`. */
  SLUICE_HELM_VALUES?: string;
  SLUICE_CONTAINERD_ADDRESS?: string;
  /** With a node: a Prometheus scraping every pod annotated prometheus.io/scrape (testbed/prometheus.ts). */
  SLUICE_PROMETHEUS_URL?: string;
  /** Its file_sd folder, kept in step with the pods by the testbed (prometheus-targets.ts). */
  SLUICE_PROMETHEUS_TARGETS?: string;
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
  /**
   * Also run a real node (containerd, kubelet, kube-proxy, scheduler, controller-manager,
   * metrics-server) with Sluice's image loaded. Needs root; one per machine.
   */
  node?: boolean;
}

/**
 * Starts Kafka, ClickHouse and a Kubernetes API server in parallel on free loopback
 * ports, each in its own folder under a fresh temp dir, and with `node`, a real node
 * after them. If any fails, the others are stopped and the error names the failing
 * server with the tail of its log.
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
  const stop = () => stopTestbed(dataDir, started);
  const track = <T extends { servers: ServerHandle[] }>(p: Promise<T>) => p.then((v) => (started.push(...v.servers), v));
  try {
    const pki = opts.node ? prepareNode(dataDir) : undefined;
    const nodeIp = opts.node ? NODE_IP : undefined;
    const results = await Promise.allSettled([
      track(startKafka({ dir: join(dataDir, "kafka"), logDir, brokers: opts.kafkaBrokers, version: opts.kafkaVersion, detached, nodeIp })),
      track(startClickHouse({ dir: join(dataDir, "clickhouse"), logDir, detached, nodeIp })),
      track(startKube({ dir: join(dataDir, "kube"), logDir, detached, ...(pki && { node: { pki } }) })),
      opts.node ? buildImages(logDir) : Promise.resolve(undefined),
      // Only a node has pods to scrape.
      opts.node ? track(startPrometheus({ dir: join(dataDir, "prometheus"), logDir, detached })) : Promise.resolve(undefined),
    ]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length > 0) {
      // Servers that failed readiness were spawned but not tracked; their process
      // groups die via pdeathsig (attached) or are listed in the error (detached).
      throw new Error(failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join("\n\n"));
    }
    const [kafka, clickhouse, kube, images, prometheus] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      Awaited<ReturnType<typeof startKafka>>,
      Awaited<ReturnType<typeof startClickHouse>>,
      Awaited<ReturnType<typeof startKube>>,
      Awaited<ReturnType<typeof buildImages>> | undefined,
      Awaited<ReturnType<typeof startPrometheus>> | undefined,
    ];
    const env: TestbedEnv = { KAFKA_BROKERS: kafka.bootstrap, CLICKHOUSE_URL: clickhouse.url, KUBECONFIG: kube.kubeconfig, SLUICE_TESTBED_LOGS: logDir };
    if (pki && images) {
      const node = await track(
        startNode({ dir: nodeDir(dataDir), logDir, kubeconfig: kube.kubeconfig, pki, saKey: kube.saKey, images: [images.pause, images.sluice], detached }),
      );
      const values = join(dataDir, "helm-values.yaml");
      writeFileSync(values, helmValues(images.sluice.ref, kafka.nodeBootstrap!, clickhouse.nodeUrl!));
      Object.assign(env, {
        SLUICE_TESTBED_NODE: "1",
        SLUICE_NODE_KAFKA_BROKERS: kafka.nodeBootstrap,
        SLUICE_NODE_CLICKHOUSE_URL: clickhouse.nodeUrl,
        SLUICE_IMAGE: images.sluice.ref,
        SLUICE_HELM_VALUES: values,
        SLUICE_CONTAINERD_ADDRESS: node.containerdAddress,
      });
    }
    if (prometheus) {
      started.push(startTargetRefresher({ kubeconfig: kube.kubeconfig, targetsDir: prometheus.targetsDir, logDir, detached }));
      Object.assign(env, { SLUICE_PROMETHEUS_URL: prometheus.url, SLUICE_PROMETHEUS_TARGETS: prometheus.targetsDir });
    }
    return { env, dataDir, servers: started, stop };
  } catch (err) {
    await stop().catch((e: unknown) => console.error(e instanceof Error ? e.message : e));
    throw err;
  }
}

/** Records the host, then gives it the node address; returns the node's PKI. */
function prepareNode(dataDir: string) {
  if (process.getuid?.() !== 0) throw new Error("testbed: the node needs root (containerd, kubelet, network links); run as root or set SLUICE_TESTBED_NODE=0");
  const link = join("/sys/class/net", NODE_LINK);
  if (existsSync(link)) {
    throw new Error(`testbed: link ${NODE_LINK} exists, so another testbed node runs on this machine; stop it (make testbed-down) or reuse it`);
  }
  mkdirSync(nodeDir(dataDir), { recursive: true });
  saveRecord(hostRecordFile(dataDir), recordHost());
  addNodeLink();
  return makePki(join(nodeDir(dataDir), "pki"));
}

/**
 * Stops every server, the node's in the order that leaves nothing behind, restores the
 * host, and removes the data folder. Throws, after doing all of it, if the host is not
 * as it was: a teardown that leaks is a bug to see, not to ignore.
 */
export async function stopTestbed(dataDir: string, servers: Pick<ServerHandle, "name" | "stop">[]): Promise<void> {
  const byName = (name: string) => servers.filter((s) => s.name === name);
  const problems: string[] = [];
  if (hasNode(dataDir)) {
    for (const name of NODE_STOP_ORDER) await Promise.all(byName(name).map((s) => s.stop()));
    problems.push(...removeContainers(dataDir));
    await Promise.all(byName("containerd").map((s) => s.stop()));
  }
  await Promise.all(servers.map((s) => s.stop()));
  problems.push(...restoreAfterNode(dataDir));
  rmSync(dataDir, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(`testbed: teardown left the host changed:\n  ${problems.join("\n  ")}`);
}

/** A detached testbed's servers, known only by pid (make testbed-down). */
export function serversByPid(list: { name: string; pid: number }[]): Pick<ServerHandle, "name" | "stop">[] {
  return list.map((s) => ({ name: s.name, stop: () => stopProcessGroup(s.pid) }));
}

function helmValues(image: string, kafka: string, clickhouse: string): string {
  const colon = image.lastIndexOf(":");
  return [
    "# Written by the testbed: its Kafka and ClickHouse as pods reach them, and the image it loaded.",
    "image:",
    `  repository: ${image.slice(0, colon)}`,
    `  tag: "${image.slice(colon + 1)}"`,
    "  pullPolicy: IfNotPresent",
    "kafka:",
    "  brokers:",
    ...kafka.split(",").map((b) => `    - ${b}`),
    "clickhouse:",
    `  url: ${clickhouse}`,
    "",
  ].join("\n");
}

/** The env of the testbed `make testbed-up` left running, if every one of its servers is alive. */
export function runningTestbed(): TestbedEnv | undefined {
  if (!existsSync(pidsFile) || !existsSync(envFile)) return undefined;
  const state = JSON.parse(readFileSync(pidsFile, "utf8")) as { servers: { pid: number }[] };
  if (!state.servers.every((s) => alive(s.pid))) return undefined;
  const env: Record<string, string> = {};
  for (const m of readFileSync(envFile, "utf8").matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
  return env as unknown as TestbedEnv;
}

/**
 * The node runs unless SLUICE_TESTBED_NODE=0: that keeps the fast API-server-only mode
 * for an inner loop, or for a machine where we are not root. Tests that need pods then
 * say that they were skipped, and why.
 */
export function nodeWanted(): boolean {
  return process.env.SLUICE_TESTBED_NODE !== "0";
}

const DATA_PREFIX = "sluice-testbed-";

function pruneAbandonedDataDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(DATA_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    const owner = existsSync(join(dir, "owner.pid")) ? Number(readFileSync(join(dir, "owner.pid"), "utf8")) : 0;
    if (owner > 0 && !alive(owner)) {
      // A killed run's node processes died with it (pdeathsig), but its host changes did not.
      if (hasNode(dir)) {
        const left = restoreAfterNode(dir);
        if (left.length > 0) console.error(`testbed: cleaning up after an abandoned run left: ${left.join("; ")}`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Shell-sourceable: `source .testbed/env` then kubectl, kcat and curl reach the testbed. */
export function envFileText(env: TestbedEnv): string {
  const path = [binDir, join(repoRoot, "bin"), join(repoRoot, "node_modules", ".bin")].join(":");
  return [
    ...Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `export ${k}='${v}'`),
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
