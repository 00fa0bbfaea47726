/**
 * The node's PKI, made with openssl: a cluster CA whose certificate pods trust (the
 * controller-manager publishes it as kube-root-ca.crt), the API server's serving
 * certificate for every name pods and the host use, and the front-proxy pair with which
 * the API server forwards metrics requests to metrics-server (the aggregation layer).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KUBERNETES_SERVICE_IP, NODE_IP } from "./addresses.js";

export interface NodePki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  frontProxyCa: string;
  frontProxyCert: string;
  frontProxyKey: string;
}

export function makePki(dir: string): NodePki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const pki: NodePki = {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    servingCert: p("apiserver.crt"),
    servingKey: p("apiserver.key"),
    frontProxyCa: p("front-proxy-ca.crt"),
    frontProxyCert: p("front-proxy-client.crt"),
    frontProxyKey: p("front-proxy-client.key"),
  };
  selfSignedCa(pki.caKey, pki.caCert, "sluice-testbed-ca");
  const sans = [
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
    "IP:127.0.0.1",
    `IP:${NODE_IP}`,
    `IP:${KUBERNETES_SERVICE_IP}`,
  ];
  signed(dir, pki.caKey, pki.caCert, pki.servingKey, pki.servingCert, "kube-apiserver", `subjectAltName=${sans.join(",")}\nextendedKeyUsage=serverAuth`);
  const frontProxyCaKey = p("front-proxy-ca.key");
  selfSignedCa(frontProxyCaKey, pki.frontProxyCa, "sluice-testbed-front-proxy-ca");
  signed(dir, frontProxyCaKey, pki.frontProxyCa, pki.frontProxyKey, pki.frontProxyCert, "front-proxy-client", "extendedKeyUsage=clientAuth");
  return pki;
}

function selfSignedCa(key: string, cert: string, cn: string): void {
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
}

function signed(dir: string, caKey: string, caCert: string, key: string, cert: string, cn: string, extensions: string): void {
  const csr = `${cert}.csr`;
  const ext = `${cert}.ext`;
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${extensions}\n`);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`]);
  openssl(["x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "30", "-extfile", ext], dir);
}

function openssl(args: string[], cwd?: string): void {
  execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"], ...(cwd && { cwd }) });
}
