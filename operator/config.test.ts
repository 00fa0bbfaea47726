import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_WORKER_IMAGE, compileConfig } from "./config.js";

describe("operator config", () => {
  it("compiles flags with defaults into explicit units", () => {
    expect(compileConfig({ kafka: "a:9092, b:9092", clickhouse: "http://ch:8123" }, { HOSTNAME: "pod-1", POD_NAMESPACE: "sluice-system" })).toEqual({
      kafkaBrokers: ["a:9092", "b:9092"],
      clickhouseUrl: "http://ch:8123",
      kafkaClusters: { default: ["a:9092", "b:9092"] },
      clickhouseClusters: { default: "http://ch:8123" },
      workerImage: DEFAULT_WORKER_IMAGE,
      namespaces: [],
      resyncPeriodMs: 300_000,
      autoscaleIntervalMs: 5_000,
      autoscaleLookbackMs: 30_000,
      autoscaleSettleTimeoutMs: 120_000,
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

  it("adds named clusters beside the default ones, refusing a malformed, repeated or 'default' name", () => {
    const c = compileConfig({ kafka: "k:1", clickhouse: "http://c", kafkaCluster: ["eu=e1:9092, e2:9092", "us=u:9092"], clickhouseCluster: ["analytics=http://a:8123"] }, {});
    expect(c.kafkaClusters).toEqual({ default: ["k:1"], eu: ["e1:9092", "e2:9092"], us: ["u:9092"] });
    expect(c.clickhouseClusters).toEqual({ default: "http://c", analytics: "http://a:8123" });
    const bad = (kafkaCluster: string[]) => () => compileConfig({ kafka: "k:1", clickhouse: "http://c", kafkaCluster }, {});
    expect(bad(["EU=x:1"])).toThrow('--kafka-cluster must be name=address with a lowercase DNS-label name, got "EU=x:1"');
    expect(bad(["eu"])).toThrow(/must be name=address/);
    expect(bad(["default=x:1"])).toThrow(/"default" is the cluster --kafka\/--clickhouse configure/);
    expect(bad(["eu=x:1", "eu=y:1"])).toThrow('--kafka-cluster: cluster "eu" is given twice');
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
