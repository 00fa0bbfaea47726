import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { INVALID_CASES, VALID_BASES } from "../fixtures/invalid-manifests.js";
import { validateDocument } from "../../api/validate.js";
import { KINDS } from "../../api/kinds.js";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { apiErrorMessage, kubeConfig, kubectl } from "../support/kube.js";
import { randomName } from "../support/testbed-env.js";

const GROUP = "sluice.dev";
const VERSION = "v1alpha1";
const plural = (kind: string) => KINDS.find((k) => k.kind === kind)!.plural;

describe("the Sluice CRDs on a real API server", () => {
  const kc = kubeConfig();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = randomName("crds");

  beforeAll(async () => {
    kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "crds")]);
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Established can precede discovery; wait until a list of each kind answers.
    await waitFor("the sluice kinds to be served", async () => {
      for (const k of KINDS) await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: k.plural });
      return true;
    });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it("accepts every example, and kubectl get sluice lists them with columns", () => {
    for (const example of ["clickstream", "ad-clicks", "delivery", "audit-log"]) {
      kubectl(["apply", "-n", namespace, "-f", join(repoRoot, "examples", example)]);
    }
    const table = kubectl(["get", "sluice", "-n", namespace]);
    // REASON without -o wide: a READY False should say why where it is seen.
    expect(table).toMatch(/NAME\s+READY\s+TOPIC\s+PARTITIONS\s+SCHEMA\s+REASON\s+AGE/);
    expect(table).toMatch(/NAME\s+READY\s+SOURCE\s+WINDOW\s+REPLICAS\s+LAG\s+REASON\s+AGE/);
    expect(table).toMatch(/NAME\s+READY\s+STREAM\s+TABLE\s+REPLICAS\s+LAG\s+REASON\s+AGE/);
    expect(table).toMatch(/sink.sluice.dev\/page-views-raw\s+page-views\s+page_views/);
  });

  it("shows the partitions Kafka has (status) and the Ready reason, not the spec's partitions", async () => {
    const name = randomName("refused");
    const body = VALID_BASES.stream();
    body.metadata = { name };
    body.spec.topic.partitions = 4;
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "eventstreams", body });
    // What the operator writes when the topic already has more partitions than the spec asks for.
    const ready = { type: "Ready", status: "False", reason: "PartitionShrinkRefused", message: "topic has 8 partitions", lastTransitionTime: new Date().toISOString() };
    await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: "eventstreams", name, body: { status: { topic: `${namespace}.${name}`, partitions: 8, schemaVersion: 1, conditions: [ready] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const table = kubectl(["get", "-n", namespace, `eventstream/${name}`]);
    expect(table).toMatch(new RegExp(`^${name}\\s+False\\s+${namespace}\\.${name}\\s+8\\s+1\\s+PartitionShrinkRefused\\s`, "m"));
  });

  it("explains its fields through kubectl explain", () => {
    const out = kubectl(["explain", "eventstream.spec.topic"]);
    expect(out).toContain("Partition count: the unit of parallelism. May only grow.");
    expect(kubectl(["explain", "aggregation.spec.window"])).toContain("The event-time window.");
  });

  it("fills defaults on the server the same way the offline validator does", async () => {
    const body = { ...VALID_BASES.sink(), metadata: { name: randomName("defaults") } };
    const created = (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "sinks", body })) as { spec: unknown };
    const offline = validateDocument(body);
    expect(offline.status).toBe("valid");
    expect(created.spec).toEqual((offline as { value: { spec: unknown } }).value.spec);
  });

  describe.each(INVALID_CASES)("rejects $name", (c) => {
    it(`naming ${c.path}, as sluice validate does`, async () => {
      const kind = c.manifest.kind as string;
      const attempt = custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace, plural: plural(kind), body: c.manifest, dryRun: "All", fieldValidation: "Strict",
      });
      const message = await attempt.then(() => "accepted", apiErrorMessage);
      expect(message).toContain(c.path);
      expect(message).toMatch(c.serverMessage ?? c.message);
      // The offline validator must reject the same document at the same field.
      const offline = validateDocument(c.manifest);
      expect(offline.status === "invalid" ? offline.issues.map((i) => i.path) : []).toContain(c.path);
    });
  });

  it("refuses to shrink a topic's partitions (a transition rule)", async () => {
    const name = randomName("shrink");
    const body = { ...VALID_BASES.stream(), metadata: { name } };
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "eventstreams", body });
    const patch = (partitions: number) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: "eventstreams", name, body: { spec: { topic: { partitions } } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    await expect(patch(2).then(() => "accepted", apiErrorMessage)).resolves.toMatch(/spec.topic.partitions.*partitions may only grow/);
    await expect(patch(6).then(() => "accepted")).resolves.toBe("accepted");
  });

  it("lets kubectl scale a Sink through the scale subresource", () => {
    const name = randomName("scaled");
    kubectl(["apply", "-n", namespace, "-f", "-"], JSON.stringify({ ...VALID_BASES.sink(), metadata: { name } }));
    kubectl(["scale", "-n", namespace, `sink/${name}`, "--replicas=4"]);
    expect(kubectl(["get", "-n", namespace, `sink/${name}`, "-o", "jsonpath={.spec.scaling.replicas}"])).toBe("4");
  });
});
