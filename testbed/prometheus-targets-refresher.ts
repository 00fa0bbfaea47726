/**
 * The testbed's pod-discovery process for its Prometheus: `tsx prometheus-targets-refresher.ts
 * <kubeconfig> <targets dir>` rewrites the file_sd targets every 2 s until SIGTERM. A process
 * of its own, not a timer, because `make testbed-up` returns and its servers live on.
 */
import * as k8s from "@kubernetes/client-node";
import { refreshPodTargets } from "./prometheus-targets.js";

const [kubeconfig, dir] = process.argv.slice(2);
if (!kubeconfig || !dir) {
  console.error("usage: prometheus-targets-refresher <kubeconfig> <targets dir>");
  process.exit(2);
}
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
let lastError = "";
const refresher = refreshPodTargets(kc, dir, 2_000, (err) => {
  // One line per distinct failure: an API server that is down for a minute is one line.
  const message = err instanceof Error ? err.message : String(err);
  if (message !== lastError) console.error(`${new Date().toISOString()} listing pods failed: ${message}`);
  lastError = message;
});
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => (refresher.stop(), process.exit(0)));
console.log(`${new Date().toISOString()} writing scrape targets of annotated pods to ${dir} every 2 s`);
