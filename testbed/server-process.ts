import { spawn, type ChildProcess } from "node:child_process";
import { openSync, readFileSync, existsSync, closeSync } from "node:fs";

export interface ServerSpec {
  /** Short name used in errors and log file names: "kafka-1", "clickhouse", ... */
  name: string;
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * When true the server outlives this process (make testbed-up). Otherwise the kernel
   * sends it SIGKILL when the spawning process dies, so a crashed test run leaves no
   * orphans: `setpriv --pdeathsig` sets PR_SET_PDEATHSIG, which survives exec.
   */
  detached?: boolean;
}

export interface ServerHandle {
  name: string;
  pid: number;
  logFile: string;
  exited: () => boolean;
  stop: () => Promise<void>;
}

export function spawnServer(spec: ServerSpec): ServerHandle {
  const out = openSync(spec.logFile, "a");
  const [cmd, args] = spec.detached
    ? [spec.command, spec.args]
    : ["setpriv", ["--pdeathsig", "KILL", "--", spec.command, ...spec.args]];
  const child: ChildProcess = spawn(cmd, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", out, out],
    // Its own process group, so stop() reaches any helper processes it forks.
    detached: true,
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`${spec.name}: failed to spawn ${spec.command}`);
  if (spec.detached) child.unref();
  let exitCode: number | null | undefined;
  child.on("exit", (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
  const pid = child.pid;
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited: () => exitCode !== undefined,
    stop: () => stopProcessGroup(pid, () => exitCode !== undefined),
  };
}

/** SIGTERM the group, wait up to `graceMs` for it to go, then SIGKILL. */
export async function stopProcessGroup(pid: number, gone = () => !alive(pid), graceMs = 10_000): Promise<void> {
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (!gone() && alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signalGroup(pid, "SIGKILL");
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone, which is what we want.
  }
}

/** True while `pid` runs. A zombie (exited, not yet reaped by its parent) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** The last lines of a server log, for error messages that say why a server failed. */
export function logTail(logFile: string, lines = 30): string {
  if (!existsSync(logFile)) return "(no log written)";
  return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Wraps a readiness wait so a failure names the server and shows its log tail. */
export async function readyOrExplain<T>(server: ServerHandle, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (err) {
    const state = server.exited() ? "exited" : "did not become ready";
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `testbed: ${server.name} ${state} (${reason}).\nLast lines of ${server.logFile}:\n${logTail(server.logFile)}`,
    );
  }
}
