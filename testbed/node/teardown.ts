/**
 * Tearing the node down, in an order that leaves nothing behind: the control loops stop
 * first (nothing recreates pods), then the kubelet and kube-proxy, then every container
 * is killed and deleted through containerd, then containerd and any shim it left, and
 * last, once every server is gone, the host is restored to its record.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { removeAllContainers } from "./containerd.js";
import { loadRecord, restoreHost } from "./host.js";

/** Node processes in the order they stop; containerd goes after its containers. */
export const NODE_STOP_ORDER = ["kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "metrics-server"];

export const nodeDir = (dataDir: string) => join(dataDir, "node");
export const hostRecordFile = (dataDir: string) => join(nodeDir(dataDir), "host-before.json");
export const containerdAddress = (dataDir: string) => join(nodeDir(dataDir), "containerd", "state", "containerd.sock");

export function hasNode(dataDir: string): boolean {
  return existsSync(hostRecordFile(dataDir));
}

/** With containerd still running and the kubelet stopped. */
export function removeContainers(dataDir: string): string[] {
  const address = containerdAddress(dataDir);
  return existsSync(address) ? removeAllContainers(address) : [];
}

/** After every server stopped: kill stray shims, then restore the host. Returns leftovers. */
export function restoreAfterNode(dataDir: string): string[] {
  const problems: string[] = [];
  const address = containerdAddress(dataDir);
  for (const pid of processesMentioning([address, nodeDir(dataDir)])) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  if (!hasNode(dataDir)) return problems;
  problems.push(...restoreHost(loadRecord(hostRecordFile(dataDir)), [dataDir]));
  const stray = processesMentioning([address, nodeDir(dataDir)]);
  if (stray.length > 0) problems.push(`processes left: ${stray.join(", ")}`);
  return problems;
}

/** Pids whose command line names one of `needles` (containerd shims carry its address). */
function processesMentioning(needles: string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (needles.some((n) => cmdline.includes(n))) out.push(pid);
  }
  return out;
}
