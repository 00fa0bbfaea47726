/**
 * The images the testbed node runs: the pause image its pod sandboxes need and Sluice's
 * own image, built by scripts/image (cached by their inputs, so an unchanged tree costs
 * only a hash) and then imported into the node's containerd.
 */
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.js";
import { logTail } from "./server-process.js";

export interface BuiltImage {
  ref: string;
  archive: string;
}

export interface TestbedImages {
  pause: BuiltImage;
  sluice: BuiltImage;
}

export async function buildImages(logDir: string): Promise<TestbedImages> {
  const log = join(logDir, "image-build.log");
  const pause = await runScript("pause.sh", log);
  const sluice = await runScript("build.sh", log);
  return {
    pause: { ref: need(pause, "SLUICE_PAUSE_IMAGE", log), archive: need(pause, "SLUICE_PAUSE_ARCHIVE", log) },
    sluice: { ref: need(sluice, "SLUICE_IMAGE", log), archive: need(sluice, "SLUICE_IMAGE_ARCHIVE", log) },
  };
}

/** Runs scripts/image/<name>; its stdout is KEY=value lines, its stderr goes to the log. */
function runScript(name: string, log: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const err = openSync(log, "a");
    const child = spawn("bash", [join(repoRoot, "scripts", "image", name)], { cwd: repoRoot, stdio: ["ignore", "pipe", err] });
    closeSync(err);
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    // "close", not "exit": stdout may still hold data when the process exits.
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`testbed: scripts/image/${name} failed (exit ${code}).\nLast lines of ${log}:\n${logTail(log)}`));
      const vars: Record<string, string> = {};
      for (const m of out.matchAll(/^(\w+)=(.*)$/gm)) vars[m[1]!] = m[2]!;
      resolve(vars);
    });
  });
}

function need(vars: Record<string, string>, key: string, log: string): string {
  const v = vars[key];
  if (!v) throw new Error(`testbed: the image scripts printed no ${key}; see ${log}`);
  return v;
}
