/** The whole command line: every command has examples and exit codes in --help, and usage errors exit 2. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../api/repo-root.js";

const sluice = join(repoRoot, "bin", "sluice.js");
// A spawned CLI compiles its sources through tsx: seconds on a busy 2-core machine.
const SPAWN_BUDGET_MS = 60_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sluice, args, { encoding: "utf8", timeout: SPAWN_BUDGET_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const COMMANDS = ["validate", "run", "operator", "worker", "crds", "send", "tail", "lag", "replay", "top"];

describe("the sluice command line", () => {
  it("documents examples and exit codes in every command's --help", async () => {
    const helps = await Promise.all(COMMANDS.map((c) => runCli([c, "--help"])));
    helps.forEach((h, i) => {
      expect(h.code, COMMANDS[i]).toBe(0);
      expect(h.stdout, COMMANDS[i]).toContain("Examples:\n");
      expect(h.stdout, COMMANDS[i]).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+runtime failure[^\n]*\n\s+2\s+usage error/);
    });
    const root = await runCli(["--help"]);
    expect(root.stdout).toContain("Examples:\n");
    for (const c of COMMANDS) expect(root.stdout).toContain(`  ${c} `);
  }, SPAWN_BUDGET_MS * 2);

  it("exits 2 on usage errors: an unknown command, an unknown option, a missing required option", async () => {
    const [unknownCommand, unknownOption, missing, none] = await Promise.all([runCli(["nope"]), runCli(["validate", "-f", "x", "--bogus"]), runCli(["run"]), runCli([])]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'nope'");
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--bogus'");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '-f, --filename <path...>' not specified");
    expect(none.code).toBe(2);
  }, SPAWN_BUDGET_MS * 2);
});
