/**
 * Two real `sluice operator` processes against the testbed, as two replicas of the chart's
 * Deployment run: only the Lease holder reconciles; SIGKILL the holder in the middle of
 * reconciling, and the standby takes the Lease once it expires and converges with exactly
 * one of every object.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { repoRoot } from "../../testbed/paths.js";
import { GiveUp, waitFor } from "../../testbed/poll.js";
import { kubeConfig } from "../support/kube.js";
import { testbedEnv } from "../support/testbed-env.js";
import { testNamespace, type Doc, type Live } from "../support/operator-namespace.js";

const env = testbedEnv();
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

interface OperatorProcess {
  child: ChildProcess;
  metricsPort: number;
  exited: Promise<number | null>;
  log: () => string;
}

describe("two sluice operator processes", () => {
  const ns = testNamespace("op-procs");
  const { namespace } = ns;
  const streams = ["s-a", "s-b", "s-c"];
  const procs: OperatorProcess[] = [];

  async function startProcess(): Promise<OperatorProcess> {
    // Port 0, read back from the log: a port picked beforehand can be taken by another
    // process's outbound connection before the operator binds it (a CI run lost that race).
    const child = spawn(join(repoRoot, "bin", "sluice.js"), ["operator", "-n", namespace, "--leader-election-namespace", namespace, "--metrics-port", "0", "--worker-image", "sluice:test", "--resync", "30s"], {
      env: { ...process.env, KUBECONFIG: env.kubeconfig, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl },
      stdio: ["ignore", "ignore", "pipe"],
    });
    // Drained: a full pipe would block the child's synchronous log writes.
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    procs.push({ child, metricsPort: 0, exited, log: () => log });
    const metricsPort = await waitFor(`operator ${child.pid}'s metrics port`, async () => {
      if (child.exitCode !== null) throw new GiveUp(`operator exited with ${child.exitCode}: ${log.slice(-2_000)}`);
      const m = /"msg":"serving \/metrics[^\n]*"port":(\d+)/.exec(log);
      return m ? Number(m[1]) : undefined;
    }, { timeoutMs: 60_000 });
    const p = procs[procs.length - 1]!;
    p.metricsPort = metricsPort;
    return p;
  }
  const reconciles = async (p: OperatorProcess) => {
    const text = await (await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`)).text();
    return [...text.matchAll(/^sluice_operator_reconcile_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const holder = async () => (await coordination.readNamespacedLease({ namespace, name: "sluice-operator" }).catch(() => undefined))?.spec?.holderIdentity;
  const pidOf = (identity: string | undefined) => Number(identity?.split("-").pop());
  const get = (name: string) => ns.get("eventstreams", name);
  const ready = (o: Live | undefined) => o?.status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status === "True" && o.status.observedGeneration === o.metadata.generation;
  function stream(name: string): Doc {
    const s = yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", "stream.yaml"), "utf8")) as Doc;
    s.metadata.name = name;
    s.spec.topic = { ...s.spec.topic, partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 };
    delete s.spec.deadLetter;
    return s;
  }

  beforeAll(() => ns.create());
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await ns.cleanUp();
  });

  it("only the Lease holder acts; SIGKILLed mid-reconcile, the standby takes over and converges with one of every object", async () => {
    const [a, b] = [await startProcess(), await startProcess()];
    const leaderPid = pidOf(await waitFor("a Lease holder", holder, { timeoutMs: 30_000 }));
    const [leader, standby] = leaderPid === a.child.pid ? [a, b] : [b, a];
    expect(leader.child.pid).toBe(leaderPid);

    ns.apply(stream("s-a"));
    await waitFor("s-a Ready", async () => (ready(await get("s-a")) ? true : undefined), { timeoutMs: 60_000 });
    await waitFor("the standby's metrics", async () => ((await reconciles(standby).catch(() => undefined)) !== undefined ? true : undefined));
    expect(await reconciles(leader)).toBeGreaterThan(0);
    expect(await reconciles(standby)).toBe(0);

    // Kill the holder as soon as it has been handed two new streams (mid-reconcile, or
    // before it: either way the standby must finish the job alone).
    const before = await reconciles(leader);
    ns.apply(stream("s-b"), stream("s-c"));
    await waitFor("the leader to start on them", async () => ((await reconciles(leader)) > before ? true : undefined), { timeoutMs: 20_000, intervalMs: 10 });
    leader.child.kill("SIGKILL");
    expect(await leader.exited).toBeNull();

    await waitFor("the standby to hold the Lease", async () => (pidOf(await holder()) === standby.child.pid ? true : undefined), { timeoutMs: 40_000 });
    for (const s of streams) await waitFor(`${s} Ready`, async () => (ready(await get(s)) ? true : undefined), { timeoutMs: 60_000 });
    // The streams may have been Ready before the kill (the leader can finish first): that the
    // standby acts is shown by its own reconciles, which start once it leads.
    await waitFor("the standby to reconcile", async () => ((await reconciles(standby)) > 0 ? true : undefined), { timeoutMs: 30_000 });

    const managed = "app.kubernetes.io/managed-by=sluice-operator";
    const names = (items: { metadata?: { name?: string } }[]) => items.map((i) => i.metadata!.name!).sort();
    expect(names((await apps.listNamespacedDeployment({ namespace, labelSelector: managed })).items)).toEqual(streams.map((s) => `${s}-collector`));
    expect(names((await core.listNamespacedService({ namespace, labelSelector: managed })).items)).toEqual(streams.map((s) => `${s}-collector`));
    expect(names((await core.listNamespacedConfigMap({ namespace, labelSelector: managed })).items)).toEqual(streams.flatMap((s) => [`${s}-collector-config`, `${s}-schema-v1`]).sort());
    expect(standby.child.exitCode).toBeNull();
  }, 240_000);
});
