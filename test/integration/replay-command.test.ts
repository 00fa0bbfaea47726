/**
 * `sluice replay` as a spawned process against the testbed's Kafka, with a real sink worker
 * (its own process) writing to the testbed's ClickHouse: after a replay from earliest, the
 * table holds every event exactly once (count() FINAL and uniqExact(event_id)), though the
 * events were written twice. The refusals (live group, forward move, offsets deleted by
 * retention, an Aggregation from the middle) are checked on the same topic and groups, and
 * a real aggregation worker recomputes the same rows (values and versions) after a replay
 * from earliest.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createClient } from "@clickhouse/client";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPosition } from "../../operator/autoscale/observe-lag.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { loadPipeline } from "../../runtime/pipeline/load.js";
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { killHard, startChildSink, type ChildSink } from "../support/child-sink.js";
import { kubeConfig, kubectl } from "../support/kube.js";
import { applyCrds } from "../support/operator-namespace.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const sluice = join(repoRoot, "bin", "sluice.js");
// A spawned CLI compiles its sources through tsx and connects to Kafka: seconds on a busy
// 2-core machine. Killed at its budget so a hang fails with its output.
const SPAWN_BUDGET_MS = 60_000;
const EVENTS = 60;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: { ...process.env, KAFKA_BROKERS: "" } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${SPAWN_BUDGET_MS} ms)` : stderr });
    });
  });
}

/** Rejects after ms: a bound on a wait, not a pause. */
function deadline(ms: number, what: string): Promise<never> {
  return new Promise((_, fail) => setTimeout(() => fail(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref());
}

describe("sluice replay", () => {
  const env = testbedEnv();
  const brokers = env.kafkaBrokers.join(",");
  const kafka = kafkaClient(env.kafkaBrokers, "replay-test");
  const admin = kafka.admin();
  const ch = createClient({ url: env.clickhouseUrl });
  const namespace = randomName("replay");
  const database = `replay_${namespace.slice(-8)}`;
  const dir = mkdtempSync(join(tmpdir(), "sluice-replay-"));
  const bareTopic = randomName("replay-bare");
  const bareGroup = randomName("replay-bare-group");
  let sink: CompiledSink;
  let aggregationGroup: string;
  const children: ChildProcess[] = [];
  const cli = (...more: string[]) => ["replay", "-f", dir, "-n", namespace, "--kafka", brokers, ...more];

  const committed = async (groupId: string, topic: string) =>
    ((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => ({ offset: Number(p.offset), metadata: p.metadata }));
  const committedTotal = async () => (await committed(sink.groupId, sink.stream.topic)).reduce((n, p) => n + Math.max(0, p.offset), 0);
  const count = async (sql: string) => Number(((await (await ch.query({ query: sql, format: "JSONEachRow" })).json()) as { n: string }[])[0]!.n);
  const members = async (groupId: string) => (await admin.describeGroup(groupId)).members;

  async function startSinkWorker(): Promise<ChildSink> {
    const child = await startChildSink(sink, { KAFKA_BROKERS: brokers, CLICKHOUSE_URL: env.clickhouseUrl });
    children.push(child.process);
    return child;
  }
  async function startAggregationWorker(): Promise<ChildSink> {
    const job = loadPipeline([dir], namespace).aggregations[0]!;
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/run-aggregation.ts"), JSON.stringify(job)], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: brokers, CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
    await new Promise<void>((ready, fail) => {
      createInterface({ input: child.stdout! }).once("line", () => ready());
      void exited.then((e) => fail(new Error(`aggregation exited before ready: ${JSON.stringify(e)}`)));
    });
    return { process: child, exited };
  }
  async function aggregateRows(db: string): Promise<Record<string, unknown>[]> {
    const q = await ch.query({ query: `SELECT toString(window_start) AS w, tenant_id, views, active_users, version FROM \`${db}\`.active_users_per_minute FINAL WHERE is_deleted = 0 ORDER BY w, tenant_id`, format: "JSONEachRow" });
    return (await q.json()) as Record<string, unknown>[];
  }
  async function stopSinkWorker(child: ChildSink): Promise<void> {
    child.process.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await waitFor("the sink's group to have no members", async () => ((await members(sink.groupId)) === 0 ? true : undefined));
  }

  beforeAll(async () => {
    // The example pipeline, on 2 partitions of one broker, writing to a database of its own.
    cpSync(join(repoRoot, "examples", "clickstream"), dir, { recursive: true });
    for (const f of ["stream.yaml", "sink.yaml", "aggregation.yaml"]) {
      const path = join(dir, f);
      writeFileSync(
        path,
        readFileSync(path, "utf8")
          .replace(/partitions: 12\b/, "partitions: 2")
          .replace(/replicationFactor: 3\b/, "replicationFactor: 1")
          .replace(/minInSyncReplicas: 2\b/, "minInSyncReplicas: 1")
          .replace(/database: clickstream\b/, `database: ${database}`),
      );
    }
    const pipeline = loadPipeline([dir], namespace);
    sink = pipeline.sinks[0]!;
    aggregationGroup = pipeline.aggregations[0]!.groupId;
    expect(sink.database).toBe(database);
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: sink.stream.topic, numPartitions: 2 }, { topic: bareTopic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const now = Date.now();
    await producer.send({
      topic: sink.stream.topic,
      messages: Array.from({ length: EVENTS }, (_, i) => {
        const e = { event_id: `e${i}`, tenant_id: "shop-a", user_id: `u${i % 7}`, event_time: new Date(now - (EVENTS - i) * 1000).toISOString(), url: `https://shop.example/${i}` };
        return { key: e.user_id, value: JSON.stringify(e), headers: { "sluice-tenant": e.tenant_id }, partition: i % 2 };
      }),
    });
    await producer.send({ topic: bareTopic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })) });
    await producer.disconnect();
  }, 120_000);

  afterAll(async () => {
    for (const c of children) killHard(c);
    await ch.command({ query: `DROP DATABASE IF EXISTS \`${database}\`` }).catch(() => {});
    await ch.close();
    if (sink) await admin.deleteGroups([sink.groupId, aggregationGroup, bareGroup]).catch(() => {});
    await admin.deleteTopics({ topics: [sink?.stream.topic, bareTopic].filter((t): t is string => !!t) }).catch(() => {});
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("refuses while the sink's workers run, and says how to stop them", async () => {
    const worker = await startSinkWorker();
    await waitFor("every event written and committed", async () => ((await committedTotal()) === EVENTS && (await count(`SELECT count() AS n FROM \`${database}\`.page_views FINAL`)) === EVENTS ? true : undefined), { timeoutMs: 60_000 });
    const run = await runCli(cli("page-views-raw", "--from", "earliest"));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: group ${sink.groupId} has 1 active member (state Stable)`);
    expect(run.stderr).toContain(`hint: stop the workers first, on a cluster with \`kubectl scale sink/page-views-raw -n ${namespace} --replicas=0\``);
    expect(await committedTotal()).toBe(EVENTS);
    await stopSinkWorker(worker);
  }, 120_000);

  it("--dry-run says per partition what would be re-read, and changes nothing", async () => {
    const before = await committed(sink.groupId, sink.stream.topic);
    const run = await runCli(cli("page-views-raw", "--from", "earliest", "--dry-run", "-o", "json"));
    expect(run.code, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan).toMatchObject({ kind: "Sink", groupId: sink.groupId, topic: sink.stream.topic, dryRun: true, reset: false, refusals: [], totals: { reRead: EVENTS, skipped: 0, changed: 2 } });
    expect(plan.partitions).toMatchObject([
      { partition: 0, committed: EVENTS / 2, newOffset: 0, reRead: EVENTS / 2, end: EVENTS / 2, change: true },
      { partition: 1, committed: EVENTS / 2, newOffset: 0, reRead: EVENTS / 2, end: EVENTS / 2, change: true },
    ]);
    const text = await runCli(cli("page-views-raw", "--from", "earliest", "--dry-run"));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/PARTITION\s+COMMITTED\s+POSITION\s+NEW\s+RE-READ\s+LOW\s+END\n\s+0\s+30\s+30\s+0\s+30\s+0\s+30\n/);
    expect(text.stdout).toContain(`total: ${EVENTS} messages re-read on 2 partitions reset`);
    expect(text.stdout).toContain("dry run: nothing changed.");
    // A duration ago: Kafka's record timestamps, all from this test's start, so offset 0.
    const ago = await runCli(cli("page-views-raw", "--from", "1h", "--dry-run"));
    expect(ago.code, ago.stderr).toBe(0);
    expect(ago.stdout).toMatch(/replay from 1h \(the first record timestamped at or after \S+Z on each partition\)/);
    expect(ago.stdout).toContain(`total: ${EVENTS} messages re-read on 2 partitions reset`);
    expect(await committed(sink.groupId, sink.stream.topic)).toEqual(before);
  }, 3 * SPAWN_BUDGET_MS + 15_000);

  it("resets, waits for workers, follows them to the end, and the table still holds every event exactly once", async () => {
    const replay = spawn(sluice, cli("page-views-raw", "--from", "earliest"), { env: { ...process.env, KAFKA_BROKERS: "" }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(replay);
    let stdout = "";
    let stderr = "";
    replay.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    replay.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => replay.once("exit", r));
    await waitFor("the replay to reset the group and wait for workers", async () => (stderr.includes(`waiting for workers: group ${sink.groupId} has no members`) ? true : undefined), { timeoutMs: SPAWN_BUDGET_MS });
    expect(await committed(sink.groupId, sink.stream.topic)).toEqual([{ offset: 0, metadata: null }, { offset: 0, metadata: null }]);
    expect(stdout).toContain(`reset: group ${sink.groupId} now starts partition 0 at 0, partition 1 at 0`);
    const worker = await startSinkWorker();
    const code = await Promise.race([exited, deadline(90_000, "the replay command to exit")]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stderr).toContain("workers joined: 1 member reading");
    expect(stdout).toContain(`replayed: the group read ${EVENTS} messages on 2 partitions up to the end offsets taken at the reset`);
    expect(await committedTotal()).toBe(EVENTS);
    // Every event was written twice; the table collapses the copies by its key.
    const raw = await count(`SELECT count() AS n FROM \`${database}\`.page_views`);
    const final = await count(`SELECT count() AS n FROM \`${database}\`.page_views FINAL`);
    const distinct = await count(`SELECT uniqExact(event_id) AS n FROM \`${database}\`.page_views`);
    console.log(`[replay] rows: ${raw} raw, ${final} with FINAL, ${distinct} distinct event ids`);
    expect(final).toBe(EVENTS);
    expect(distinct).toBe(EVENTS);
    await stopSinkWorker(worker);
  }, 180_000);

  it("refuses a forward move that would skip unread records, unless --allow-skip", async () => {
    const reset = await runCli(cli("page-views-raw", "--from", "earliest", "--no-wait"));
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain("not following (--no-wait)");
    const run = await runCli(cli("page-views-raw", "--from", "10"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: replay refused, nothing changed:\n  partition 0: moving from 0 forward to 10 would skip 10 records (0..9) the group has not read");
    expect(run.stderr).toContain("hint: replay is for re-reading");
    expect(await committedTotal()).toBe(0);
    const allowed = await runCli(cli("page-views-raw", "--from", "10", "--allow-skip", "--dry-run", "-o", "json"));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout).totals).toMatchObject({ skipped: 20, reRead: 0 });
  }, 3 * SPAWN_BUDGET_MS + 15_000);

  it("refuses offsets retention deleted, naming partition and offsets, unless --clamp (a bare --group)", async () => {
    // kafkajs may not know the new topic's leader yet (KafkaJSBrokerNotFound): asked again until it does.
    await waitFor("records 0..3 deleted", async () => {
      await admin.deleteTopicRecords({ topic: bareTopic, partitions: [{ partition: 0, offset: "4" }] });
      return (await admin.fetchTopicOffsets(bareTopic))[0]!.low === "4" ? true : undefined;
    });
    await kafka.commitGroupOffsets(bareGroup, [{ topic: bareTopic, partition: 0, offset: "8" }]);
    const bare = (...more: string[]) => ["replay", "--group", bareGroup, "--topic", bareTopic, "--kafka", brokers, ...more];
    const run = await runCli(bare("--from", "2"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("partition 0: offset 2 was deleted by retention (the oldest record kept is at offset 4)");
    expect(run.stderr).toContain("hint: pass --clamp");
    const clamped = await runCli(bare("--from", "2", "--clamp", "--dry-run", "-o", "json"));
    expect(clamped.code, clamped.stderr).toBe(0);
    expect(JSON.parse(clamped.stdout).partitions).toMatchObject([{ partition: 0, committed: 8, newOffset: 4, low: 4, reRead: 4 }]);
    const usage = await runCli(["replay", "--group", bareGroup, "--from", "2", "--kafka", brokers]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--group needs --topic");
  }, 3 * SPAWN_BUDGET_MS + 15_000);

  it("an Aggregation: refused from the middle, saying why; from earliest a real worker recomputes the same rows", async () => {
    const topic = sink.stream.topic;
    const worker = await startAggregationWorker();
    const rows = () => aggregateRows(database);
    // Read to the end (the checkpoint's read position), and every view counted in a row.
    await waitFor("the aggregation to read and write every event", async () => {
      const read = (await committed(aggregationGroup, topic)).map((p) => readPosition(p.offset, p.metadata));
      const views = (await rows()).reduce((n, r) => n + Number(r.views), 0);
      return read.join() === `${EVENTS / 2},${EVENTS / 2}` && views === EVENTS ? true : undefined;
    }, { timeoutMs: 60_000 });
    const before = await rows();

    const middle = await runCli(cli("active-users-per-minute", "--from", "5"));
    expect(middle.code).toBe(1);
    expect(middle.stderr).toContain("an Aggregation is replayed only from the first record of every partition (partition 0 would start at offset 5, partition 1 would start at offset 5)");
    expect(middle.stderr).toContain("events that were too late the first time would be counted in windows that were already final");
    expect(middle.stderr).toContain("hint: replay with --from earliest");

    worker.process.kill("SIGTERM");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    await waitFor("the aggregation's group to have no members", async () => ((await members(aggregationGroup)) === 0 ? true : undefined));
    const replay = spawn(sluice, cli("active-users-per-minute", "--from", "earliest", "-o", "json"), { env: { ...process.env, KAFKA_BROKERS: "" }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(replay);
    let stdout = "";
    let stderr = "";
    replay.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    replay.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => replay.once("exit", r));
    await waitFor("the replay to reset the group and wait for workers", async () => (stderr.includes("waiting for workers") ? true : undefined), { timeoutMs: SPAWN_BUDGET_MS });
    // No metadata: checkpointFromCommits resumes there "with no event-time state", the state at offset 0.
    expect(await committed(aggregationGroup, topic)).toEqual([{ offset: 0, metadata: null }, { offset: 0, metadata: null }]);
    const again = await startAggregationWorker();
    const code = await Promise.race([exited, deadline(90_000, "the replay command to exit")]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: "Aggregation", aggregation: true, reset: true, totals: { reRead: EVENTS, changed: 2 }, followed: { complete: true, done: EVENTS, total: EVENTS } });
    // The recomputed windows: the same values under the same versions.
    await waitFor("the recomputed rows", async () => (JSON.stringify(await rows()) === JSON.stringify(before) ? true : undefined), { timeoutMs: 30_000 });
    console.log(`[replay] aggregate rows before and after the replay: ${JSON.stringify(before)}`);
    again.process.kill("SIGTERM");
    expect(await again.exited).toEqual({ code: 0, signal: null });
  }, 240_000);
});

describe("sluice replay against a cluster", () => {
  // As `sluice lag`: with no -f and no --group the resource is read from the API server.
  const env = testbedEnv();
  const brokers = env.kafkaBrokers.join(",");
  const kafka = kafkaClient(env.kafkaBrokers, "replay-cluster-test");
  const admin = kafka.admin();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const ns = randomName("replayk");
  const topic = `${ns}.views`;
  const groupId = `sluice.${ns}.sink.views-raw`;

  beforeAll(async () => {
    applyCrds(); // on its own this file may be the first to need them
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const stream = {
      apiVersion: "sluice.dev/v1alpha1", kind: "EventStream", metadata: { name: "views" },
      spec: {
        topic: { partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 },
        schema: { version: 1, fields: [{ name: "event_id", type: "string", required: true }, { name: "event_time", type: "timestamp", required: true }] },
        keys: { eventId: "event_id", eventTime: "event_time" },
        ingest: { enabled: false },
      },
    };
    const sinkObject = { apiVersion: "sluice.dev/v1alpha1", kind: "Sink", metadata: { name: "views-raw" }, spec: { source: { stream: "views" }, clickhouse: { database: "replayk", table: "views", orderBy: ["event_time", "event_id"] } } };
    kubectl(["-n", ns, "apply", "-f", "-"], [stream, sinkObject].map((o) => JSON.stringify(o)).join("\n"));
    // The operator is not running: the topic and the group's commits stand in for its workers.
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i < 6 ? 0 : 1 })) });
    await producer.disconnect();
    await kafka.commitGroupOffsets(groupId, [{ topic, partition: 0, offset: "6" }, { topic, partition: 1, offset: "4" }]);
  }, 60_000);

  afterAll(async () => {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
    await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it("finds the Sink in the kubeconfig's cluster (-n), plans, and resets its group", async () => {
    const plan = await runCli(["replay", "views-raw", "-n", ns, "--from", "earliest", "--kafka", brokers, "--dry-run", "-o", "json"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ kind: "Sink", name: "views-raw", groupId, topic, totals: { reRead: 10, changed: 2 } });
    const run = await runCli(["replay", "views-raw", "-n", ns, "--from", "earliest", "--kafka", brokers, "--no-wait"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`not following (--no-wait): start the workers again: \`kubectl scale sink/views-raw -n ${ns} --replicas=<n>\``);
    const stored = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => p.offset);
    expect(stored).toEqual(["0", "0"]);
    const unknown = await runCli(["replay", "nope", "-n", ns, "--from", "earliest", "--kafka", brokers]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no Sink or Aggregation "nope" in namespace ${ns}`);
  }, 3 * SPAWN_BUDGET_MS + 15_000);
});
