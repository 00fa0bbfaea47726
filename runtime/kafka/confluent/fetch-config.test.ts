import { describe, expect, it } from "vitest";
import { fetchConfig } from "./fetch-config.js";

describe("fetchConfig", () => {
  it("bounds the prefetch queue", () => {
    const c = fetchConfig(500);
    expect(c["queued.min.messages"]).toBe(10_000);
    expect(c["queued.max.messages.kbytes"]).toBe(16_384);
    expect(c["fetch.max.bytes"]).toBe(8 << 20);
    expect(c["fetch.wait.max.ms"]).toBe(500);
  });

  it("looks at those bounds again well within a batch's delay, not after librdkafka's default second", () => {
    // Without the setting, librdkafka waits 1,000 ms before fetching a partition again
    // once the queue held its bounds: a worker that caught up sat idle that long.
    const backoff = fetchConfig(100)["fetch.queue.backoff.ms"];
    expect(backoff).toBeDefined();
    expect(backoff).toBeLessThanOrEqual(100);
  });
});
