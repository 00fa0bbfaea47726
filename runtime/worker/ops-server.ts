/**
 * The worker's operations endpoint: /healthz, /readyz and /metrics for probes and
 * Prometheus, and /status (JSON: ready, and the steps being retried) for the operator,
 * which shows it in the Sink's or Aggregation's Retrying condition.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { RetryReport } from "../sink/retry-board.js";

export interface OpsServer {
  url: string;
  stop(): Promise<void>;
}

export interface WorkerStatus extends RetryReport {
  ready: boolean;
  /** Whether a bootstrap broker answers (kafka-reachability.ts), and when one last did. */
  kafka?: { reachable: boolean; lastAnswerAt: string };
}

export async function startOpsServer(o: { host: string; port: number; registry: Registry; ready: () => boolean; retries?: () => RetryReport; kafka?: () => WorkerStatus["kafka"] }): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (path === "/readyz") {
      const ok = o.ready();
      return void res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ready\n" : "not ready\n");
    }
    if (path === "/status") {
      const kafka = o.kafka?.();
      const body: WorkerStatus = { ready: o.ready(), ...(kafka && { kafka }), ...(o.retries?.() ?? { retrying: [], recent: [] }) };
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    }
    if (path === "/metrics") {
      void o.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": o.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: `no route ${path}` }));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
