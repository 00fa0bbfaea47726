import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { DEAD_LETTER_HEADERS as DLQ } from "../../runtime/sink/dead-letter.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { applyCrds } from "../support/operator-namespace.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const sluice = join(repoRoot, "bin", "sluice.js");
// A spawned CLI compiles its sources through tsx and connects to Kafka: seconds on a busy
// 2-core machine. Killed at its budget so a hang fails with its output.
const SPAWN_BUDGET_MS = 60_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: { ...process.env, KAFKA_BROKERS: "" } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${SPAWN_BUDGET_MS} ms)` : stderr });
    });
  });
}

describe("sluice tail", () => {
  const env = testbedEnv();
  const kafka = kafkaClient(env.kafkaBrokers, "tail-test");
  const admin = kafka.admin();
  // examples/clickstream compiled in this namespace names its topics <namespace>.page-views(.dlq).
  const namespace = randomName("tail");
  const topic = `${namespace}.page-views`;
  const dlq = `${topic}.dlq`;
  const event = (i: number, tenant: string) => ({ event_id: `e${i}`, tenant_id: tenant, user_id: `u${i}`, event_time: "2026-11-29T14:00:00.000Z", url: `https://shop.example/${i}` });
  const events = [event(1, "shop-a"), event(2, "shop-b"), event(3, "shop-a"), event(4, "shop-b")];
  const args = (...more: string[]) => ["tail", "page-views", "-f", join(repoRoot, "examples", "clickstream"), "--namespace", namespace, "--kafka", env.kafkaBrokers.join(","), ...more];

  beforeAll(async () => {
    await admin.connect();
    // One partition each: the order read is the order produced.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: dlq, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: events.map((e, i) => ({
        key: e.user_id,
        value: JSON.stringify(e),
        // The third event has no tenant header (not produced by the collector): its
        // tenant is read from the stream's tenant field, tenant_id.
        headers: i === 2 ? ({} as Record<string, string>) : { "sluice-tenant": e.tenant_id },
      })),
    });
    await producer.send({
      topic: dlq,
      messages: [
        { key: "u5", value: JSON.stringify({ event_id: "e5", tenant_id: "shop-a", user_id: 5 }), headers: { "sluice-tenant": "shop-a", [DLQ.error]: "user_id: expected string, got number", [DLQ.field]: "user_id", [DLQ.sourceTopic]: topic, [DLQ.sourcePartition]: "0", [DLQ.sourceOffset]: "41", [DLQ.sink]: "page-views-raw" } },
        { key: null, value: "not json {", headers: { [DLQ.error]: "value is not JSON", [DLQ.field]: "", [DLQ.sourceTopic]: topic, [DLQ.sourcePartition]: "0", [DLQ.sourceOffset]: "42", [DLQ.sink]: "page-views-raw" } },
      ],
    });
    await producer.disconnect();
  }, 60_000);

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => {});
    await admin.disconnect();
  });

  it("prints a stream's events from --from earliest, one JSON event per line, and stops after -n", async () => {
    const run = await runCli(args("--from", "earliest", "-n", "3"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual(events.slice(0, 3));
  }, SPAWN_BUDGET_MS + 15_000);

  it("starts at a time: --from 1h reads the events of the last hour", async () => {
    const run = await runCli(args("--from", "1h", "-n", "4"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual(events);
  }, SPAWN_BUDGET_MS + 15_000);

  it("keeps only one tenant's events with --tenant, from the header or else the stream's tenant field", async () => {
    const run = await runCli(args("--from", "earliest", "-n", "2", "--tenant", "shop-a"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual([events[0], events[2]]);
  }, SPAWN_BUDGET_MS + 15_000);

  it("shows each dead letter's error headers before it with --dlq", async () => {
    const run = await runCli(args("--dlq", "--from", "earliest", "-n", "2"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      `# dead letter 0@0: user_id: expected string, got number (field user_id), by page-views-raw, from ${topic} partition 0 offset 41`,
      JSON.stringify({ event_id: "e5", tenant_id: "shop-a", user_id: 5 }),
      `# dead letter 0@1: value is not JSON, by page-views-raw, from ${topic} partition 0 offset 42`,
      JSON.stringify("not json {"),
      "",
    ]);
  }, SPAWN_BUDGET_MS + 15_000);

  it("prints one machine-readable object per record with -o json, from an offset", async () => {
    const run = await runCli(args("--dlq", "--from", "1", "-n", "1", "-o", "json"));
    expect(run.code, run.stderr).toBe(0);
    const [line, ...rest] = run.stdout.trimEnd().split("\n");
    expect(rest).toEqual([]);
    const record = JSON.parse(line!);
    expect(record).toMatchObject({ topic: dlq, partition: 0, offset: "1", key: null, value: "not json {" });
    expect(record.headers).toMatchObject({ [DLQ.error]: "value is not JSON", [DLQ.sourceOffset]: "42", [DLQ.sink]: "page-views-raw" });
    expect(Date.parse(record.timestamp)).toBeGreaterThan(Date.now() - 10 * 60_000);
  }, SPAWN_BUDGET_MS + 15_000);

  it("follows new events from --from latest until Ctrl-C, then exits 0", async () => {
    const child = spawn(sluice, args("--from", "latest"), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KAFKA_BROKERS: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    const producer = kafka.producer();
    await producer.connect();
    try {
      // When the child has read the end offsets is not visible from here: produce until
      // one event shows up; only events after the start may be printed.
      let sent = 0;
      await waitFor("an event produced after the start to be printed", async () => {
        await producer.send({ topic, messages: [{ value: JSON.stringify({ live: ++sent }), headers: { "sluice-tenant": "shop-a" } }] });
        return stdout.includes("\n") ? true : undefined;
      }, { timeoutMs: SPAWN_BUDGET_MS, intervalMs: 1_000 });
      const first = JSON.parse(stdout.split("\n")[0]!) as { live: number };
      expect(first.live).toBeGreaterThanOrEqual(1);
    } finally {
      await producer.disconnect();
      child.kill("SIGINT");
    }
    expect(await exited, stderr).toBe(0);
    expect(stdout).not.toContain("e1");
  }, SPAWN_BUDGET_MS + 30_000);

  it("exits 1 with a hint when the topic does not exist, and 2 on a malformed --from", async () => {
    const [missing, malformed] = await Promise.all([
      runCli(["tail", "no-such-stream", "--namespace", namespace, "--kafka", env.kafkaBrokers.join(","), "-n", "1"]),
      runCli(args("--from", "yesterday")),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: topic ${namespace}.no-such-stream does not exist\n  hint: check the stream name`);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('error: --from "yesterday" is not a start position');
  }, SPAWN_BUDGET_MS + 15_000);
});

describe("sluice tail against a cluster (--kubeconfig)", () => {
  const env = testbedEnv();
  const kafka = kafkaClient(env.kafkaBrokers, "tail-cluster-test");
  const admin = kafka.admin();
  const namespace = randomName("tailk");
  // A topic name of the stream's own, which the default naming would not guess.
  const topic = randomName("own-topic");
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);

  beforeAll(async () => {
    applyCrds(); // on its own this file may be the first to need them
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const stream = {
      apiVersion: "sluice.dev/v1alpha1", kind: "EventStream", metadata: { name: "views" },
      spec: {
        topic: { name: topic, partitions: 1, replicationFactor: 1, minInSyncReplicas: 1 },
        schema: { version: 1, fields: [{ name: "event_id", type: "string", required: true }, { name: "event_time", type: "timestamp", required: true }] },
        keys: { eventId: "event_id", eventTime: "event_time" },
        ingest: { enabled: false },
      },
    };
    kubectl(["-n", namespace, "apply", "-f", "-"], JSON.stringify(stream));
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [1, 2].map((i) => ({ value: JSON.stringify({ event_id: `k${i}`, event_time: "2026-11-29T14:00:00.000Z" }) })) });
    await producer.disconnect();
  }, 60_000);

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it("reads the topic the EventStream names, as applied in the cluster", async () => {
    const run = await runCli(["tail", "views", "--kubeconfig", env.kubeconfig, "--namespace", namespace, "--kafka", env.kafkaBrokers.join(","), "--from", "earliest", "-n", "2"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { event_id: string }).event_id)).toEqual(["k1", "k2"]);
  }, SPAWN_BUDGET_MS + 15_000);

  it("says which stream is missing in which namespace, with a hint (exit 2)", async () => {
    const run = await runCli(["tail", "nope", "--kubeconfig", env.kubeconfig, "--namespace", namespace, "--kafka", env.kafkaBrokers.join(","), "-n", "1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: no EventStream "nope" in namespace ${namespace} of the cluster`);
    expect(run.stderr).toContain("hint: check the name and --namespace");
  }, SPAWN_BUDGET_MS + 15_000);
});
