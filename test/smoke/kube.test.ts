import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { kubectlPath, randomName, testbedEnv } from "../support/testbed-env.js";
import { waitFor } from "../../testbed/poll.js";

describe("the testbed's Kubernetes API server", () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(testbedEnv().kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const namespace = randomName("smoke");
  const group = `${randomName("g")}.smoke.sluice.dev`;
  const crdName = `widgets.${group}`;

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => {});
    await ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => {});
  });

  it("creates and reads a ConfigMap", async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "hello" }, data: { greeting: "hi" } } });
    const cm = await core.readNamespacedConfigMap({ namespace, name: "hello" });
    expect(cm.data).toEqual({ greeting: "hi" });
  });

  it("serves a custom resource once its CRD is applied", async () => {
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget" },
          versions: [{
            name: "v1", served: true, storage: true,
            schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer", minimum: 1 } } } } } },
          }],
        },
      },
    });
    await waitFor("CRD Established", async () => {
      const crd = await ext.readCustomResourceDefinition({ name: crdName });
      return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
    });
    const body = { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } };
    await waitFor("custom resource accepted", async () =>
      (await custom.createNamespacedCustomObject({ group, version: "v1", namespace, plural: "widgets", body })) ? true : undefined,
    );
    const got = (await custom.getNamespacedCustomObject({ group, version: "v1", namespace, plural: "widgets", name: "w1" })) as { spec: { size: number } };
    expect(got.spec.size).toBe(3);
    // The schema is enforced by the server, not just stored.
    const bad = { ...body, metadata: { name: "w2" }, spec: { size: 0 } };
    await expect(custom.createNamespacedCustomObject({ group, version: "v1", namespace, plural: "widgets", body: bad })).rejects.toThrow(/spec.size/);
  });

  it("answers the project's kubectl", () => {
    const out = execFileSync(kubectlPath, ["get", "ns", "-o", "name"], { encoding: "utf8", env: { ...process.env } });
    expect(out).toContain(`namespace/${namespace}`);
  });
});
