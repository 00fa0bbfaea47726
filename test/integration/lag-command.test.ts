import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaConsumer } from "../../runtime/kafka/port.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
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

describe("sluice lag", () => {
  const env = testbedEnv();
  const brokers = env.kafkaBrokers.join(",");
  const kafka = kafkaClient(env.kafkaBrokers, "lag-test");
  const admin = kafka.admin();
  const topic = randomName("lag");
  const groupId = randomName("lag-group");
  let member: KafkaConsumer | undefined;
  const startedAt = Date.now();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `a${i}`, partition: 0 })) });
    await producer.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ value: `b${i}`, partition: 1 })) });
    await producer.disconnect();
    // A member that stays in the group, having committed 4 of partition 0's 10 records and
    // nothing of partition 1.
    member = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await member.connect();
    await member.subscribe({ topics: [topic] });
    let committed = false;
    await member.run({
      eachMessage: async ({ partition, message }) => {
        if (partition === 0 && message.offset === "3" && !committed) {
          committed = true;
          await member!.commitOffsets([{ topic, partition: 0, offset: "4" }]);
        }
      },
    });
    await waitFor("the member's commit", async () => ((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === 0)?.offset === "4" ? true : undefined));
    await waitFor("the group to be stable", async () => ((await admin.describeGroupMembers(groupId)).state === "Stable" ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await member?.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  });

  it("reports a group's lag per partition in messages and seconds, with its state and members, as JSON", async () => {
    const run = await runCli(["lag", "--group", groupId, "--kafka", brokers, "-o", "json"]);
    expect(run.code, run.stderr).toBe(0);
    const { groups } = JSON.parse(run.stdout);
    expect(groups).toHaveLength(1);
    const g = groups[0];
    expect(g).toMatchObject({ kind: "group", groupId, topic, state: "Stable", lag: { messages: 11 } });
    expect(g.members).toHaveLength(1);
    expect(g.members[0].assignment).toEqual({ [topic]: [0, 1] });
    const memberId = g.members[0].memberId;
    expect(g.partitions).toMatchObject([
      { partition: 0, committed: "4", position: "4", end: "10", lag: 6, member: memberId },
      { partition: 1, committed: null, position: "0", end: "5", lag: 5, member: memberId },
    ]);
    // The oldest unconsumed records were produced since the test began.
    const elapsed = (Date.now() - startedAt) / 1000;
    for (const p of g.partitions) {
      expect(p.lagSeconds).toBeGreaterThanOrEqual(0);
      expect(p.lagSeconds).toBeLessThanOrEqual(elapsed + 1);
    }
    expect(g.lag.seconds).toBe(Math.max(...g.partitions.map((p: { lagSeconds: number }) => p.lagSeconds)));
  }, SPAWN_BUDGET_MS + 15_000);

  it("prints a table for people, and says why seconds are unknown with --no-seconds", async () => {
    const run = await runCli(["lag", "--group", groupId, "--topic", topic, "--kafka", brokers, "--no-seconds"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`group ${groupId}  (topic ${topic})\n  state Stable, 1 member; lag 11 messages, age unknown\n`);
    expect(run.stdout).toMatch(/PARTITION\s+COMMITTED\s+POSITION\s+END\s+LAG\s+LAG\(S\)\s+MEMBER\n\s+0\s+4\s+4\s+10\s+6\s+\?\s+lag-test\n\s+1\s+-\s+0\s+5\s+5\s+\?\s+lag-test\n/);
    expect(run.stdout).toContain("lag in seconds unknown for partition 0: not read (--no-seconds); 1: not read (--no-seconds)");
    expect(run.stdout).toContain(`members:\n    lag-test  `);
  }, SPAWN_BUDGET_MS + 15_000);

  it("finds the groups of a folder's Sinks and Aggregations, and fails with a hint where their topic is missing", async () => {
    const namespace = randomName("lagns");
    const run = await runCli(["lag", "-f", join(repoRoot, "examples", "clickstream"), "-n", namespace, "--kafka", brokers]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Sink page-views-raw  (group sluice.${namespace}.sink.page-views-raw, topic ${namespace}.page-views)\n  error: topic ${namespace}.page-views does not exist: is the pipeline deployed`);
    expect(run.stdout).toContain(`Aggregation active-users-per-minute  (group sluice.${namespace}.aggregation.active-users-per-minute`);
  }, SPAWN_BUDGET_MS + 15_000);
});
