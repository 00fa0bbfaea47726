/**
 * `make testbed-up` / `make testbed-down` / `make testbed-status`: the same servers the
 * tests use, left running for manual work until brought down.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { envFile, pidsFile, stateDir } from "./paths.js";
import { alive } from "./server-process.js";
import { nodeWanted, serversByPid, startTestbed, stopTestbed, writeState } from "./testbed.js";

interface State {
  dataDir: string;
  servers: { name: string; pid: number }[];
}

function readState(): State | undefined {
  return existsSync(pidsFile) ? (JSON.parse(readFileSync(pidsFile, "utf8")) as State) : undefined;
}

async function up(): Promise<void> {
  const state = readState();
  if (state && state.servers.every((s) => alive(s.pid))) {
    console.log(`testbed already up; source ${envFile}`);
    return;
  }
  if (state) await down();
  const t0 = Date.now();
  const tb = await startTestbed({
    detached: true,
    logDir: join(stateDir, "logs"),
    kafkaBrokers: Number(process.env.KAFKA_NODES ?? 1),
    node: nodeWanted(),
  });
  writeState(tb);
  console.log(`testbed up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(readFileSync(envFile, "utf8"));
  console.log(`source ${envFile}`);
}

async function down(): Promise<void> {
  const state = readState();
  if (!state) {
    console.log("testbed not running");
    return;
  }
  await stopTestbed(state.dataDir, serversByPid(state.servers));
  const left = state.servers.filter((s) => alive(s.pid));
  if (left.length > 0) throw new Error(`testbed: still running after SIGKILL: ${left.map((s) => `${s.name}(${s.pid})`).join(", ")}`);
  rmSync(pidsFile, { force: true });
  rmSync(envFile, { force: true });
  console.log(`testbed down: stopped ${state.servers.map((s) => s.name).join(", ")}`);
}

function status(): void {
  const state = readState();
  if (!state) return console.log("testbed not running");
  for (const s of state.servers) console.log(`${s.name.padEnd(16)} pid ${s.pid} ${alive(s.pid) ? "up" : "DOWN"}`);
}

const cmd = process.argv[2];
const actions: Record<string, () => Promise<void> | void> = { up, down, status };
const action = cmd ? actions[cmd] : undefined;
if (!action) {
  console.error("usage: testbed up|down|status");
  process.exit(2);
}
try {
  await action();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
