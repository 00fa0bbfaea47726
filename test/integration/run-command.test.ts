import { spawn, type ChildProcess } from "node:child_process";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { freePort } from "../../testbed/ports.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

describe("sluice run -f examples/clickstream/", () => {
  it("prints where the collector listens, accepts events with the folder's demo keys, and stops cleanly on SIGTERM", async () => {
    const env = testbedEnv();
    const child = spawn(join(repoRoot, "bin", "sluice.js"), ["run", "-f", join(repoRoot, "examples", "clickstream"), "--port", "0", "-n", randomName("run")], {
      env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Drain the log: a full pipe blocks the child's (synchronous) writes to stderr.
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    try {
      const url = await new Promise<string>((ok, fail) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const m = /^collector: POST (\S+)\/v1\/streams\/page-views\/events/.exec(line);
          if (m) ok(m[1]!);
        });
        void exited.then((code) => fail(new Error(`sluice run exited early with ${code}:\n${log}`)));
      });
      const res = await fetch(`${url}/v1/streams/page-views/events`, {
        method: "POST",
        headers: { authorization: "Bearer demo-key-shop-a", "content-type": "application/json" },
        body: JSON.stringify([{ tenant_id: "shop-a", user_id: "u1", event_time: new Date().toISOString(), url: "https://shop.example/" }]),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 1, rejected: [] });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 90_000);

  it("while ClickHouse does not answer yet, it already accepts events: the collector waits for no consumer", async () => {
    const clickhouse = await holdingProxy(testbedEnv().clickhouseUrl);
    const port = await freePort();
    const run = startRun(randomName("chwait"), String(port), { CLICKHOUSE_URL: clickhouse.url });
    try {
      await waitFor("an event accepted while ClickHouse is held", async () => ((await post(`http://127.0.0.1:${port}`)) === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
      // The run is really blocked on ClickHouse (tables, sinks), not past it.
      expect(clickhouse.held()).toBeGreaterThan(0);
      clickhouse.release();
      expect(await run.collectorUrl).toBe(`http://127.0.0.1:${port}`);
      // Stopped once its consumers have joined: a SIGTERM while they were still joining
      // ended the run by a signal once in CI (not reproduced since; see the issue note).
      const joined = (log: string) => ['"msg":"partitions assigned","sink"', '"msg":"partitions assigned","aggregation"'].every((line) => log.includes(line));
      await waitFor("the run's consumers assigned", async () => (joined(run.log()) ? true : undefined), { timeoutMs: 60_000 });
    } finally {
      run.child.kill("SIGTERM");
      clickhouse.release();
    }
    const code = await run.exited;
    expect(code, `sluice run ended by ${run.child.signalCode ?? `exit ${code}`}:\n${run.log().slice(-3_000)}`).toBe(0);
    await clickhouse.close();
  }, 120_000);

  it("restarted after a SIGKILL, it accepts events before its consumers have rejoined their groups", async () => {
    // The killed process's group members hold their partitions until their session
    // times out (30 s); the collector needs none of them, only its producer.
    const namespace = randomName("rerun");
    const first = startRun(namespace, "0");
    let second: RunProcess | undefined;
    try {
      const url = await first.collectorUrl;
      // Both groups (the sink's and the aggregation's) must hold members the kill leaves behind.
      const allAssigned = (log: string) => ['"msg":"partitions assigned","sink"', '"msg":"partitions assigned","aggregation"'].every((line) => log.includes(line));
      await waitFor("the first run's consumers assigned", async () => (allAssigned(first.log()) ? true : undefined), { timeoutMs: 60_000 });
      first.child.kill("SIGKILL");
      await first.exited;
      second = startRun(namespace, new URL(url).port);
      const restarted = second;
      let assignedAt: number | undefined;
      restarted.child.stderr!.on("data", () => (assignedAt ??= restarted.log().includes('"msg":"partitions assigned"') ? Date.now() : undefined));
      const acceptedAt = await waitFor("an event accepted by the restarted collector", async () => ((await post(url)) === 200 ? Date.now() : undefined), { timeoutMs: 90_000, intervalMs: 100 });
      await waitFor("the restarted run's consumers assigned", async () => assignedAt, { timeoutMs: 90_000 });
      console.log(`[run restart] first event accepted ${assignedAt! - acceptedAt} ms before the consumers were assigned`);
      expect(acceptedAt).toBeLessThan(assignedAt!);
    } finally {
      first.child.kill("SIGKILL");
      second?.child.kill("SIGTERM");
    }
    expect(await second?.exited).toBe(0);
  }, 180_000);

  it("without Kafka and ClickHouse, says how to provide them and exits 1", async () => {
    const env = { ...process.env };
    delete env.KAFKA_BROKERS;
    delete env.CLICKHOUSE_URL;
    const child = spawn(join(repoRoot, "bin", "sluice.js"), ["run", "-f", join(repoRoot, "examples", "clickstream")], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    expect(await new Promise((r) => child.once("exit", r))).toBe(1);
    expect(stderr).toContain("pass --kafka and --clickhouse, or set KAFKA_BROKERS and CLICKHOUSE_URL");
  });
});

interface RunProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The collector's base URL, from the line `sluice run` prints once everything started. */
  collectorUrl: Promise<string>;
  log(): string;
}

function startRun(namespace: string, port: string, extraEnv: Record<string, string> = {}): RunProcess {
  const env = testbedEnv();
  const child = spawn(join(repoRoot, "bin", "sluice.js"), ["run", "-f", join(repoRoot, "examples", "clickstream"), "--port", port, "-n", namespace], {
    env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Drain the log: a full pipe blocks the child's (synchronous) writes to stderr.
  let log = "";
  child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-200_000)));
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  const collectorUrl = new Promise<string>((ok, fail) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^collector: POST (\S+)\/v1\/streams\/page-views\/events/.exec(line);
      if (m) ok(m[1]!);
    });
    void exited.then((code) => fail(new Error(`sluice run exited early with ${code}:\n${log}`)));
  });
  collectorUrl.catch(() => {});
  return { child, exited, collectorUrl, log: () => log };
}

/** One event to page-views; the answer's status, 0 when nothing answers yet. */
async function post(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/streams/page-views/events`, {
      method: "POST",
      headers: { authorization: "Bearer demo-key-shop-a", "content-type": "application/json" },
      body: JSON.stringify([{ tenant_id: "shop-a", user_id: "u1", event_time: new Date().toISOString(), url: "https://shop.example/" }]),
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** An HTTP proxy to ClickHouse that holds every request until released: a ClickHouse that does not answer yet. */
async function holdingProxy(target: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held = 0;
  const server = createServer((req, res) => {
    held++;
    void released.then(() => {
      const upstream = request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => held,
    release,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
