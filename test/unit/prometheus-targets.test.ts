/**
 * The testbed's pod discovery for Prometheus (testbed/prometheus-targets.ts) as a pure
 * function of pods, and the config it is read with, checked by promtool.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type * as k8s from "@kubernetes/client-node";
import { prometheusConfig } from "../../testbed/prometheus.js";
import { podTargets } from "../../testbed/prometheus-targets.js";
import { SCRAPE_ANNOTATIONS } from "../../operator/workload/desired.js";
import { workerLabels } from "../../operator/owner.js";

const hasPromtool = spawnSync("promtool", ["--version"]).error === undefined;
const tmp = mkdtempSync(join(tmpdir(), "sluice-prometheus-targets-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pod = (name: string, o: { annotations?: Record<string, string>; labels?: Record<string, string>; phase?: string; ip?: string; deleting?: boolean; ports?: number[] } = {}): k8s.V1Pod => ({
  metadata: { name, namespace: "shop", annotations: o.annotations, labels: o.labels, ...(o.deleting && { deletionTimestamp: new Date() }) },
  spec: { containers: [{ name: "c", ports: (o.ports ?? []).map((containerPort) => ({ containerPort })) }] },
  status: { phase: o.phase ?? "Running", podIP: o.ip ?? "198.18.16.9" },
});

describe("podTargets", () => {
  it("makes a worker pod, as the operator annotates it, a target with job = its name", () => {
    const [t, ...more] = podTargets([pod("raw-sink-1", { annotations: SCRAPE_ANNOTATIONS, labels: workerLabels("sink", "raw") })]);
    expect(more).toEqual([]);
    expect(t).toEqual({
      targets: ["198.18.16.9:8080"],
      labels: { __metrics_path__: "/metrics", job: "sluice-sink", namespace: "shop", pod: "raw-sink-1", app_kubernetes_io_instance: "raw", app_kubernetes_io_component: "sink" },
    });
  });

  it("leaves out pods not annotated, not running, without an IP, or being deleted", () => {
    const on = { "prometheus.io/scrape": "true", "prometheus.io/port": "9090" };
    expect(podTargets([
      pod("plain"),
      pod("off", { annotations: { ...on, "prometheus.io/scrape": "false" } }),
      pod("pending", { annotations: on, phase: "Pending" }),
      pod("no-ip", { annotations: on, ip: "" }),
      pod("deleting", { annotations: on, deleting: true }),
    ])).toEqual([]);
  });

  it("takes the first container port without a port annotation, /metrics without a path, and sorts by pod", () => {
    const groups = podTargets([
      pod("b", { annotations: { "prometheus.io/scrape": "true" }, ports: [9100] }),
      pod("a", { annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "7000", "prometheus.io/path": "/m" } }),
    ]);
    expect(groups.map((g) => [g.labels.pod, g.targets[0], g.labels.__metrics_path__, g.labels.job])).toEqual([
      ["a", "198.18.16.9:7000", "/m", "kubernetes-pods"],
      ["b", "198.18.16.9:9100", "/metrics", "kubernetes-pods"],
    ]);
  });
});

describe.skipIf(!hasPromtool)("the testbed's Prometheus config", () => {
  it("passes promtool check config", () => {
    const file = join(tmp, "prometheus.yml");
    writeFileSync(file, prometheusConfig(join(tmp, "targets")));
    const r = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
