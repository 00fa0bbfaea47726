import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_WORKER_IMAGE, compileConfig } from "./config.js";

describe("operator config", () => {
  it("compiles flags with defaults into explicit units", () => {
    expect(compileConfig({ kafka: "a:9092, b:9092", clickhouse: "http://ch:8123" }, { HOSTNAME: "pod-1", POD_NAMESPACE: "sluice-system" })).toEqual({
      kafkaBrokers: ["a:9092", "b:9092"],
      clickhouseUrl: "http://ch:8123",
      workerImage: DEFAULT_WORKER_IMAGE,
      namespaces: [],
      resyncPeriodMs: 300_000,
      autoscaleIntervalMs: 15_000,
      workers: 4,
      backoff: { baseMs: 500, maxMs: 300_000 },
      leaderElection: { enabled: true, namespace: "sluice-system", leaseName: "sluice-operator", identity: `pod-1-${process.pid}` },
    });
  });

  it("falls back to the environment, and flags win over it", () => {
    const env = { KAFKA_BROKERS: "k:1", CLICKHOUSE_URL: "http://c", SLUICE_WATCH_NAMESPACES: "a,b", SLUICE_WORKER_IMAGE: "img:1" };
    expect(compileConfig({}, env)).toMatchObject({ kafkaBrokers: ["k:1"], namespaces: ["a", "b"], workerImage: "img:1" });
    expect(compileConfig({ namespace: ["c"], resync: "30s" }, env)).toMatchObject({ namespaces: ["c"], resyncPeriodMs: 30_000 });
  });

  it("names the Lease after --leader-election-id, refusing a name no Lease can have", () => {
    expect(compileConfig({ kafka: "k", clickhouse: "c", leaderElectionId: "team-a-sluice" }, {}).leaderElection.leaseName).toBe("team-a-sluice");
    expect(() => compileConfig({ kafka: "k", clickhouse: "c", leaderElectionId: "Team_A" }, {})).toThrow(/--leader-election-id must be a lowercase DNS name \(a Lease name\), got "Team_A"/);
  });

  it("refuses a missing Kafka, a bad duration and a bad worker count", () => {
    expect(() => compileConfig({ clickhouse: "http://c" }, {})).toThrow(ConfigError);
    expect(() => compileConfig({ kafka: "k", clickhouse: "c", resync: "soon" }, {})).toThrow(/--resync/);
    expect(() => compileConfig({ kafka: "k", clickhouse: "c", workers: "0" }, {})).toThrow(/--workers/);
  });
});
