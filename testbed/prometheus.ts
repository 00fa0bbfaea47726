import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.js";
import { freePorts } from "./ports.js";
import { GiveUp, waitFor } from "./poll.js";
import { readyOrExplain, spawnServer, type ServerHandle } from "./server-process.js";

export interface PrometheusOptions {
  dir: string;
  logDir: string;
  detached?: boolean;
  /** Name of the server and its log file; tests that start a private one pick another. */
  name?: string;
}

export interface PrometheusServer {
  url: string;
  /** File-SD folder: every `*.json` in it is a list of target groups (prometheus-targets.ts writes them). */
  targetsDir: string;
  servers: ServerHandle[];
}

/** How often targets are scraped and target files re-read: short, so tests wait seconds, not minutes. */
export const SCRAPE_INTERVAL = "2s";

/**
 * Starts Debian's prometheus (2.42, from `make setup`) on a free loopback port with its
 * data under `dir`. That build has no kubernetes_sd_configs, so pods are found the way the
 * `prometheus.io/*` annotations are read elsewhere, but by us: prometheus-targets.ts lists
 * annotated pods through the API server and writes them to `targetsDir`, which one
 * file_sd job reads. The host reaches pod IPs directly over the node's CNI bridge.
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const [port] = (await freePorts(1)) as [number];
  const targetsDir = join(opts.dir, "targets");
  mkdirSync(targetsDir, { recursive: true });
  const config = join(opts.dir, "prometheus.yml");
  writeFileSync(config, prometheusConfig(targetsDir));
  const name = opts.name ?? "prometheus";
  const server = spawnServer({
    name,
    command: "prometheus",
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(opts.dir, "data")}`,
      // Nothing outlives a testbed, and a short retention keeps a long-lived one small.
      "--storage.tsdb.retention.time=6h",
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    cwd: opts.dir,
    logFile: join(opts.logDir, `${name}.log`),
    detached: opts.detached,
  });
  const url = `http://127.0.0.1:${port}`;
  await readyOrExplain(server, () =>
    waitFor(`prometheus at ${url}`, async () => {
      if (server.exited()) throw new GiveUp("process exited");
      return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
    }, { timeoutMs: 60_000 }),
  );
  return { url, targetsDir, servers: [server] };
}

/**
 * One job for every annotated pod. honor_labels: the operator's per-resource series carry
 * the resource's own `namespace` label, which must win over the pod's (as the chart's
 * ServiceMonitor does); the workers export no label a target sets, so it changes nothing
 * for them. Each target file sets `job` per pod (its app.kubernetes.io/name), which
 * overrides the job name below: the alert rules expect job=sluice-<component>.
 */
export function prometheusConfig(targetsDir: string): string {
  return [
    "global:",
    `  scrape_interval: ${SCRAPE_INTERVAL}`,
    `  scrape_timeout: ${SCRAPE_INTERVAL}`,
    `  evaluation_interval: ${SCRAPE_INTERVAL}`,
    "scrape_configs:",
    "  - job_name: kubernetes-pods",
    "    honor_labels: true",
    "    file_sd_configs:",
    `      - files: ["${join(targetsDir, "*.json")}"]`,
    `        refresh_interval: ${SCRAPE_INTERVAL}`,
    "",
  ].join("\n");
}

/**
 * The process that keeps `targetsDir` in step with the cluster's annotated pods
 * (prometheus-targets-refresher.ts), run with the same Node as the testbed. tsx as a loader
 * (--import), not its CLI: the CLI runs the script in a child process, which pdeathsig
 * would not reach when a killed test run takes the CLI down.
 */
export function startTargetRefresher(opts: { kubeconfig: string; targetsDir: string; logDir: string; detached?: boolean }): ServerHandle {
  return spawnServer({
    name: "prometheus-targets",
    command: process.execPath,
    args: ["--import", "tsx", join(repoRoot, "testbed", "prometheus-targets-refresher.ts"), opts.kubeconfig, opts.targetsDir],
    cwd: repoRoot,
    logFile: join(opts.logDir, "prometheus-targets.log"),
    detached: opts.detached,
  });
}
