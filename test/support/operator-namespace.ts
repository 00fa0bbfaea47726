/**
 * A random namespace for an operator test, with the CRDs served, and its cleanup: the
 * Sluice objects' finalizers (with the operator stopped nobody else would remove them),
 * the namespace, its topics (named <namespace>.<stream>) and its ClickHouse database.
 */
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { createClient } from "@clickhouse/client";
import { KINDS } from "../../api/kinds.js";
import { kafkaClient } from "../../runtime/kafka/client.js";
import { repoRoot } from "../../testbed/paths.js";
import { kubeConfig, kubectl } from "./kube.js";
import { randomName, testbedEnv } from "./testbed-env.js";

const GROUP = "sluice.dev";
const VERSION = "v1alpha1";

export type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: any };
export type Live = Doc & { metadata: { generation: number; uid: string; resourceVersion: string; finalizers?: string[] }; status?: any };

/** Applies the CRDs from `crdDir` (default crds/) and waits until they are Established. */
export function applyCrds(crdDir = join(repoRoot, "crds")): void {
  kubectl(["apply", "--server-side", "--force-conflicts", "-f", crdDir]);
  kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);
  // Established is not yet served everywhere: a list right after it can still fail (seen
  // with a freshly started API server). Poll until every kind lists, within a deadline.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      kubectl(["get", KINDS.map((k) => `${k.plural}.${GROUP}`).join(","), "-A", "-o", "name"]);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}

export function testNamespace(prefix: string) {
  const env = testbedEnv();
  const kc = kubeConfig();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = randomName(prefix);
  const database = namespace.replace(/-/g, "_");
  return {
    namespace,
    database,
    apply: (...docs: Doc[]) => kubectl(["apply", "--server-side", "-n", namespace, "-f", "-"], docs.map((d) => JSON.stringify(d)).join("\n")),
    get: (plural: string, name: string) =>
      custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name }).then((o) => o as Live, () => undefined),
    async create(crdDir?: string) {
      applyCrds(crdDir);
      await core.createNamespace({ body: { metadata: { name: namespace } } });
    },
    /** Topics are deleted from `kafkaBrokers` (a test's private cluster needs no cleanup: pass []). */
    async cleanUp(kafkaBrokers: string[] = env.kafkaBrokers) {
      for (const k of KINDS) {
        const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: k.plural })) as { items: Live[] };
        for (const o of list.items) {
          await custom
            .patchNamespacedCustomObject(
              { group: GROUP, version: VERSION, namespace, plural: k.plural, name: o.metadata.name, body: { metadata: { finalizers: null } } },
              k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
            )
            .catch(() => {});
        }
      }
      await core.deleteNamespace({ name: namespace }).catch(() => {});
      if (kafkaBrokers.length > 0) {
        const admin = kafkaClient(kafkaBrokers, "test-cleanup").admin();
        await admin.connect();
        const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
        if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
        await admin.disconnect();
      }
      const clickhouse = createClient({ url: env.clickhouseUrl });
      await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
      await clickhouse.close();
    },
  };
}
