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
  const operator = await startOperator({ kc, config, log, registry });
  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
      void registry.metrics().then((body) => res.writeHead(200, { "content-type": registry.contentType }).end(body));
    } else if (req.url === "/healthz" || req.url === "/readyz") {
      res.writeHead(200).end("ok\n");
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(Number(opts.metricsPort));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  server.close();
  await operator.stop();
}
