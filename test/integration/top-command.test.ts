/**
 * `sluice top` against a real `sluice run` (real Kafka and ClickHouse) taking a steady
 * trickle of events: live in a real terminal (tmux, on a private socket) until the screen
 * shows the pipeline's rows moving and `q` ends it with exit 0; as one JSON snapshot
 * when stdout is a pipe; and reading the same pipeline's resources from the testbed's
 * API server (no operator: the test writes their status) for the replicas.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { startContinuousLoad, type RunningLoad } from "../support/continuous-load.js";
import { kubectl } from "../support/kube.js";
import { applyCrds } from "../support/operator-namespace.js";
import { randomName, testbedEnv } from "../support/testbed-env.js";

const sluice = join(repoRoot, "bin", "sluice.js");
const clickstream = join(repoRoot, "examples", "clickstream");
// A spawned CLI compiles its sources through tsx and connects to Kafka: seconds on a busy 2-core machine.
const SPAWN_BUDGET_MS = 60_000;

describe("sluice top", () => {
  const env = testbedEnv();
  const namespace = randomName("top");
  const childEnv = { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(","), CLICKHOUSE_URL: env.clickhouseUrl };
  let run: ReturnType<typeof spawn> | undefined;
  let exited: Promise<number | null> | undefined;
  let log = "";
  let metricsUrl = "";
  let load: RunningLoad | undefined;

  beforeAll(async () => {
    run = spawn(sluice, ["run", "-f", clickstream, "--port", "0", "-n", namespace], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    // Drain the log: a full pipe blocks the child's (synchronous) writes to stderr.
    run.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-50_000)));
    exited = new Promise((r) => run!.once("exit", r));
    metricsUrl = await new Promise<string>((ok, fail) => {
      createInterface({ input: run!.stdout! }).on("line", (line) => {
        const m = /^metrics: (\S+)/.exec(line);
        if (m) ok(m[1]!);
      });
      void exited!.then((code) => fail(new Error(`sluice run exited early with ${code}:\n${log}`)));
    });
    // A steady trickle, so every refresh sees counters move: about 50 events/s.
    load = startContinuousLoad({ url: metricsUrl.replace(/\/metrics$/, ""), stream: "page-views", tenants: { "shop-a": "demo-key-shop-a" }, clients: 1, eventsPerRequest: 5, pauseMs: 100 });
    const joined = (l: string) => ['"msg":"partitions assigned","sink"', '"msg":"partitions assigned","aggregation"'].every((line) => l.includes(line));
    await waitFor("the run's consumers assigned", async () => (joined(log) ? true : undefined), { timeoutMs: 90_000 });
  }, 120_000);

  afterAll(async () => {
    try {
      kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
    } catch {
      // Only there when the cluster test ran.
    }
    const report = await load?.stop();
    run?.kill("SIGTERM");
    const code = await exited;
    expect(code, `sluice run ended by ${run?.signalCode ?? `exit ${code}`}:\n${log.slice(-3_000)}`).toBe(0);
    expect(report?.accepted.size).toBeGreaterThan(0);
  }, 60_000);

  it("in a terminal, redraws the stream's and each pipeline's rates, lag and freshness in place, and q quits with exit 0", async () => {
    const socket = randomName("sluice-top");
    const dir = mkdtempSync(join(tmpdir(), "sluice-top-"));
    // The pane stays after its command ends, so the screen it leaves can be read.
    writeFileSync(join(dir, "tmux.conf"), "set -g remain-on-exit on\n");
    const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, "-f", join(dir, "tmux.conf"), ...args], { encoding: "utf8", env: childEnv });
    // The exit status goes to a file: tmux 3.3 sometimes leaves a pane's ended process
    // unreaped (a zombie, pane_dead_status empty) when its server was started from a test
    // worker, while the shell around the command always collects it.
    const exitFile = join(dir, "exit-code");
    const command = `${join(repoRoot, "node_modules", ".bin", "tsx")} cli/main.ts top -f ${clickstream} -n ${namespace} --metrics ${metricsUrl} --interval 1s; echo $? > ${exitFile}`;
    try {
      tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "40", "-c", repoRoot, command);
      let screen = "";
      const rows = await waitFor(
        "a screen with the stream and both pipelines moving",
        async () => {
          screen = tmux("capture-pane", "-p", "-t", "top");
          if (tmux("display", "-p", "-t", "top", "#{pane_dead}").trim() === "1") throw new Error(`sluice top ended:\n${screen}`);
          const r = parseScreen(screen);
          const moving = r.streamIn > 0 && r.sink.written > 0 && r.sink.lag > 0 && r.sink.fresh !== "-" && r.agg.written > 0;
          return moving ? r : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nlast screen:\n${screen}`);
      });
      mkdirSync(join(repoRoot, ".exp"), { recursive: true });
      writeFileSync(join(repoRoot, ".exp", "top-screen.txt"), screen.trimEnd() + "\n");
      expect(screen).toMatch(new RegExp(`^sluice top  -f \\S+  namespace ${namespace}  every 1s  \\d\\d:\\d\\d:\\d\\d UTC  rates over \\d+\\.\\d s  \\(q quits\\)`));
      expect(screen).toMatch(/STREAM \/ PIPELINE\s+IN\/s\s+WRITTEN\/s\s+LAG\s+LAG\(s\)\s+FRESH p99\s+DLQ\/s\s+REPLICAS\s+WM LAG/);
      expect(rows.sink.fresh).toMatch(/^>?\d+(\.\d+)?s$/);
      // No poison in the trickle, and replicas need a cluster.
      expect(rows.sink.dlq).toBe("0.0");
      expect(rows.sink.replicas).toBe("-");
      tmux("send-keys", "-t", "top", "q");
      const status = await waitFor("sluice top to exit after q", async () => {
        const text = existsSync(exitFile) ? readFileSync(exitFile, "utf8").trim() : "";
        return text === "" ? undefined : Number(text);
      }, { timeoutMs: 20_000 });
      expect(status).toBe(0);
      // The alternate screen is left: the pane shows the shell's (empty) screen again, not the table.
      expect(tmux("capture-pane", "-p", "-t", "top")).not.toContain("STREAM / PIPELINE");
    } finally {
      try {
        tmux("kill-server");
      } catch {
        // Already gone.
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);

  it("piped, prints one JSON snapshot with the rates over one interval and exits 0", async () => {
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(sluice, ["top", "-f", clickstream, "-n", namespace, "--metrics", metricsUrl, "--interval", "1s", "-o", "json"], { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: childEnv }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
      });
    });
    expect(out.code, out.stderr).toBe(0);
    const snap = JSON.parse(out.stdout);
    expect(snap.notes).toEqual([]);
    expect(snap.windowSeconds).toBeGreaterThan(0.9);
    const [stream] = snap.streams;
    expect(stream).toMatchObject({ name: "page-views", topic: `${namespace}.page-views`, rateSource: "metrics" });
    expect(stream.ratePerSecond).toBeGreaterThan(0);
    expect(stream.pipelines.map((p: { kind: string; name: string }) => `${p.kind}/${p.name}`)).toEqual(["Sink/page-views-raw", "Aggregation/active-users-per-minute"]);
    for (const p of stream.pipelines) {
      expect(p.error).toBeUndefined();
      expect(p.lagMessages).toBeGreaterThanOrEqual(0);
      expect(p.replicas).toBeNull();
    }
  }, SPAWN_BUDGET_MS + 15_000);

  it("against a cluster, reads the namespace's Sinks and Aggregations and shows their replicas from status", async () => {
    applyCrds();
    kubectl(["create", "namespace", namespace]);
    kubectl(["apply", "-n", namespace, "-f", clickstream]);
    // As the operator's autoscaler would write it: 2 running, 3 asked for.
    const status = { status: { replicas: 2, autoscaling: { currentReplicas: 2, desiredReplicas: 3, reason: "BacklogAboveTarget", message: "set by the test" } } };
    kubectl(["patch", "sink", "page-views-raw", "-n", namespace, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(sluice, ["top", "--kubeconfig", env.kubeconfig, "-n", namespace, "--metrics", metricsUrl, "--interval", "1s", "-o", "json"], { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: childEnv }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
      });
    });
    expect(out.code, out.stderr).toBe(0);
    const [stream] = JSON.parse(out.stdout).streams;
    expect(stream).toMatchObject({ name: "page-views", topic: `${namespace}.page-views`, rateSource: "metrics" });
    expect(stream.ratePerSecond).toBeGreaterThan(0);
    const byName = new Map(stream.pipelines.map((p: { name: string }) => [p.name, p]));
    expect(byName.get("page-views-raw")).toMatchObject({ kind: "Sink", replicas: { current: 2, desired: 3 } });
    expect(byName.get("active-users-per-minute")).toMatchObject({ kind: "Aggregation", replicas: { current: null, desired: null } });
    for (const p of stream.pipelines) expect(p.error).toBeUndefined();
  }, SPAWN_BUDGET_MS + 30_000);

  it("without manifests, says what to pass and exits 2; with an unreachable metrics URL, a snapshot still comes, from Kafka, with exit 1", async () => {
    // No kubeconfig either: neither manifests nor a cluster to read.
    const noCluster: NodeJS.ProcessEnv = { ...childEnv };
    delete noCluster.KUBECONFIG;
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS, env: noCluster }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }));
      });
    const usage = await cli(["top"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error: no pipelines to watch\n  hint: pass -f <manifest dir> (what `sluice run -f` was given) and -n <namespace>, or --kubeconfig <file>");
    // Port 9 (discard) on loopback: nothing listens there.
    const noMetrics = await cli(["top", "-f", clickstream, "-n", namespace, "--metrics", "127.0.0.1:9", "--interval", "1s", "--once", "--no-seconds"]);
    expect(noMetrics.code, noMetrics.stderr).toBe(1);
    expect(noMetrics.stdout).toContain("metrics http://127.0.0.1:9/metrics: ");
    expect(noMetrics.stdout).toMatch(new RegExp(`page-views \\(${namespace}\\.page-views\\)\\s+\\d`));
  }, 2 * SPAWN_BUDGET_MS + 15_000);
});

interface ScreenRow {
  written: number;
  lag: number;
  fresh: string;
  dlq: string;
  replicas: string;
}

/** The numbers of the stream's line and of each pipeline's, by column; NaN where a cell is "-". */
function parseScreen(screen: string): { streamIn: number; sink: ScreenRow; agg: ScreenRow } {
  const lines = screen.split("\n");
  const num = (cell: string | undefined) => (cell === undefined ? Number.NaN : cell.endsWith("k") ? Number(cell.slice(0, -1)) * 1000 : Number(cell));
  const streamLine = lines.find((l) => /^page-views \(/.test(l));
  const row = (prefix: string): ScreenRow => {
    const cells = lines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim().split(/\s+/) ?? [];
    return { written: num(cells[0]), lag: num(cells[1]), fresh: cells[3] ?? "", dlq: cells[4] ?? "", replicas: cells[5] ?? "" };
  };
  return { streamIn: num(streamLine?.split(/\s+/)[2]), sink: row("  sink page-views-raw"), agg: row("  agg active-users-per-minute") };
}
