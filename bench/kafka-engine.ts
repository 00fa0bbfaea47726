/**
 * ClickHouse draining a topic by itself, the sink's anchor: a Kafka engine table read by a
 * materialized view into a MergeTree table, run by chdb (ClickHouse 26.x in-process) in its
 * own bench process (children/chdb-engine.ts). The testbed's server (18.16) is not used: its
 * bundled librdkafka consumes nothing from this broker. Since ClickHouse runs inside that
 * process, its CPU time (user + system) is all of ClickHouse's work for the drain; the
 * Sluice sink's comparable cost is its own process plus the ClickHouse server it inserts
 * into (clickHouseServerCpu). A chdb that cannot load or consumes nothing is reported, not
 * failed.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { startChild } from "./child.js";
import type { BenchContext, Drain } from "./context.js";

export type EngineDrain =
  | { available: true; engine: string; settings: Record<string, number>; drain: Drain & { cpuMs: number } }
  | { available: false; reason: string };

/** With no row at all after this long, the engine is not consuming (e.g. cannot talk to this broker). */
const STALL_MS = 30_000;

/** `settings` override the Kafka engine settings chosen in children/chdb-engine.ts (ENGINE_SETTINGS). */
export async function kafkaEngineDrain(ctx: BenchContext, topic: string, group: string, expected: number, settings: Record<string, number> = {}): Promise<EngineDrain> {
  let child;
  try {
    // bench/child.ts's list of scripts does not name this one; the path is all it uses.
    child = await startChild("chdb-engine", { kafkaBrokers: ctx.kafkaBrokers }, "chdb-engine");
  } catch (err) {
    return { available: false, reason: `the chdb process did not start: ${firstLine(err)}` };
  }
  try {
    let engine: string;
    try {
      engine = `chdb ${(await child.call<{ version: string }>("open", {}, 60_000)).version}`;
    } catch (err) {
      return { available: false, reason: `chdb did not load: ${firstLine(err)}` };
    }
    let used: Record<string, number>;
    try {
      ({ settings: used } = await child.call<{ settings: Record<string, number> }>("prepare", { topic, group, settings }, 60_000));
    } catch (err) {
      return { available: false, reason: `CREATE TABLE ... ENGINE = Kafka failed on ${engine}: ${firstLine(err)}` };
    }
    const before = await child.stats();
    const drain = await child.call<Drain>("drain", { expected, timeoutMs: ctx.cfg.drainTimeoutMs, stallMs: STALL_MS }, ctx.cfg.drainTimeoutMs + 30_000);
    const cpuMs = (await child.stats()).cpuMs - before.cpuMs;
    if (drain.rows === 0) {
      return { available: false, reason: `the Kafka engine table was created, but ${engine} consumed no row from ${topic} within ${STALL_MS / 1000} s` };
    }
    return { available: true, engine, settings: used, drain: { ...drain, cpuMs } };
  } catch (err) {
    return { available: false, reason: `the chdb drain failed: ${firstLine(err)}` };
  } finally {
    await child.stop();
  }
}

function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split("\n").find((l) => l.trim() && !/^\s*at /.test(l))?.trim() ?? m;
}

/**
 * CPU time of the ClickHouse server behind `url` (user + system, all its threads, ms), read
 * from /proc, so a sink's drain can be charged the server's work as the in-process engine
 * is. The server is found as the process listening on the URL's port; when that is not
 * possible (another host, no /proc, not our user's process), the reason.
 */
export function clickHouseServerCpu(url: string): { pid: number; cpuMs: () => number } | { reason: string } {
  try {
    const u = new URL(url);
    if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return { reason: `ClickHouse at ${u.host} is not on this machine` };
    const port = Number(u.port || (u.protocol === "https:" ? 443 : 8123));
    const pid = listeningPid(port);
    if (pid === undefined) return { reason: `no process of this user found listening on port ${port}` };
    const hz = 100; // USER_HZ: 100 on every Linux architecture Node runs on
    const cpuMs = () => {
      // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces.
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return ((Number(f[11]) + Number(f[12])) * 1000) / hz;
    };
    cpuMs();
    return { pid, cpuMs };
  } catch (err) {
    return { reason: `could not read the server's CPU time: ${firstLine(err)}` };
  }
}

function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is field 10.
      if (f.length > 9 && parseInt(f[1]!.split(":")[1]!, 16) === port && f[3] === "0A") inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(entry);
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return undefined;
}
