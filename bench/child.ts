/**
 * The orchestrator side of the RPC in children/serve.ts: starts a benchmark process
 * (TypeScript through tsx) and calls its methods, each with a deadline.
 */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { ProcessStats } from "./children/serve.js";
import { DEFAULT_MEMORY_LIMIT } from "../operator/workload/desired.js";
import { workerMemoryEnv } from "../operator/workload/memory-env.js";
import { memoryBytes } from "../operator/workload/memory-quantity.js";

export interface Child {
  name: string;
  pid: number;
  call<T>(method: string, args?: unknown, timeoutMs?: number): Promise<T>;
  stats(): Promise<ProcessStats>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let profiled = 0;

/** Kills every child still running: for the run's hard deadline and for errors. */
export function killAllChildren(): void {
  for (const c of live) c.kill("SIGKILL");
}

/** Runs a bench entry point: exit 0 when it finishes, else kill every child, print the error and exit 1. */
export function runBenchMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      killAllChildren();
      console.error(err instanceof Error ? err.stack ?? err.message : err);
      process.exit(1);
    },
  );
}

/** `role` names the process's CPU profile (make bench-profile); the script name by default. */
export async function startChild(script: "worker" | "load" | "bare" | "aggregate" | "chdb-engine", args: Record<string, string> = {}, role: string = script, env: Record<string, string> = {}): Promise<Child> {
  // BENCH_PROFILE_DIR: every bench process writes a V8 CPU profile there when it exits
  // (make bench-profile); the figures of such a run carry the profiler's cost.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${String(profiled++).padStart(2, "0")}-${role}.cpuprofile`] : [];
  const proc = fork(join(import.meta.dirname, "children", `${script}.ts`), [JSON.stringify(args)], {
    execArgv: ["--import", "tsx", ...profile, ...(process.env.BENCH_TRACE_GC ? ["--trace-gc"] : [])],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // kafkajs's one-time notice about its v2 partitioner (the bare kafkajs producer
    // baseline) is noise in a report.
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: "1", ...env },
  });
  live.add(proc);
  proc.on("exit", () => live.delete(proc));
  let next = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const exited = new Promise<never>((_, reject) => proc.on("exit", (code) => reject(new Error(`bench ${script} process exited (${code})`))));
  exited.catch(() => {});
  proc.on("exit", (code) => {
    for (const p of pending.values()) p.reject(new Error(`bench ${script} process exited (${code}) during a call`));
    pending.clear();
  });
  await Promise.race([new Promise<void>((resolve) => proc.once("message", () => resolve())), exited]);
  proc.on("message", (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id!);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`bench ${script}: ${msg.error}`));
  });
  const call = <T>(method: string, callArgs: unknown = {}, timeoutMs = 120_000): Promise<T> => {
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`bench ${script}: ${method} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = <V>(f: (v: V) => void) => (v: V) => {
        clearTimeout(timer);
        f(v);
      };
      pending.set(id, { resolve: done(resolve), reject: done(reject) });
      proc.send({ id, method, args: callArgs });
    });
  };
  return {
    name: script,
    pid: proc.pid!,
    call,
    stats: () => call<ProcessStats>("stats", {}, 10_000),
    stop: async () => {
      if (proc.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      await call("stop", {}, 30_000).catch(() => {});
      proc.disconnect();
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** The pod memory limit the benchmarks' workers run as: BENCH_WORKER_MEMORY_MIB, else the operator's default. */
export function workerMemoryMiB(): number {
  return Number(process.env.BENCH_WORKER_MEMORY_MIB ?? memoryBytes(DEFAULT_MEMORY_LIMIT)! / 2 ** 20);
}

/**
 * The memory environment the operator gives a worker pod (heap limit, record budget, malloc
 * arenas), for the pod memory limit BENCH_WORKER_MEMORY_MIB (the operator's default, 1 GiB):
 * passed to startChild, a process runs as a deployed worker would.
 */
export function deployedMemoryEnv(): Record<string, string> {
  const mib = workerMemoryMiB();
  if (!(mib >= 128)) throw new Error(`BENCH_WORKER_MEMORY_MIB=${process.env.BENCH_WORKER_MEMORY_MIB}: expected a pod memory limit in MiB, at least 128`);
  return Object.fromEntries(workerMemoryEnv(mib * 2 ** 20).map((e) => [e.name, e.value]));
}
