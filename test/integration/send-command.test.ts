import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../testbed/paths.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const sluice = join(repoRoot, "bin", "sluice.js");
const examples = join(repoRoot, "examples", "clickstream");
// A spawned CLI compiles its sources through tsx: seconds on a busy 2-core machine.
const SPAWN_BUDGET_MS = 60_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${SPAWN_BUDGET_MS} ms)` : stderr });
    });
  });
}

const view = (i: number) => ({ tenant_id: "shop-a", user_id: `u${i}`, event_time: "2026-11-29T14:00:00.000Z", url: `https://shop.example/${i}` });

describe("sluice send, against sluice run -f examples/clickstream/", () => {
  const env = testbedEnv();
  const namespace = randomName("send");
  let run: ChildProcess;
  let runLog = "";
  let collectorUrl: string;
  const dir = mkdtempSync(join(tmpdir(), "sluice-send-"));

  beforeAll(async () => {
    run = spawn(sluice, ["run", "-f", examples, "--port", "0", "-n", namespace], {
      env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Drain the log: a full pipe blocks the child's writes to stderr.
    run.stderr!.on("data", (d: Buffer) => (runLog = (runLog + d.toString()).slice(-20_000)));
    collectorUrl = await new Promise<string>((ok, fail) => {
      createInterface({ input: run.stdout! }).on("line", (line) => {
        const m = /^collector: POST (\S+)\/v1\/streams\/page-views\/events/.exec(line);
        if (m) ok(m[1]!);
      });
      run.once("exit", (code) => fail(new Error(`sluice run exited early with ${code}:\n${runLog}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (run.exitCode === null && run.signalCode === null) {
      const exited = new Promise((r) => run.once("exit", r));
      run.kill("SIGTERM");
      await exited;
    }
  }, 90_000);

  it("posts a file, fills event ids, and lists the rejected events with the collector's reasons (exit 1)", async () => {
    const file = join(dir, "views.ndjson");
    const { url: _missing, ...noUrl } = view(6);
    writeFileSync(file, [...[1, 2, 3, 4, 5].map((i) => JSON.stringify(view(i))), JSON.stringify(noUrl)].join("\n") + "\n");
    const sent = await runCli(["send", "page-views", "--file", file, "-f", examples, "-n", namespace, "--tenant", "shop-a", "--url", collectorUrl, "-o", "json"]);
    expect(sent.code, sent.stderr).toBe(1);
    const summary = JSON.parse(sent.stdout);
    expect(summary).toMatchObject({ stream: "page-views", sent: 6, accepted: 5, retried: 0, undelivered: [] });
    expect(summary.rejected).toHaveLength(1);
    expect(summary.rejected[0]).toMatchObject({ index: 5, where: "line 6" });
    expect(summary.rejected[0].reason).toContain("url");

    // What reached Kafka carries the ids sluice send chose (UUIDv7), not ones the collector filled.
    const tailed = await runCli(["tail", "page-views", "-f", examples, "--namespace", namespace, "--kafka", env.kafkaBrokers.join(","), "--from", "earliest", "-n", "5"]);
    expect(tailed.code, tailed.stderr).toBe(0);
    const stored = tailed.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { event_id: string; url: string });
    expect(stored.map((e) => e.url).sort()).toEqual([1, 2, 3, 4, 5].map((i) => `https://shop.example/${i}`));
    for (const e of stored) expect(e.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  }, 2 * SPAWN_BUDGET_MS + 15_000);

  it("retries a batch answered 503 with the same event ids, and counts it in the summary", async () => {
    const bodies: string[] = [];
    const proxy = await failingOnce(collectorUrl, bodies);
    try {
      const file = join(dir, "views.json");
      writeFileSync(file, JSON.stringify([view(7), view(8)]));
      const sent = await runCli(["send", "page-views", "--file", file, "-f", examples, "-n", namespace, "--tenant", "shop-a", "--url", proxy.url]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toBe("sent 2 events to page-views: 2 accepted, 0 rejected, 0 not delivered; 2 retried in 1 repeated requests (same event ids)\n");
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      expect((JSON.parse(bodies[0]!) as { event_id?: string }[]).every((e) => typeof e.event_id === "string")).toBe(true);
    } finally {
      await new Promise((r) => proxy.server.close(r));
    }
  }, SPAWN_BUDGET_MS + 15_000);

  it("generates events from the stream's schema at a rate: paced requests, fresh ids, event times when sent", async () => {
    const bodies: string[] = [];
    const arrivals: number[] = [];
    const proxy = await failingOnce(collectorUrl, bodies, { failFirst: false, arrivals });
    try {
      const sent = await runCli(["send", "page-views", "--generate", "600", "--rate", "200", "-f", examples, "-n", namespace, "--tenant", "shop-a", "--url", proxy.url, "-o", "json"]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({ sent: 600, accepted: 600, rejected: [], undelivered: [], retried: 0 });
      // A tenth of a second's events per request, the last one due 2.9 s after the first.
      const batches = bodies.map((b) => JSON.parse(b) as { event_id: string; tenant_id: string; user_id: string; event_time: string; url: string }[]);
      expect(batches).toHaveLength(30);
      expect(batches.every((b) => b.length === 20)).toBe(true);
      expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(2_800);
      const events = batches.flat();
      expect(new Set(events.map((e) => e.event_id)).size).toBe(600);
      expect(events.every((e) => e.tenant_id === "shop-a" && typeof e.url === "string" && e.user_id.startsWith("user_id-"))).toBe(true);
      expect(Date.parse(batches.at(-1)![0]!.event_time) - Date.parse(batches[0]![0]!.event_time)).toBeGreaterThanOrEqual(2_800);
    } finally {
      await new Promise((r) => proxy.server.close(r));
    }
  }, SPAWN_BUDGET_MS + 15_000);

  it("refuses --generate without the stream's manifests, and --file with --generate, as usage errors (exit 2)", async () => {
    const noSchema = await runCli(["send", "page-views", "--generate", "10", "--url", collectorUrl]);
    expect(noSchema.code).toBe(2);
    expect(noSchema.stderr).toContain("--generate makes events from the stream's schema: pass -f <manifest dir>");
    const both = await runCli(["send", "page-views", "--generate", "10", "--file", "x.json", "-f", examples]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--file <events> or --generate <count>, one of them");
    const noTenant = await runCli(["send", "page-views", "--generate", "10", "-f", examples, "-n", namespace, "--url", collectorUrl]);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain("say which with --tenant");
  }, 3 * SPAWN_BUDGET_MS);

  it("stops at a wrong key with exit 1 and a hint", async () => {
    const file = join(dir, "one.json");
    writeFileSync(file, JSON.stringify([view(9)]));
    const sent = await runCli(["send", "page-views", "--file", file, "--key", "wrong", "--url", collectorUrl]);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toContain("error: the collector refused the events: 401");
    expect(sent.stderr).toContain("hint: pass the stream's API key with --key");
  }, SPAWN_BUDGET_MS + 15_000);
});

/**
 * A proxy to the collector that answers the first POST 503 (Retry-After: 1) unless told
 * not to, recording every body and when it arrived.
 */
async function failingOnce(target: string, bodies: string[], o: { failFirst: boolean; arrivals?: number[] } = { failFirst: true }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      bodies.push(body);
      o.arrivals?.push(Date.now());
      if (o.failFirst && bodies.length === 1) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" }).end(JSON.stringify({ error: "held by the test" }));
        return;
      }
      void fetch(`${target}${req.url}`, { method: "POST", headers: { "content-type": "application/json", authorization: req.headers.authorization ?? "" }, body }).then(async (r) => {
        res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
