import { describe, expect, it } from "vitest";
// kafkajs's own error factory: the objects the admin really throws.
// @ts-expect-error: kafkajs ships no types for its internals
import { createErrorFromCode } from "kafkajs/src/protocol/error.js";
import { kafkaRetry } from "./kafka-retry.js";
import { RetriesExhausted, retrying, type RetryContext } from "./retry.js";

const kafkajs = (code: number): Error => createErrorFromCode(code) as Error;
const NOT_COORDINATOR = 16;
const GROUP_AUTHORIZATION_FAILED = 30;

function context(shouldContinue = () => true) {
  const seen: { retries: { attempt: number; step?: string }[]; settled: string[] } = { retries: [], settled: [] };
  const ctx: RetryContext = {
    shouldContinue,
    signal: new AbortController().signal,
    backoff: { initialMs: 1, maxMs: 5 },
    onRetry: (_what, attempt, _err, _delay, step) => seen.retries.push({ attempt, step }),
    onSettled: (what) => seen.settled.push(what),
  };
  return { ctx, seen };
}

/** A Kafka call that fails with `err` the first `times` calls, then answers. */
function failing(times: number, err: () => Error) {
  let calls = 0;
  return { fn: async () => (++calls <= times ? Promise.reject(err()) : "offsets"), calls: () => calls };
}

describe("retrying a Kafka step of the sink", () => {
  it("when the group's coordinator moved, the read is asked again until it answers, each retry reported with its step", async () => {
    const { ctx, seen } = context();
    const call = failing(4, () => kafkajs(NOT_COORDINATOR));
    await expect(retrying("read committed offsets", ctx, call.fn, kafkaRetry("read offsets", 60_000))).resolves.toBe("offsets");
    expect(call.calls()).toBe(5);
    expect(seen.retries).toEqual([1, 2, 3, 4].map((attempt) => ({ attempt, step: "read offsets" })));
    expect(seen.settled).toEqual(["read committed offsets"]);
  });

  it("when Kafka refuses the group's permission, the step fails at once: waiting cannot fix it", async () => {
    const { ctx, seen } = context();
    const call = failing(Infinity, () => kafkajs(GROUP_AUTHORIZATION_FAILED));
    await expect(retrying("commit p0 10", ctx, call.fn, kafkaRetry("commit", 60_000))).rejects.toMatchObject({ code: GROUP_AUTHORIZATION_FAILED });
    expect(call.calls()).toBe(1);
    expect(seen.retries).toEqual([]);
    expect(seen.settled).toEqual([]);
  });

  it("when a passing error outlasts the deadline, the step fails naming itself and the last error", async () => {
    const { ctx, seen } = context();
    const call = failing(Infinity, () => kafkajs(NOT_COORDINATOR));
    const err = await retrying("commit p3 120", ctx, call.fn, kafkaRetry("commit", 30)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhausted);
    expect((err as Error).message).toMatch(/^commit p3 120 still failing after \d+ attempts in \d+ s: .*not the correct coordinator/);
    expect(call.calls()).toBeGreaterThan(1);
    expect(seen.settled).toEqual(["commit p3 120"]);
  });

  it("when the partition is revoked while it retries, the step is abandoned and still reported as ended", async () => {
    let owned = true;
    const { ctx, seen } = context(() => owned);
    const call = failing(Infinity, () => {
      owned = call.calls() < 3;
      return kafkajs(NOT_COORDINATOR);
    });
    await expect(retrying("commit p1 7", ctx, call.fn, kafkaRetry("commit", 60_000))).rejects.toMatchObject({ name: "Abandoned" });
    expect(seen.retries).toHaveLength(2);
    expect(seen.settled).toEqual(["commit p1 7"]);
  });
});

describe("a step that gets no answer", () => {
  it("is reported once after slowMs, settled when it answers; a quick failure does not count as slow", async () => {
    const slow: { what: string; waitedMs: number; step?: string }[] = [];
    const settled: string[] = [];
    const ctx: RetryContext = {
      shouldContinue: () => true,
      signal: new AbortController().signal,
      backoff: { initialMs: 40, maxMs: 40 },
      onRetry: () => {},
      onSettled: (what) => settled.push(what),
      onSlow: (what, waitedMs, step) => slow.push({ what, waitedMs, step }),
      slowMs: 20,
    };
    let answer!: () => void;
    const hung = retrying("commit p0 5", ctx, () => new Promise<string>((r) => (answer = () => r("done"))), { step: "commit" });
    await waitUntil(() => slow.length > 0);
    expect(slow).toEqual([{ what: "commit p0 5", waitedMs: 20, step: "commit" }]);
    expect(settled).toEqual([]);
    answer();
    await expect(hung).resolves.toBe("done");
    expect(settled).toEqual(["commit p0 5"]);

    // Fails at once, then backs off for 40 ms (longer than slowMs): the backoff is not a hang.
    const quick = failing(1, () => new Error("boom"));
    await expect(retrying("commit p1 9", ctx, quick.fn, { step: "commit" })).resolves.toBe("offsets");
    expect(slow).toHaveLength(1);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
