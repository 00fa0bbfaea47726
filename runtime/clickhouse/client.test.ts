import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clickhouseClient, setClickHouseClientLogger } from "./client.js";
import { jsonLogger } from "../log.js";

const lines: string[] = [];
setClickHouseClientLogger(jsonLogger("clickhouse-client", (l) => lines.push(l)));

/** A server that takes connections and never answers: a request to it only ends by abort. */
async function silentServer(): Promise<{ server: Server; url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, sockets };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe("clickhouseClient's log lines", () => {
  afterEach(() => {
    lines.length = 0;
  });

  it("says nothing about an insert Sluice aborted itself (a worker stopping mid-batch)", async () => {
    const { server, url, sockets } = await silentServer();
    const ch = clickhouseClient({ url, requestTimeoutMs: 30_000 });
    try {
      // @clickhouse/client's own logger writes through console: catch anything it writes.
      const written: unknown[] = [];
      const spies = (["error", "warn", "log", "info"] as const).map((m) => vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void written.push(a)));
      try {
        const abort = new AbortController();
        const insert = ch.insert({ table: "t", values: [{ a: 1 }], format: "JSONEachRow", abort_signal: abort.signal });
        setTimeout(() => abort.abort(), 50);
        await expect(insert).rejects.toThrow(/abort/i);
      } finally {
        spies.forEach((s) => s.mockRestore());
      }
      expect(written).toEqual([]);
      expect(lines).toEqual([]);
    } finally {
      await ch.close();
      sockets.forEach((s) => s.destroy());
      server.close();
    }
  });

  it("turns any other failure into one JSON warning naming the cause, not a multi-line stack", async () => {
    const ch = clickhouseClient({ url: await closedPortUrl(), requestTimeoutMs: 5_000 });
    try {
      await expect(ch.insert({ table: "t", values: [{ a: 1 }], format: "JSONEachRow" })).rejects.toThrow(/ECONNREFUSED/);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) {
        const o = JSON.parse(l) as Record<string, unknown>;
        expect(o).toMatchObject({ level: "warn", component: "clickhouse-client" });
        expect(String(o.error)).toMatch(/ECONNREFUSED/);
      }
    } finally {
      await ch.close();
    }
  });
});
