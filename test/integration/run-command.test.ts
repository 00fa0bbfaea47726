import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../testbed/paths.js";
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
