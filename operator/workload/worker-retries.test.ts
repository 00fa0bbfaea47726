import { describe, expect, it } from "vitest";
import { retryingCondition, type PodReport } from "./worker-retries.js";

const line = (system: "kafka" | "clickhouse", step: string, since: string, error: string) => ({ system, step, operations: 1, since, attempts: 4, error, example: `${step} p0 7` });
const report = (pod: string, retrying: ReturnType<typeof line>[]): PodReport => ({ pod, status: { ready: true, retrying, recent: [] } });

describe("the Retrying condition from worker pods' /status", () => {
  it("False when no pod retries, and when no pod runs", () => {
    expect(retryingCondition([report("a", []), report("b", [])])).toMatchObject({ status: "False", reason: "NoRetries", message: "none of 2 worker pod(s) is retrying a step" });
    expect(retryingCondition([])).toMatchObject({ status: "False", reason: "NoRetries", message: "no worker pod is running" });
  });

  it("True naming the pod, the step, since when and the error; Kafka first", () => {
    const c = retryingCondition([
      report("sink-1", [line("clickhouse", "insert", "2026-11-29T14:00:00.000Z", "ECONNREFUSED")]),
      report("sink-2", [line("kafka", "commit", "2026-11-29T14:01:00.000Z", "This is not the correct coordinator for this group")]),
    ]);
    expect(c).toMatchObject({ type: "Retrying", status: "True", reason: "KafkaRetrying" });
    expect(c.message).toMatch(/^pod sink-2: Kafka commit retrying since 2026-11-29T14:01:00Z \(commit p0 7\): This is not the correct coordinator/);
    expect(c.message).toContain("pod sink-1: ClickHouse insert retrying since 2026-11-29T14:00:00Z");
    expect(c.message).toContain("after 5 minutes");
  });

  it("ClickHouseRetrying when only ClickHouse steps retry", () => {
    expect(retryingCondition([report("a", [line("clickhouse", "insert", "2026-11-29T14:00:00.000Z", "timeout")])])).toMatchObject({ status: "True", reason: "ClickHouseRetrying" });
  });

  it("Unknown when no pod could be read; a pod not read beside others is named", () => {
    expect(retryingCondition([{ pod: "a", error: "connect ETIMEDOUT" }])).toMatchObject({ status: "Unknown", reason: "WorkerStatusUnavailable", message: "pod a: /status not read: connect ETIMEDOUT" });
    expect(retryingCondition([{ pod: "a", error: "x" }, report("b", [])])).toMatchObject({ status: "False", message: "none of 1 worker pod(s) is retrying a step (1 not read: a)" });
  });
});

describe("a worker step with no answer", () => {
  it("is KafkaNotAnswering, the step 'waiting'", () => {
    const c = retryingCondition([report("sink-1", [{ ...line("kafka", "commit", "2026-11-29T14:00:00.000Z", "no answer after 10 s"), attempts: 0 }])]);
    expect(c).toMatchObject({ status: "True", reason: "KafkaNotAnswering" });
    expect(c.message).toMatch(/^pod sink-1: Kafka commit waiting since 2026-11-29T14:00:00Z \(commit p0 7\): no answer after 10 s/);
  });
});

describe("a worker that no Kafka broker answers", () => {
  it("is KafkaUnreachable, named first, with the time a broker last answered", () => {
    const c = retryingCondition([
      report("sink-1", [line("clickhouse", "insert", "2026-11-29T14:00:00.000Z", "x")]),
      { pod: "sink-2", status: { ready: false, kafka: { reachable: false, lastAnswerAt: "2026-11-29T14:02:03.456Z" }, retrying: [], recent: [] } },
    ]);
    expect(c).toMatchObject({ status: "True", reason: "KafkaUnreachable" });
    expect(c.message).toMatch(/^pod sink-2: no Kafka bootstrap broker has answered since 2026-11-29T14:02:03Z/);
  });
});
