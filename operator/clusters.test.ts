import { describe, expect, it } from "vitest";
import { endpoints, readerClickHouse, readerPlacement, streamPlacement } from "./clusters.js";

const config = {
  kafkaClusters: { default: ["k:9092"], eu: ["eu-1:9092", "eu-2:9092"] },
  clickhouseClusters: { default: "http://ch:8123", analytics: "http://an:8123" },
};

describe("streamPlacement", () => {
  it("is the default Kafka unless the stream names a configured one", () => {
    expect(streamPlacement(undefined, config)).toEqual({ ok: true, kafka: "default" });
    expect(streamPlacement({ kafka: "eu" }, config)).toEqual({ ok: true, kafka: "eu" });
  });
  it("refuses a cluster the operator does not know, naming field and what is configured", () => {
    expect(streamPlacement({ kafka: "us" }, config)).toEqual({ ok: false, message: 'spec.clusters.kafka: no Kafka cluster "us" in the operator configuration (configured: default, eu)' });
  });
  it("refuses a ClickHouse on a stream: it writes no table, its readers choose theirs", () => {
    expect(streamPlacement({ clickhouse: "analytics" }, config)).toMatchObject({ ok: false, message: expect.stringMatching(/^spec\.clusters\.clickhouse: an EventStream writes no table/) });
  });
});

describe("readerPlacement", () => {
  const stream = { name: "views", kafka: "eu" };
  it("reads the stream where it is and writes to its own ClickHouse, default unless named", () => {
    expect(readerPlacement(undefined, stream, config)).toEqual({ ok: true, kafka: "eu", clickhouse: "default" });
    expect(readerPlacement({ kafka: "eu", clickhouse: "analytics" }, stream, config)).toEqual({ ok: true, kafka: "eu", clickhouse: "analytics" });
  });
  it("refuses a Kafka other than its stream's", () => {
    expect(readerPlacement({ kafka: "default" }, stream, config)).toEqual({
      ok: false,
      message: 'spec.clusters.kafka: EventStream views is on Kafka cluster "eu", and a reader reads its stream where it is (leave spec.clusters.kafka out)',
    });
  });
  it("refuses unknown names, all of them at once", () => {
    const placed = readerPlacement({ kafka: "us", clickhouse: "warehouse" }, stream, config);
    expect(placed.ok === false && placed.message).toBe(
      'spec.clusters.kafka: no Kafka cluster "us" in the operator configuration (configured: default, eu); spec.clusters.clickhouse: no ClickHouse cluster "warehouse" in the operator configuration (configured: default, analytics)',
    );
  });
});

describe("endpoints and readerClickHouse", () => {
  it("give a worker its clusters' addresses", () => {
    expect(endpoints(config, { kafka: "eu", clickhouse: "analytics" })).toEqual({ kafkaBrokers: ["eu-1:9092", "eu-2:9092"], clickhouseUrl: "http://an:8123" });
    expect(endpoints(config, { kafka: "default" })).toEqual({ kafkaBrokers: ["k:9092"], clickhouseUrl: "http://ch:8123" });
  });
  it("place a reader's tables by its own spec alone", () => {
    expect(readerClickHouse(undefined)).toBe("default");
    expect(readerClickHouse({ clickhouse: "analytics" })).toBe("analytics");
  });
});
