import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../api/repo-root.js";
import { compileConfig } from "../config.js";
import type { Obj } from "../informer.js";
import { claimsOf, ownedElsewhereCondition, topicsOwnedByOthers, topicsUsedByOthers } from "./topic-claims.js";

const config = compileConfig({ kafka: "k:9092", clickhouse: "http://c", kafkaCluster: ["eu=e:9092"] }, {});
const example = yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", "stream.yaml"), "utf8")) as Obj;

/** The clickstream example as stream `namespace/name`, created at `createdAt`, with spec changes. */
function stream(key: string, createdAt: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Obj {
  const [namespace, name] = key.split("/");
  return { kind: "EventStream", metadata: { namespace, name, creationTimestamp: createdAt, ...meta }, spec: { ...example.spec, ...spec } } as unknown as Obj;
}
const dlq = (topic: string) => ({ deadLetter: { topic } });

describe("topic claims between EventStreams", () => {
  it("two streams of the same name in two namespaces claim different topics by default", () => {
    const [a, b] = [stream("team-a/page-views", "2026-01-01T00:00:00Z"), stream("team-b/page-views", "2026-01-02T00:00:00Z")];
    expect([...claimsOf(a, config).values()]).toEqual(["team-a.page-views", "team-a.page-views.dlq"]);
    expect(topicsOwnedByOthers(b, [a, b], config)).toEqual(new Map());
  });

  it("when two streams name the same dead-letter topic, the older owns it and the newer is refused, naming the owner", () => {
    const older = stream("team-a/orders", "2026-01-01T00:00:00Z", dlq("shared.dlq"));
    const newer = stream("team-b/orders", "2026-01-02T00:00:00Z", dlq("shared.dlq"));
    expect(topicsOwnedByOthers(older, [older, newer], config)).toEqual(new Map());
    const owners = topicsOwnedByOthers(newer, [newer, older], config);
    expect(owners).toEqual(new Map([["shared.dlq", "team-a/orders"]]));
    expect(ownedElsewhereCondition(owners)).toMatchObject({ type: "TopicReady", status: "False", reason: "TopicOwnedByAnotherStream", message: expect.stringContaining("topic shared.dlq belongs to EventStream team-a/orders") });
  });

  it("a stream's main topic named as another's dead-letter topic is a claim on it too", () => {
    const older = stream("team-a/orders", "2026-01-01T00:00:00Z", dlq("team-b.orders"));
    const newer = stream("team-b/orders", "2026-01-02T00:00:00Z");
    expect(topicsOwnedByOthers(newer, [older, newer], config)).toEqual(new Map([["team-b.orders", "team-a/orders"]]));
  });

  it("created in the same second, the order of namespace/name decides, the same way for both", () => {
    const a = stream("a/s", "2026-01-01T00:00:00Z", dlq("x.dlq"));
    const b = stream("b/s", "2026-01-01T00:00:00Z", dlq("x.dlq"));
    expect(topicsOwnedByOthers(a, [a, b], config).size).toBe(0);
    expect(topicsOwnedByOthers(b, [a, b], config).size).toBe(1);
  });

  it("a stream being deleted owns nothing any more: the next claimant takes the topic over", () => {
    const leaving = stream("team-a/orders", "2026-01-01T00:00:00Z", dlq("shared.dlq"), { deletionTimestamp: "2026-02-01T00:00:00Z" });
    const newer = stream("team-b/orders", "2026-01-02T00:00:00Z", dlq("shared.dlq"));
    expect(topicsOwnedByOthers(newer, [leaving, newer], config)).toEqual(new Map());
  });

  it("the same topic name on two Kafka clusters is two topics", () => {
    const older = stream("team-a/orders", "2026-01-01T00:00:00Z", { ...dlq("shared.dlq"), clusters: { kafka: "eu" } });
    const newer = stream("team-b/orders", "2026-01-02T00:00:00Z", dlq("shared.dlq"));
    expect(topicsOwnedByOthers(newer, [older, newer], config)).toEqual(new Map());
  });

  it("deleting a stream keeps a topic another stream uses: live, refused, or deleted under Retain; not one deleted under Delete", () => {
    const self = stream("team-b/orders", "2026-01-02T00:00:00Z", { ...dlq("shared.dlq"), deletionPolicy: "Delete" }, { deletionTimestamp: "2026-02-01T00:00:00Z" });
    const live = stream("team-a/orders", "2026-01-01T00:00:00Z", dlq("shared.dlq"));
    expect(topicsUsedByOthers(self, [self, live], config)).toEqual(new Map([["shared.dlq", "team-a/orders"]]));
    const retained = stream("team-a/orders", "2026-01-01T00:00:00Z", { ...dlq("shared.dlq"), deletionPolicy: "Retain" }, { deletionTimestamp: "2026-02-01T00:00:00Z" });
    expect(topicsUsedByOthers(self, [self, retained], config).size).toBe(1);
    const deleted = stream("team-a/orders", "2026-01-01T00:00:00Z", { ...dlq("shared.dlq"), deletionPolicy: "Delete" }, { deletionTimestamp: "2026-02-01T00:00:00Z" });
    expect(topicsUsedByOthers(self, [self, deleted], config)).toEqual(new Map());
  });
});
