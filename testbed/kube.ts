import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { NodePki } from "./node/certs.js";
import { NODE_IP, SERVICE_CIDR } from "./node/addresses.js";
import { binDir } from "./paths.js";
import { freePorts } from "./ports.js";
import { GiveUp, waitFor } from "./poll.js";
import { readyOrExplain, spawnServer, type ServerHandle } from "./server-process.js";

export interface KubeOptions {
  dir: string;
  logDir: string;
  detached?: boolean;
  /**
   * Serve a real node too: listen on the node address with the node PKI's certificate,
   * publish the `kubernetes` Service's endpoint, admit ServiceAccounts (the
   * controller-manager mints their tokens) and proxy the metrics API to metrics-server.
   */
  node?: { pki: NodePki };
}

export interface KubeApi {
  url: string;
  token: string;
  kubeconfig: string;
  /** The ServiceAccount signing key (the controller-manager signs tokens with it). */
  saKey: string;
  servers: ServerHandle[];
}

/**
 * Starts etcd and kube-apiserver. Without a node, the way controller-runtime's envtest
 * does: loopback only, self-signed serving certs, a static admin token in system:masters,
 * RBAC on, and no ServiceAccount admission (no controller-manager mints tokens). With a
 * node, see KubeOptions.node.
 */
export async function startKube(opts: KubeOptions): Promise<KubeApi> {
  for (const bin of ["etcd", "kube-apiserver", "kubectl"]) {
    if (!existsSync(join(binDir, bin))) throw new Error(`testbed: ${bin} missing in ${binDir}; run \`make setup\``);
  }
  const [etcdClient, etcdPeer, apiPort] = (await freePorts(3)) as [number, number, number];
  mkdirSync(opts.dir, { recursive: true });
  const etcd = spawnServer({
    name: "etcd",
    command: join(binDir, "etcd"),
    args: [
      `--data-dir=${join(opts.dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      // Test data is disposable: skipping fsync makes the API server several times faster.
      "--unsafe-no-fsync",
      "--quota-backend-bytes=2147483648",
    ],
    logFile: join(opts.logDir, "etcd.log"),
    detached: opts.detached,
  });
  await readyOrExplain(etcd, () =>
    waitFor("etcd /health", async () => {
      if (etcd.exited()) throw new GiveUp("process exited");
      const res = await fetch(`http://127.0.0.1:${etcdClient}/health`);
      return res.ok ? true : undefined;
    }),
  );

  const token = randomBytes(24).toString("hex");
  const tokens = join(opts.dir, "tokens.csv");
  writeFileSync(tokens, `${token},sluice-admin,sluice-admin,"system:masters"\n`, { mode: 0o600 });
  const saKey = join(opts.dir, "sa.key");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(saKey, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  const pki = opts.node?.pki;
  const server = `https://${pki ? NODE_IP : "127.0.0.1"}:${apiPort}`;
  const apiserver = spawnServer({
    name: "kube-apiserver",
    command: join(binDir, "kube-apiserver"),
    args: [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--secure-port=${apiPort}`,
      "--authorization-mode=RBAC",
      `--token-auth-file=${tokens}`,
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      `--service-account-issuer=${server}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--allow-privileged=false",
      ...(pki
        ? [
            `--bind-address=${NODE_IP}`,
            `--advertise-address=${NODE_IP}`,
            `--tls-cert-file=${pki.servingCert}`,
            `--tls-private-key-file=${pki.servingKey}`,
            `--client-ca-file=${pki.caCert}`,
            // `kubectl logs/exec` reach the kubelet by its InternalIP, the node address.
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            // The aggregation layer: metrics.k8s.io requests go to metrics-server, which
            // trusts the front-proxy certificate's X-Remote-* headers for the caller.
            `--requestheader-client-ca-file=${pki.frontProxyCa}`,
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            `--proxy-client-cert-file=${pki.frontProxyCert}`,
            `--proxy-client-key-file=${pki.frontProxyKey}`,
            "--enable-aggregator-routing=true",
          ]
        : [
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--cert-dir=${join(opts.dir, "certs")}`,
            "--disable-admission-plugins=ServiceAccount",
            "--endpoint-reconciler-type=none",
          ]),
    ],
    logFile: join(opts.logDir, "kube-apiserver.log"),
    detached: opts.detached,
  });
  await readyOrExplain(apiserver, () =>
    waitFor("kube-apiserver /readyz and the default namespace", async () => {
      if (apiserver.exited()) throw new GiveUp("process exited");
      const ready = await get(`${server}/readyz`, token);
      if (ready.status !== 200) return undefined;
      const ns = await get(`${server}/api/v1/namespaces/default`, token);
      return ns.status === 200 ? true : undefined;
    }, { timeoutMs: 90_000 }),
  );
  const kubeconfig = join(opts.dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(server, token), { mode: 0o600 });
  return { url: server, token, kubeconfig, saKey, servers: [etcd, apiserver] };
}

/** A GET that trusts the API server's self-signed certificate (loopback testbed only). */
function get(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

function kubeconfigYaml(server: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: sluice-testbed
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: sluice-admin
  user:
    token: ${token}
contexts:
- name: sluice-testbed
  context:
    cluster: sluice-testbed
    user: sluice-admin
    namespace: default
current-context: sluice-testbed
`;
}
