/** Runs a sink in its own process (test/fixtures/run-sink.ts), so a test can SIGKILL it. */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import { repoRoot } from "../../testbed/paths.js";

export interface ChildSink {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startChildSink(sink: CompiledSink, env: Record<string, string>): Promise<ChildSink> {
  // node --import tsx, not the tsx wrapper: the pid we signal is the sink itself, and a
  // failpoint's SIGKILL shows as the exit signal.
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/run-sink.ts"), JSON.stringify(sink)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  await new Promise<void>((ready, fail) => {
    createInterface({ input: child.stdout! }).once("line", () => ready());
    void exited.then((e) => fail(new Error(`sink exited before ready: ${JSON.stringify(e)}`)));
  });
  return { process: child, exited };
}

/** A crash: no cleanup, no commit, no goodbye to the consumer group. */
export function killHard(child: ChildProcess): void {
  try {
    process.kill(child.pid!, "SIGKILL");
  } catch {
    // already gone
  }
}
