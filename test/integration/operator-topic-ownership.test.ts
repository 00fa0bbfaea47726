/**
 * Issue 13: deleting one stream could delete another namespace's data. Two EventStreams in
 * two namespaces name the same dead-letter topic; one operator watches both. The second to
 * claim it is refused, naming the owner, and deleting it (under Delete) leaves the owner's
 * topic alone.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { kafkaClient } from "../../runtime/kafka/client.js";
import type { KafkaAdmin } from "../../runtime/kafka/port.js";
import { silentLogger } from "../../runtime/log.js";
import { compileConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator } from "../../operator/main.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { kubeConfig } from "../support/kube.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc, type Live } from "../support/operator-namespace.js";

const env = testbedEnv();
const GROUP = "sluice.dev";
const VERSION = "v1alpha1";
const condition = (o: Live | undefined, type: string) => (o?.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === type);

describe("two namespaces naming the same dead-letter topic", () => {
  const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
  const [a, b] = [testNamespace("own-a"), testNamespace("own-b")];
  // Not under either namespace's prefix, as in the issue: cleaned up here.
  const sharedDlq = `${randomName("shared")}.dlq`;
  let operator: RunningOperator;
  let admin: KafkaAdmin;

  /** The clickstream stream, sized for the one-broker testbed, naming the shared DLQ, deleted with its topics. */
  function stream(): Doc {
    const s = yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", "stream.yaml"), "utf8")) as Doc;
    s.spec.topic = { ...s.spec.topic, partitions: 1, replicationFactor: 1, minInSyncReplicas: 1 };
    s.spec.deadLetter = { topic: sharedDlq };
    s.spec.deletionPolicy = "Delete";
    delete s.spec.ingest;
    return s;
  }
  const topics = async () => new Set(await admin.listTopics());

  beforeAll(async () => {
    await a.create();
    await b.create();
    admin = kafkaClient(env.kafkaBrokers, "topic-ownership-test").admin();
    await admin.connect();
    const config = compileConfig({ kafka: env.kafkaBrokers.join(","), clickhouse: env.clickhouseUrl, namespace: [a.namespace, b.namespace], resync: "30s", workers: 2, backoffBase: "200ms", backoffMax: "5s", workerImage: "sluice:test", leaderElectionNamespace: a.namespace });
    operator = await startOperator({ kc: kubeConfig(), config, log: silentLogger });
  });

  afterAll(async () => {
    await operator?.stop();
    await admin?.deleteTopics({ topics: [sharedDlq] }).catch(() => {});
    await admin?.disconnect();
    await a.cleanUp();
    await b.cleanUp();
  });

  it("the second stream to claim the topic is refused naming the owner, and deleting it keeps the owner's topic", async () => {
    a.apply(stream());
    const owner = await waitFor("the first stream Ready", async () => {
      const o = await a.get("eventstreams", "page-views");
      return condition(o, "Ready")?.status === "True" ? o : undefined;
    }, { timeoutMs: 45_000 });
    expect(await topics()).toContain(sharedDlq);

    b.apply(stream());
    const refused = await waitFor("the second stream's topic condition", async () => condition(await b.get("eventstreams", "page-views"), "TopicReady"), { timeoutMs: 45_000 });
    expect(refused).toMatchObject({ status: "False", reason: "TopicOwnedByAnotherStream" });
    expect(refused.message).toContain(`topic ${sharedDlq} belongs to EventStream ${a.namespace}/page-views`);
    expect(condition(await b.get("eventstreams", "page-views"), "Ready")?.status).toBe("False");
    expect(await topics()).not.toContain(`${b.namespace}.page-views`);

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: b.namespace, plural: "eventstreams", name: "page-views" });
    await waitFor("the second stream gone (finalizer removed)", async () => ((await b.get("eventstreams", "page-views")) ? undefined : true));
    expect(await topics()).toContain(sharedDlq);
    expect(await topics()).toContain(`${a.namespace}.page-views`);
    expect(condition(await a.get("eventstreams", "page-views"), "Ready")?.status).toBe("True");
    expect(owner.metadata.uid).toBe((await a.get("eventstreams", "page-views"))?.metadata.uid);

    // The owner's own deletion under Delete still removes both its topics.
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: a.namespace, plural: "eventstreams", name: "page-views" });
    await waitFor("the owner's topics deleted", async () => {
      const now = await topics();
      return !now.has(sharedDlq) && !now.has(`${a.namespace}.page-views`) ? true : undefined;
    }, { timeoutMs: 45_000 });
  }, 150_000);
});
