/**
 * A real single Kubernetes node next to the testbed's API server: containerd + runc, a
 * kubelet, kube-proxy (nftables), kube-scheduler, kube-controller-manager, a bridge CNI
 * network and metrics-server, all as local processes (like Kubernetes' own
 * hack/local-up-cluster.sh). Every component authenticates with the testbed's admin
 * token: a simplification of a real cluster's per-component identities, harmless on a
 * single-user testbed. The kubelet accepts anonymous requests for the same reason.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NODE_IP, NODE_NAME, POD_CIDR } from "./addresses.js";
import { importImages, startContainerd } from "./containerd.js";
import type { NodePki } from "./certs.js";
import { binDir } from "../paths.js";
import { freePorts } from "../ports.js";
import { GiveUp, waitFor } from "../poll.js";
import { readyOrExplain, spawnServer, type ServerHandle } from "../server-process.js";

export interface NodeOptions {
  dir: string;
  logDir: string;
  kubeconfig: string;
  pki: NodePki;
  saKey: string;
  images: { ref: string; archive: string }[];
  detached?: boolean;
}

export interface KubeNode {
  containerdAddress: string;
  servers: ServerHandle[];
}

const BINARIES = ["kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "metrics-server"];

export async function startNode(opts: NodeOptions): Promise<KubeNode> {
  for (const bin of BINARIES) {
    if (!existsBin(bin)) throw new Error(`testbed: ${bin} missing in ${binDir}; run \`make setup\``);
  }
  mkdirSync(opts.dir, { recursive: true });
  const servers: ServerHandle[] = [];
  const spawn = (name: string, args: string[]) => {
    const s = spawnServer({ name, command: join(binDir, name), args, logFile: join(opts.logDir, `${name}.log`), detached: opts.detached });
    servers.push(s);
    return s;
  };
  try {
    const containerd = await startContainerd({ dir: join(opts.dir, "containerd"), logDir: opts.logDir, detached: opts.detached });
    servers.push(containerd.server);
    importImages(containerd.address, opts.images);

    const [kubeletPort, schedulerPort, cmPort, proxyHealth, proxyMetrics, msPort] = (await freePorts(6)) as [number, number, number, number, number, number];
    const kubeletDir = join(opts.dir, "kubelet");
    mkdirSync(kubeletDir, { recursive: true });
    const kubeletConfig = join(opts.dir, "kubelet.yaml");
    writeFileSync(kubeletConfig, kubeletYaml({ dir: kubeletDir, port: kubeletPort, containerd: containerd.address }));
    const kubelet = spawn("kubelet", [
      `--config=${kubeletConfig}`,
      `--kubeconfig=${opts.kubeconfig}`,
      `--root-dir=${join(kubeletDir, "root")}`,
      `--cert-dir=${join(kubeletDir, "pki")}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_IP}`,
      "--v=1",
    ]);
    const proxyConfig = join(opts.dir, "kube-proxy.yaml");
    writeFileSync(proxyConfig, kubeProxyYaml({ kubeconfig: opts.kubeconfig, health: proxyHealth, metrics: proxyMetrics }));
    spawn("kube-proxy", [`--config=${proxyConfig}`, "--v=1"]);
    spawn("kube-scheduler", [`--kubeconfig=${opts.kubeconfig}`, "--leader-elect=false", "--bind-address=127.0.0.1", `--secure-port=${schedulerPort}`]);
    spawn("kube-controller-manager", [
      `--kubeconfig=${opts.kubeconfig}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${cmPort}`,
      // nodeipam would hand out pod CIDRs; the bridge's host-local IPAM owns them.
      "--controllers=*,-nodeipam",
      `--service-account-private-key-file=${opts.saKey}`,
      `--root-ca-file=${opts.pki.caCert}`,
      `--cluster-signing-cert-file=${opts.pki.caCert}`,
      `--cluster-signing-key-file=${opts.pki.caKey}`,
      // Quicker than the 15 s default, so autoscaling tests see decisions sooner.
      "--horizontal-pod-autoscaler-sync-period=5s",
    ]);
    spawn("metrics-server", [
      `--kubeconfig=${opts.kubeconfig}`,
      `--authentication-kubeconfig=${opts.kubeconfig}`,
      `--authorization-kubeconfig=${opts.kubeconfig}`,
      `--cert-dir=${join(opts.dir, "metrics-server")}`,
      `--bind-address=${NODE_IP}`,
      `--secure-port=${msPort}`,
      // The kubelet's serving certificate is self-signed.
      "--kubelet-insecure-tls",
      "--kubelet-preferred-address-types=InternalIP",
      "--kubelet-use-node-status-port",
      "--metric-resolution=10s",
      "--kubelet-request-timeout=5s",
    ]);
    await readyOrExplain(kubelet, () =>
      waitFor(`node ${NODE_NAME} Ready`, async () => {
        for (const s of servers) if (s.exited()) throw new GiveUp(`${s.name} exited; see ${s.logFile}`);
        const node = kubectlJson(opts.kubeconfig, ["get", "node", NODE_NAME]) as { status?: { conditions?: { type: string; status: string }[] } };
        return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
      }, { timeoutMs: 120_000, intervalMs: 500 }),
    );
    kubectlApply(opts.kubeconfig, metricsApi(msPort));
    return { containerdAddress: containerd.address, servers };
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
}

function existsBin(bin: string): boolean {
  return existsSync(join(binDir, bin));
}

function kubectlJson(kubeconfig: string, args: string[]): unknown {
  const out = execFileSync(join(binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args, "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
  return JSON.parse(out);
}

function kubectlApply(kubeconfig: string, manifest: string): void {
  execFileSync(join(binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, "apply", "-f", "-"], { input: manifest, stdio: ["pipe", "pipe", "pipe"], timeout: 30_000 });
}

function kubeletYaml(p: { dir: string; port: number; containerd: string }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${p.containerd}
failSwapOn: false
address: ${NODE_IP}
port: ${p.port}
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
podLogsDir: ${join(p.dir, "pod-logs")}
volumePluginDir: ${join(p.dir, "volume-plugins")}
# The kubelet's own iptables chains are not needed with kube-proxy in nftables mode.
makeIPTablesUtilChains: false
# Images come from archives, not a registry: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
serializeImagePulls: false
maxPods: 110
# Report status quickly: tests wait on readiness.
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 10s
`;
}

function kubeProxyYaml(p: { kubeconfig: string; health: number; metrics: number }): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection:
  kubeconfig: ${p.kubeconfig}
hostnameOverride: ${NODE_NAME}
clusterCIDR: ${POD_CIDR}
healthzBindAddress: 127.0.0.1:${p.health}
metricsBindAddress: 127.0.0.1:${p.metrics}
nodePortAddresses: ["${NODE_IP}/32"]
# Pods on one bridge reaching a Service backed by a pod on the same bridge need their
# replies to come back through the host; without br_netfilter, masquerading does that.
masqueradeAll: true
# Zero: kube-proxy changes no conntrack sysctls on the host.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`;
}

/** metrics-server runs on the host: a selector-less Service + Endpoints point the aggregator to it. */
function metricsApi(port: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system}
spec:
  ports: [{name: https, port: 443, targetPort: ${port}, protocol: TCP}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: metrics-server, namespace: kube-system}
subsets:
  - addresses: [{ip: ${NODE_IP}}]
    ports: [{name: https, port: ${port}, protocol: TCP}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system, port: 443}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
`;
}
