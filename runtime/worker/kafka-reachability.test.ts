import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { anyAnswers, watchKafkaReachability } from "./kafka-reachability.js";

const listen = () =>
  new Promise<{ server: Server; address: string }>((resolve) => {
    const server = createServer((s) => s.destroy());
    server.listen(0, "127.0.0.1", () => resolve({ server, address: `127.0.0.1:${(server.address() as { port: number }).port}` }));
  });

describe("Kafka reachability for readiness", () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  it("counts a broker that accepts connections, and not one that refuses", async () => {
    const { server, address } = await listen();
    servers.push(server);
    const closed = await listen();
    closed.server.close();
    expect(await anyAnswers([address], 1_000)).toBe(true);
    expect(await anyAnswers([closed.address], 1_000)).toBe(false);
    expect(await anyAnswers([closed.address, address], 1_000)).toBe(true);
  });

  it("turns unreachable only after the grace period without any answer, and reachable again at the first", async () => {
    const { server, address } = await listen();
    const port = Number(address.split(":")[1]);
    const watch = watchKafkaReachability([address], { intervalMs: 20, timeoutMs: 200, graceMs: 150 });
    try {
      expect(watch.reachable()).toBe(true);
      await new Promise<void>((r) => server.close(() => r()));
      // Within the grace period it still says reachable; after it, not.
      expect(watch.reachable()).toBe(true);
      await poll(() => !watch.reachable(), 5_000);
      const again = createServer((s) => s.destroy());
      servers.push(again);
      await new Promise<void>((r) => again.listen(port, "127.0.0.1", () => r()));
      await poll(() => watch.reachable(), 5_000);
    } finally {
      watch.stop();
    }
  });
});

async function poll(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
