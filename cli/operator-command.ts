/** `sluice operator`: runs the control plane against the current kubeconfig (or in-cluster). */
import * as k8s from "@kubernetes/client-node";
import { createServer } from "node:http";
import { compileConfig, type OperatorConfigInput } from "../operator/config.js";
import { startOperator } from "../operator/main.js";
import { createRegistry } from "../runtime/metrics/registry.js";
import { jsonLogger } from "../runtime/log.js";

export interface OperatorCommandOptions extends OperatorConfigInput {
  metricsPort: string;
}

export async function operatorCommand(opts: OperatorCommandOptions): Promise<void> {
  const config = compileConfig(opts);
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const log = jsonLogger("sluice-operator");
  const registry = createRegistry();
  let lost = () => {};
  const leadershipLost = new Promise<void>((resolve) => (lost = resolve));
  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
      void registry.metrics().then((body) => res.writeHead(200, { "content-type": registry.contentType }).end(body));
    } else if (req.url === "/healthz" || req.url === "/readyz") {
      res.writeHead(200).end("ok\n");
    } else {
      res.writeHead(404).end();
    }
  });
  // Serve probes and metrics before waiting for the Lease: a standby blocks in
  // startOperator until it leads, and must answer its liveness probe meanwhile.
  // Port 0 picks any free port; the bound port is logged so a supervisor (or a test) can
  // find it. A port in use is fatal and said plainly, not an unhandled 'error' event.
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(new Error(`cannot serve /metrics on port ${opts.metricsPort}: ${err.code === "EADDRINUSE" ? "address already in use" : err.message}`)));
    server.listen(Number(opts.metricsPort), () => resolve());
  });
  const bound = server.address();
  log.info("serving /metrics, /healthz and /readyz", { port: typeof bound === "object" && bound ? bound.port : opts.metricsPort });
  const operator = await startOperator({ kc, config, log, registry, onLostLeadership: () => lost() });
  const signalled = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  // Losing the Lease ends the process with an error: the Deployment restarts it as a standby.
  await Promise.race([signalled, leadershipLost.then(() => (process.exitCode = 1))]);
  server.close();
  await operator.stop();
}
