/**
 * Vitest global setup for the integration tier: reuses a testbed started by
 * `make testbed-up` when one is alive, otherwise starts a private one and stops it
 * when the run ends. If the run itself is killed, pdeathsig takes the servers down.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { envFile, stateDir } from "./paths.js";
import { alive } from "./server-process.js";
import { nodeWanted, runningTestbed, startTestbed } from "./testbed.js";

export default async function setup(): Promise<() => Promise<void>> {
  const reused = runningTestbed();
  if (reused && process.env.SLUICE_TESTBED_FRESH !== "1") {
    Object.assign(process.env, reused);
    console.log(`[testbed] reusing the running testbed from ${envFile}`);
    return async () => {};
  }
  const logRoot = join(stateDir, "test-logs");
  pruneDeadRunLogs(logRoot);
  const logDir = join(logRoot, String(process.pid));
  const t0 = Date.now();
  const tb = await startTestbed({ logDir, node: nodeWanted() });
  Object.assign(process.env, tb.env);
  const what = tb.env.SLUICE_TESTBED_NODE ? "kafka, clickhouse, kube-apiserver and a node" : "kafka, clickhouse and kube-apiserver";
  console.log(`[testbed] ${what} up in ${((Date.now() - t0) / 1000).toFixed(1)} s; logs in ${logDir}`);
  return async () => {
    await tb.stop();
  };
}

function pruneDeadRunLogs(root: string): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    if (!alive(Number(entry))) rmSync(join(root, entry), { recursive: true, force: true });
  }
}
