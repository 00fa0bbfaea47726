import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@clickhouse/client";
import { loadPipeline } from "../../runtime/pipeline/load.js";
import { provisionTopics } from "../../runtime/pipeline/provision-topics.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { clickEvent } from "../../testbed/load-generator.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { canonicalJson } from "../../operator/spec-hash.js";
import { desiredCollectorWorkload } from "../../operator/eventstream/collector-step.js";
import { mkdirSync } from "node:fs";

describe("sluice worker sink, as the operator's Deployment runs it", () => {
  const env = testbedEnv();
  const pipeline = loadPipeline([join(repoRoot, "examples", "clickstream")], randomName("worker"));
  const stream = pipeline.streams[0]!;
  stream.partitions = 2;
  stream.deadLetterTopic = `${stream.topic}.dlq`;
  const sink = pipeline.sinks[0]!;
  sink.database = randomName("worker").replace("-", "_");
  sink.batching.maxDelayMs = 200;

  beforeAll(async () => {
    const admin = kafkaClient(env.kafkaBrokers, "worker-test").admin();
    await admin.connect();
    await provisionTopics(admin, [stream], { clampToBrokers: true });
    await admin.disconnect();
  });
  afterAll(async () => {
    const ch = createClient({ url: env.clickhouseUrl });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${sink.database}` });
    await ch.close();
  });

  it("writes the stream into ClickHouse, serves probes and metrics, and exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-worker-"));
    const config = join(dir, "sink.json");
    // The exact serialisation the operator puts in the worker's ConfigMap (Infinity spelt out).
    writeFileSync(config, canonicalJson(sink));
    const child = spawn(join(repoRoot, "bin", "sluice.js"), ["worker", "sink", "--config", config, "--host", "127.0.0.1", "--port", "0"], {
      env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      const line = await new Promise<string>((ok) => createInterface({ input: child.stdout! }).once("line", ok));
      const { ops } = JSON.parse(line) as { ops: string };
      expect((await fetch(`${ops}/healthz`)).status).toBe(200);
      expect((await fetch(`${ops}/readyz`)).status).toBe(200);

      const producer = kafkaClient(env.kafkaBrokers, "worker-test").producer();
      await producer.connect();
      const events = Array.from({ length: 300 }, (_, i) => clickEvent(i, "shop-a"));
      await producer.send({ topic: stream.topic, messages: events.map((e) => ({ key: String(e.user_id), value: JSON.stringify(e) })) });
      await producer.disconnect();

      const ch = createClient({ url: env.clickhouseUrl });
      await waitFor("300 rows", async () => {
        const [row] = await (await ch.query({ query: `SELECT count() AS n FROM ${sink.database}.${sink.table} FINAL`, format: "JSONEachRow" })).json<{ n: string }>();
        return Number(row!.n) === 300 ? true : undefined;
      }, { timeoutMs: 60_000 });
      await ch.close();
      expect(await (await fetch(`${ops}/metrics`)).text()).toMatch(/sluice_sink_rows_written_total\{sink="[^"]+"\} 300/);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 120_000);

  it("refuses an unreadable config with a message naming the file", async () => {
    const child = spawn(join(repoRoot, "bin", "sluice.js"), ["worker", "sink", "--config", "/nonexistent/sink.json"], {
      env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code).toBe(1);
    expect(stderr).toContain("cannot read worker config /nonexistent/sink.json");
  });

  it("sluice worker collector: takes events for its stream with the mounted API keys, serves probes, exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-collector-"));
    const config = join(dir, "collector.json");
    // Exactly what the operator writes into the collector's ConfigMap.
    const workload = desiredCollectorWorkload({ kind: "EventStream", name: stream.name, namespace: stream.namespace, uid: "u" }, stream, { workerImage: "x", kafkaBrokers: env.kafkaBrokers, clickhouseUrl: "" });
    writeFileSync(config, (workload.configMap.data as Record<string, string>)["collector.json"]!);
    // A Secret volume as the kubelet lays it out: one file per key, plus dot-named bookkeeping.
    const keys = join(dir, "keys");
    mkdirSync(join(keys, "..data"), { recursive: true });
    writeFileSync(join(keys, "shop-a"), "demo-key-shop-a\n");
    const child = spawn(join(repoRoot, "bin", "sluice.js"), ["worker", "collector", "--config", config, "--keys", keys, "--host", "127.0.0.1", "--port", "0"], {
      env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const admin = kafkaClient(env.kafkaBrokers, "worker-test").admin();
    await admin.connect();
    const total = async () => (await admin.fetchTopicOffsets(stream.topic)).reduce((n, p) => n + Number(p.high), 0);
    try {
      const before = await total();
      const line = await new Promise<string>((ok) => createInterface({ input: child.stdout! }).once("line", ok));
      const { ops } = JSON.parse(line) as { ops: string };
      expect((await fetch(`${ops}/healthz`)).status).toBe(200);
      await waitFor("collector ready", async () => ((await fetch(`${ops}/readyz`)).status === 200 ? true : undefined));
      const post = (key: string) =>
        fetch(`${ops}/v1/streams/${stream.name}/events`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify(Array.from({ length: 50 }, (_, i) => clickEvent(i, "shop-a"))),
        });
      expect((await post("wrong-key")).status).toBe(401);
      const ok = await post("demo-key-shop-a");
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { accepted: number }).accepted).toBe(50);
      expect((await total()) - before).toBe(50);
    } finally {
      child.kill("SIGTERM");
      await admin.disconnect();
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
