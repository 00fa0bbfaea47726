import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateDocument } from "../../api/validate.js";
import type { EventStreamSpec } from "../../api/eventstream.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { InMessage, KafkaAdmin, KafkaConsumer } from "../../runtime/kafka/port.js";
import { createRegistry } from "../../runtime/metrics/registry.js";
import { compileStream, type Manifest } from "../../runtime/pipeline/compile.js";
import type { CompiledStream } from "../../runtime/pipeline/compiled.js";
import { startCollector, type CollectorHandle } from "../../runtime/collector/server.js";
import { startKafka, type KafkaCluster } from "../../testbed/kafka.js";
import { waitFor } from "../../testbed/poll.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { createTopicsAndWait } from "../../runtime/kafka/ensure-topic.js";

const KEYS = { "shop-a": "key-a", "shop-b": "key-b" };
const secrets = new Map([["shop-keys", KEYS]]);
const at = "2026-11-23T10:00:00.000Z";
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An EventStream as a user would write it, through the same validator and compiler as `sluice run`. */
function stream(name: string, topic: string, ingest: Record<string, unknown>): CompiledStream {
  const verdict = validateDocument({
    apiVersion: "sluice.dev/v1alpha1",
    kind: "EventStream",
    metadata: { name },
    spec: {
      topic: { name: topic, partitions: 3, replicationFactor: 1, minInSyncReplicas: 1 },
      schema: {
        version: 2,
        fields: [
          { name: "event_id", type: "string", required: true },
          { name: "tenant_id", type: "string", required: true },
          { name: "user_id", type: "string", required: true },
          { name: "event_time", type: "timestamp", required: true },
          { name: "url", type: "string" },
        ],
      },
      keys: { eventId: "event_id", eventTime: "event_time", tenant: "tenant_id", partitionBy: "user_id" },
      ingest,
    },
  });
  if (verdict.status !== "valid") throw new Error(`test stream ${name} is invalid: ${JSON.stringify(verdict)}`);
  return compileStream(verdict.value as Manifest<EventStreamSpec>);
}

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: string; accepted?: number; rejected?: { index: number; reason: string }[] };
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: "POST", body: typeof body === "string" ? body : new Uint8Array(body), headers: { "Content-Type": "application/json", ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer["body"] };
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** Records in a topic, from the high and low watermarks: exact once the producer was acknowledged. */
async function recordCount(admin: KafkaAdmin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/** Collects every record of `topics` from the beginning, for the lifetime of the test file. */
async function tail(brokers: string[], topics: string[]): Promise<{ consumer: KafkaConsumer; seen: Map<string, InMessage[]> }> {
  const consumer = kafkaClient(brokers, "collector-test-reader").consumer({ groupId: randomName("collector-test"), fromBeginning: true });
  const seen = new Map<string, InMessage[]>(topics.map((t) => [t, []]));
  await consumer.connect();
  await consumer.subscribe({ topics });
  await consumer.run({ eachMessage: async ({ topic, message }) => void seen.get(topic)!.push(message) });
  return { consumer, seen };
}

describe("the collector, against the testbed's Kafka", () => {
  const { kafkaBrokers } = testbedEnv();
  const topics = { main: randomName("collector-main"), limited: randomName("collector-limited") };
  const main = stream("views", topics.main, {
    auth: { secretRef: { name: "shop-keys" } },
    limits: { maxBodyBytes: 4096, maxEventBytes: 512, maxEventsPerRequest: 5 },
  });
  const limited = stream("limited", topics.limited, {
    auth: { secretRef: { name: "shop-keys" } },
    rateLimit: { perTenantEventsPerSecond: 1, burst: 3 },
  });
  const closed = stream("closed", topics.main, { enabled: false });
  let admin: KafkaAdmin;
  let collector: CollectorHandle;
  let reader: Awaited<ReturnType<typeof tail>>;
  const events = (s: string) => `${collector.url}/v1/streams/${s}/events`;

  beforeAll(async () => {
    admin = kafkaClient(kafkaBrokers, "collector-test-admin").admin();
    await admin.connect();
    await createTopicsAndWait(admin, Object.values(topics).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })));
    collector = await startCollector({ streams: [main, limited, closed], secrets, kafkaBrokers, registry: createRegistry(false), produceTimeoutMs: 10_000 });
    reader = await tail(kafkaBrokers, Object.values(topics));
  });
  afterAll(async () => {
    await reader?.consumer.disconnect();
    await collector?.stop();
    await admin?.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin?.disconnect();
  });

  /** Sends a request that must be refused, and proves nothing of it reached Kafka. */
  async function refused(stream: string, topic: string, body: string | Buffer, headers: Record<string, string>): Promise<Answer> {
    const before = await recordCount(admin, topic);
    const answer = await post(events(stream), body, headers);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(typeof answer.body.error).toBe("string");
    expect(await recordCount(admin, topic)).toBe(before);
    return answer;
  }

  it("answers /healthz and /readyz", async () => {
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${collector.url}/readyz`)).status).toBe(200);
  });

  it("lands accepted events in Kafka keyed by partitionBy, with the filled id and tenant and the sluice headers", async () => {
    const t0 = Date.now();
    const answer = await post(events("views"), JSON.stringify([
      { event_id: "chosen-1", user_id: "u-1", event_time: at, url: "/a" },
      { user_id: "u-2", event_time: at, tenant_id: "shop-a" },
    ]), bearer("key-a"));
    expect(answer).toMatchObject({ status: 200, body: { accepted: 2, rejected: [] } });

    const landed = await waitFor("both events in the topic", async () => {
      const msgs = reader.seen.get(topics.main)!.filter((m) => ["u-1", "u-2"].includes(m.key?.toString() ?? ""));
      return msgs.length >= 2 ? msgs : undefined;
    }, { timeoutMs: 30_000 });
    const byKey = new Map(landed.map((m) => [m.key!.toString(), m]));
    const first = byKey.get("u-1")!;
    expect(JSON.parse(first.value!.toString())).toEqual({ event_id: "chosen-1", user_id: "u-1", event_time: at, url: "/a", tenant_id: "shop-a" });
    expect(first.headers?.["sluice-tenant"]?.toString()).toBe("shop-a");
    expect(first.headers?.["sluice-schema-version"]?.toString()).toBe("2");
    const ingestTime = Number(first.headers?.["sluice-ingest-time"]?.toString());
    expect(ingestTime).toBeGreaterThanOrEqual(t0);
    expect(ingestTime).toBeLessThanOrEqual(Date.now());
    expect(JSON.parse(byKey.get("u-2")!.value!.toString()).event_id).toMatch(UUID_V7);
  });

  it("accepts gzip-compressed NDJSON", async () => {
    const ndjson = [1, 2, 3].map((i) => JSON.stringify({ user_id: `nd-${i}`, event_time: at })).join("\n");
    const answer = await post(events("views"), gzipSync(ndjson), { ...bearer("key-b"), "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" });
    expect(answer).toMatchObject({ status: 200, body: { accepted: 3, rejected: [] } });
    await waitFor("the NDJSON events", async () => (reader.seen.get(topics.main)!.filter((m) => m.key?.toString().startsWith("nd-")).length === 3 ? true : undefined), { timeoutMs: 30_000 });
  });

  it("when some events are invalid, accepts the valid ones and names the others by index", async () => {
    const before = await recordCount(admin, topics.main);
    const answer = await post(events("views"), JSON.stringify([
      { user_id: "p-1", event_time: at },
      { user_id: "p-2", event_time: "yesterday" },
      { user_id: "p-3", event_time: at },
      { event_time: at },
    ]), bearer("key-a"));
    expect(answer.status).toBe(200);
    expect(answer.body.accepted).toBe(2);
    expect(answer.body.rejected).toEqual([
      { index: 1, reason: expect.stringMatching(/field "event_time" must be an RFC 3339 timestamp/) },
      { index: 3, reason: 'missing required field "user_id"' },
    ]);
    expect(await recordCount(admin, topics.main)).toBe(before + 2);
  });

  it("when every event is invalid, answers 400 with the same shape and produces nothing", async () => {
    const answer = await refused("views", topics.main, JSON.stringify([{ user_id: "x" }, { event_time: at }]), bearer("key-a"));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ accepted: 0, rejected: [{ index: 0 }, { index: 1 }] });
  });

  it("refuses a request without an API key with 401", async () => {
    const answer = await refused("views", topics.main, JSON.stringify([{ user_id: "n", event_time: at }]), {});
    expect(answer).toMatchObject({ status: 401, body: { error: expect.stringMatching(/missing API key/) } });
  });

  it("refuses a wrong API key with 401", async () => {
    expect((await refused("views", topics.main, JSON.stringify([{ user_id: "w", event_time: at }]), bearer("key-c"))).status).toBe(401);
  });

  it("refuses the whole request with 403 when one event names another tenant", async () => {
    const answer = await refused("views", topics.main, JSON.stringify([
      { user_id: "ok", event_time: at },
      { user_id: "sneaky", event_time: at, tenant_id: "shop-b" },
    ]), bearer("key-a"));
    expect(answer).toMatchObject({ status: 403, body: { error: expect.stringMatching(/event 1 has tenant_id="shop-b"/) } });
  });

  it("rejects only the events whose tenant field is not a tenant id, and accepts the others", async () => {
    const before = await recordCount(admin, topics.main);
    const answer = await post(events("views"), JSON.stringify([
      { user_id: "t-1", event_time: at, tenant_id: 7 },
      { user_id: "t-2", event_time: at },
      { user_id: "t-3", event_time: at, tenant_id: "" },
    ]), bearer("key-a"));
    expect(answer).toMatchObject({
      status: 200,
      body: {
        accepted: 1,
        rejected: [
          { index: 0, reason: 'field "tenant_id" must be a non-empty string (a tenant id), got 7' },
          { index: 2, reason: 'field "tenant_id" must be a non-empty string (a tenant id), got ""' },
        ],
      },
    });
    expect(await recordCount(admin, topics.main)).toBe(before + 1);
  });

  it("refuses a body over maxBodyBytes with 413", async () => {
    const big = JSON.stringify([{ user_id: "big", event_time: at, url: "x".repeat(5000) }]);
    expect((await refused("views", topics.main, big, bearer("key-a"))).status).toBe(413);
  });

  it("refuses a gzip bomb with 413 once it inflates past maxBodyBytes", async () => {
    // 3 MiB of whitespace (valid JSON once inflated) in about 3 KB: under the wire limit, far over the inflated one.
    const bomb = gzipSync(`[${" ".repeat(3 * 1024 * 1024)}]`);
    expect(bomb.length).toBeLessThan(4096);
    const answer = await refused("views", topics.main, bomb, { ...bearer("key-a"), "Content-Encoding": "gzip" });
    expect(answer).toMatchObject({ status: 413, body: { error: expect.stringMatching(/after decompression/) } });
  });

  it("refuses more events than maxEventsPerRequest with 413", async () => {
    const six = JSON.stringify(Array.from({ length: 6 }, (_, i) => ({ user_id: `m-${i}`, event_time: at })));
    expect((await refused("views", topics.main, six, bearer("key-a"))).status).toBe(413);
  });

  it("refuses a body that is not JSON with 400 naming where", async () => {
    const answer = await refused("views", topics.main, '[\n{"user_id": "j", "event_time": }\n]', bearer("key-a"));
    expect(answer).toMatchObject({ status: 400, body: { error: expect.stringMatching(/line 2, column 32/) } });
  });

  it("answers 401 without a valid key whatever the stream, so stream names cannot be enumerated", async () => {
    const one = JSON.stringify([{ user_id: "e", event_time: at }]);
    for (const name of ["nope", "closed", "views"]) {
      for (const headers of [{}, bearer("key-c")]) expect([name, headers, (await refused(name, topics.main, one, headers)).status]).toEqual([name, headers, 401]);
    }
  });

  it("tells a caller holding a valid key that a stream is unknown (404) or closed to HTTP (403)", async () => {
    expect((await refused("nope", topics.main, "[]", bearer("key-a"))).status).toBe(404);
    const closedAnswer = await refused("closed", topics.main, JSON.stringify([{ user_id: "c", event_time: at }]), bearer("key-b"));
    expect(closedAnswer).toMatchObject({ status: 403, body: { error: expect.stringMatching(/ingest.enabled is false/) } });
  });

  it("rate-limits a tenant with 429 and Retry-After while another tenant is still accepted", async () => {
    const three = (p: string) => JSON.stringify([1, 2, 3].map((i) => ({ user_id: `${p}-${i}`, event_time: at })));
    expect((await post(events("limited"), three("a"), bearer("key-a"))).status).toBe(200);
    const limitedAnswer = await refused("limited", topics.limited, three("a2"), bearer("key-a"));
    expect(limitedAnswer.status).toBe(429);
    expect(Number(limitedAnswer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await post(events("limited"), three("b"), bearer("key-b"))).status).toBe(200);
    expect(await recordCount(admin, topics.limited)).toBe(6);
  });

  it("exposes its metrics on /metrics", async () => {
    const text = await (await fetch(`${collector.url}/metrics`)).text();
    expect(text).toMatch(/sluice_collector_events_total\{stream="views",tenant="shop-a",outcome="accepted"\} \d+/);
    expect(text).toMatch(/sluice_collector_requests_total\{stream="limited",code="429"\} 1/);
    expect(text).toMatch(/sluice_collector_produce_duration_seconds_count\{stream="views"\} \d+/);
    expect(text).toMatch(/sluice_collector_in_flight_bytes 0/);
  });
});

describe("the collector when Kafka goes down", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-collector-kafka-"));
  const topic = randomName("collector-down");
  let cluster: KafkaCluster;
  let collector: CollectorHandle;
  beforeAll(async () => {
    cluster = await startKafka({ dir, logDir: dir, brokers: 1 });
    const admin = kafkaClient([cluster.bootstrap], "collector-down-admin").admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    const open = stream("open", topic, {});
    // Room for one event in flight: a send still retrying after its 503 blocks the next one.
    collector = await startCollector({ streams: [open], secrets: new Map(), kafkaBrokers: [cluster.bootstrap], registry: createRegistry(false), produceTimeoutMs: 2_000, maxInFlightBytes: 100 });
  }, 120_000);
  afterAll(async () => {
    await collector?.stop();
    await Promise.all(cluster?.servers.map((s) => s.stop()) ?? []);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 with Retry-After at the produce deadline instead of hanging", async () => {
    const body = (id: string) => JSON.stringify([{ event_id: id, tenant_id: "t", user_id: "u", event_time: at }]);
    expect((await post(`${collector.url}/v1/streams/open/events`, body("before"))).status).toBe(200);
    await cluster.servers[0]!.stop();
    const t0 = Date.now();
    const answer = await post(`${collector.url}/v1/streams/open/events`, body("during"));
    expect(answer.status).toBe(503);
    expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(answer.body.error).toMatch(/Kafka/);
    expect(Date.now() - t0).toBeLessThan(10_000);

    // The timed-out send may still be retrying: its bytes stay counted, so memory stays bounded ...
    const blocked = await post(`${collector.url}/v1/streams/open/events`, body("blocked"));
    expect(blocked.status).toBe(503);
    expect(blocked.body.error).toMatch(/holding \d+ bytes for Kafka already \(limit 100\)/);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // ... until the producer gives up on it (its delivery timeout), which releases them.
    await waitFor("the in-flight bytes to be released", async () => {
      const text = await (await fetch(`${collector.url}/metrics`)).text();
      return /^sluice_collector_in_flight_bytes 0$/m.test(text) ? true : undefined;
    }, { timeoutMs: 45_000 });
  }, 90_000);
});

describe("the collector's graceful shutdown", () => {
  const { kafkaBrokers } = testbedEnv();
  const topic = randomName("collector-stop");
  let admin: KafkaAdmin;
  beforeAll(async () => {
    admin = kafkaClient(kafkaBrokers, "collector-stop-admin").admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  });
  afterAll(async () => {
    await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin?.disconnect();
  });

  it("finishes a request already in flight, then stops listening", async () => {
    const collector = await startCollector({ streams: [stream("open", topic, {})], secrets: new Map(), kafkaBrokers, registry: createRegistry(false) });
    const body = JSON.stringify([{ event_id: "in-flight", tenant_id: "t", user_id: "u", event_time: at }]);
    // Expect: 100-continue makes the server confirm it has the request before the body is sent.
    const req = httpRequest(`${collector.url}/v1/streams/open/events`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Expect: "100-continue" },
    });
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on("response", (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      });
      req.on("error", reject);
    });
    const continued = new Promise<void>((resolve) => req.on("continue", resolve));
    req.flushHeaders();
    await continued;

    const stopping = collector.stop();
    req.end(body);
    const answer = await answered;
    expect(answer).toEqual({ status: 200, text: JSON.stringify({ accepted: 1, rejected: [] }) });
    await stopping;
    expect(await recordCount(admin, topic)).toBe(1);
    await expect(fetch(`${collector.url}/healthz`)).rejects.toThrow();
  });
});
