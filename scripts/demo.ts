/**
 * `make demo`: Sluice as a user runs it in a cluster, on this machine's testbed node.
 * Starts the testbed (three Kafka brokers, ClickHouse, Kubernetes with a real node, the
 * image built and loaded), `helm install`s charts/sluice, `kubectl apply`s
 * examples/clickstream/, waits for the operator, collector, sink and aggregation pods,
 * sends page views from two shops through the collector's Service (some out of order, a
 * few invalid), and checks ClickHouse against what was accepted: nothing lost, nothing
 * doubled, and the aggregate agreeing with the raw table. Then it tears everything down.
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { runLoad } from "../testbed/load-generator.js";
import { oracle } from "../testbed/oracle.js";
import { binDir, envFile, repoRoot } from "../testbed/paths.js";
import { waitFor } from "../testbed/poll.js";
import { runningTestbed, startTestbed, type TestbedEnv } from "../testbed/testbed.js";

const EVENTS = Number(process.env.DEMO_EVENTS ?? 20_000);
const RATE = Number(process.env.DEMO_RATE ?? 1_000);
const MAX_REPLICAS = 2;
const SYSTEM = "sluice-system";
const NS = "clickstream";
const t0 = Date.now();
const say = (msg: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}`);

async function main(): Promise<void> {
  const { env, stop, owned } = await testbed();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.KUBECONFIG);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const run = (cmd: string, args: string[], input?: string) => {
    const res = spawnSync(join(binDir, cmd), args, { encoding: "utf8", input, env: { ...process.env, KUBECONFIG: env.KUBECONFIG }, timeout: 600_000 });
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${res.stdout}${res.stderr}`);
    return res.stdout;
  };
  try {
    say(`helm install sluice charts/sluice -n ${SYSTEM} -f <testbed values> (image ${env.SLUICE_IMAGE})`);
    run("helm", ["install", "sluice", join(repoRoot, "charts", "sluice"), "-n", SYSTEM, "--create-namespace", "-f", env.SLUICE_HELM_VALUES!, "--wait", "--timeout", "5m"]);
    say(`kubectl apply -n ${NS} -f examples/clickstream/`);
    run("kubectl", ["create", "namespace", NS]);
    const brokers = env.KAFKA_BROKERS.split(",").length;
    // The example as written, except what one small machine cannot hold: its autoscalers
    // would ask for up to 20 collectors and 12 sinks, more than two cores run.
    say(`(this machine: replicas capped at ${MAX_REPLICAS} per component${brokers < 3 ? `, replication lowered to the testbed's ${brokers} broker(s)` : ""})`);
    run("kubectl", ["apply", "-n", NS, "-f", "-"], exampleForThisMachine(brokers));
    const components = { operator: [SYSTEM, "app.kubernetes.io/name=sluice-operator"], collector: [NS, "app.kubernetes.io/name=sluice-collector"], sink: [NS, "app.kubernetes.io/name=sluice-sink"], aggregation: [NS, "app.kubernetes.io/name=sluice-aggregation"] } as const;
    const podStatus = async () => {
      const parts: string[] = [];
      let allReady = true;
      for (const [name, [ns, selector]] of Object.entries(components)) {
        const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items;
        const ready = list.filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
        allReady &&= list.length > 0 && ready === list.length;
        parts.push(`${name} ${ready}/${list.length}`);
      }
      return { line: parts.join(", "), allReady };
    };
    const podLine = async () => (await podStatus()).line;
    let shown = "";
    await waitFor("the operator, collector, sink and aggregation pods Running and Ready", async () => {
      const { line, allReady } = await podStatus();
      if (line !== shown) say(`pods Ready: ${(shown = line)}`);
      return allReady ? true : undefined;
    }, { timeoutMs: 300_000, intervalMs: 1_000 });

    const svc = await core.readNamespacedService({ name: "page-views-collector", namespace: NS });
    const url = `http://${svc.spec!.clusterIP}`;
    const tenants = (yaml.load(readFileSync(join(repoRoot, "examples", "clickstream", "secret.yaml"), "utf8")) as { stringData: Record<string, string> }).stringData;
    say(`sending ${EVENTS} page views at ${RATE}/s from ${Object.keys(tenants).length} shops to ${url} (the collector Service), 1% invalid, out of order by up to 5 s`);
    const sink = () => custom.getNamespacedCustomObject({ group: "sluice.dev", version: "v1alpha1", namespace: NS, plural: "sinks", name: "page-views-raw" }) as Promise<{ status?: { lagMessages?: number } }>;
    let accepted = 0;
    let sending = true;
    const sendStart = Date.now();
    // One progress line every few seconds while sending; never two at once on a slow machine.
    const progress = (async () => {
      while (sending) {
        await new Promise((r) => setTimeout(r, 3_000));
        if (!sending) break;
        const lag = (await sink().catch(() => undefined))?.status?.lagMessages;
        const pods = await podLine().catch(() => "?");
        say(`accepted ${accepted} (${Math.round(accepted / ((Date.now() - sendStart) / 1000))} events/s), sink lag ${lag ?? "?"} messages; pods: ${pods}`);
      }
    })();
    const load = await runLoad({ url, stream: "page-views", tenants, events: EVENTS, perRequest: 100, concurrency: 8, invalidFraction: 0.01, retryFraction: 0.05, ratePerSecond: RATE, onAccepted: (n) => (accepted = n) }).finally(() => (sending = false));
    await progress;
    const sent = Date.now();
    const answers = [...load.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${n}x ${status}`).join(", ");
    say(`sent in ${((sent - sendStart) / 1000).toFixed(1)} s: ${load.accepted.size} accepted, ${load.rejectedEvents} rejected as invalid, ${load.resent} requests sent twice with the same event ids; answers: ${answers}`);

    const table = "clickstream.page_views";
    await waitFor(`all accepted events queryable in ${table}`, async () => ((await oracle(env.CLICKHOUSE_URL, table, load.accepted)).lost === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 500 });
    say(`all accepted events queryable ${((Date.now() - sent) / 1000).toFixed(1)} s after the last accept`);
    const verdict = await oracle(env.CLICKHOUSE_URL, table, load.accepted);

    const ch = createClient({ url: env.CLICKHOUSE_URL });
    const q = async <T>(query: string) => (await (await ch.query({ query, format: "JSONEachRow" })).json()) as T[];
    // The aggregate fires early every 5 s: wait until it has caught up with the raw table.
    const perTenant = async () => {
      const raw = await q<{ tenant_id: string; n: string }>(`SELECT tenant_id, count() AS n FROM ${table} FINAL GROUP BY tenant_id ORDER BY tenant_id`);
      const agg = await q<{ tenant_id: string; n: string }>(`SELECT tenant_id, sum(views) AS n FROM clickstream.active_users_per_minute FINAL WHERE is_deleted = 0 GROUP BY tenant_id ORDER BY tenant_id`);
      return { raw, agg, same: JSON.stringify(raw) === JSON.stringify(agg) };
    };
    const counts = await waitFor("the aggregate to agree with the raw table", async () => {
      const c = await perTenant();
      return c.same ? c : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1_000 }).catch(async () => perTenant());
    console.log("\nactive users and views per minute per shop (the Aggregation's table, latest minutes):");
    console.table(await q(`SELECT tenant_id AS shop, window_start AS minute, active_users, views FROM clickstream.active_users_per_minute FINAL WHERE is_deleted = 0 ORDER BY window_start DESC, tenant_id LIMIT 6`));
    console.log("views per shop: raw table vs aggregate:");
    console.table(counts.raw.map((r) => ({ shop: r.tenant_id, raw: Number(r.n), aggregate: Number(counts.agg.find((a) => a.tenant_id === r.tenant_id)?.n ?? 0) })));
    await ch.close();
    const ok = verdict.lost === 0 && verdict.duplicates === 0 && counts.same;
    console.log(`${ok ? "OK" : "FAILED"}: accepted ${verdict.accepted}, lost ${verdict.lost}, duplicates ${verdict.duplicates}, rejected ${load.rejectedEvents} invalid; aggregate ${counts.same ? "agrees with" : "DIFFERS from"} the raw table; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
    if (!ok) process.exitCode = 1;
  } finally {
    try {
      if (owned) {
        // Stopping the testbed takes every pod, process and host change with it.
        say("tearing down: the testbed with its node, pods and data");
      } else {
        say(`removing the pipeline (namespace ${NS}) and the release from the running testbed`);
        run("kubectl", ["delete", "namespace", NS, "--timeout=180s", "--ignore-not-found"]);
        run("helm", ["uninstall", "sluice", "-n", SYSTEM, "--wait", "--timeout", "2m"]);
        run("kubectl", ["delete", "namespace", SYSTEM, "--timeout=120s", "--ignore-not-found"]);
      }
    } finally {
      await stop();
    }
    say("done");
  }
}

/** A testbed with a node: the running one (make testbed-up), or a fresh one with three brokers. */
async function testbed(): Promise<{ env: TestbedEnv; stop: () => Promise<void>; owned: boolean }> {
  const running = runningTestbed();
  if (running) {
    if (running.SLUICE_TESTBED_NODE !== "1") throw new Error("the running testbed has no node: `make testbed-down`, then `make demo` again");
    say(`reusing the running testbed (${envFile})`);
    return { env: running, stop: async () => {}, owned: false };
  }
  say("starting the testbed: 3 Kafka brokers, ClickHouse, Kubernetes with a real node; building the image (first time: minutes)");
  const tb = await startTestbed({ node: true, kafkaBrokers: 3 });
  say(`testbed up; logs in ${tb.env.SLUICE_TESTBED_LOGS}`);
  return { env: tb.env, stop: tb.stop, owned: true };
}

function exampleForThisMachine(brokers: number): string {
  const dir = join(repoRoot, "examples", "clickstream");
  return ["secret.yaml", "stream.yaml", "sink.yaml", "aggregation.yaml"]
    .flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), "utf8")) as Record<string, any>[])
    .map((o) => {
      const cap = (scaling: { minReplicas?: number; maxReplicas?: number }) => {
        scaling.maxReplicas = Math.min(scaling.maxReplicas ?? MAX_REPLICAS, MAX_REPLICAS);
        scaling.minReplicas = Math.min(scaling.minReplicas ?? 1, scaling.maxReplicas);
      };
      if (o.kind === "EventStream") {
        if (brokers < 3) Object.assign(o.spec.topic, { replicationFactor: brokers, minInSyncReplicas: Math.min(2, brokers) });
        cap(o.spec.ingest.scaling);
      }
      if (o.kind === "Sink" || o.kind === "Aggregation") cap(o.spec.scaling);
      return JSON.stringify(o);
    })
    .join("\n");
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
