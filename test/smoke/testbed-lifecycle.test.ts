import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../testbed/paths.js";
import { waitFor } from "../../testbed/poll.js";
import { alive } from "../../testbed/server-process.js";

describe("the testbed's process lifecycle", () => {
  it("when the test run is SIGKILLed, the servers it started die with it", async () => {
    const runner = spawn(join(repoRoot, "node_modules/.bin/tsx"), [join(repoRoot, "testbed/fixtures/start-clickhouse.ts")], {
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    const line = await new Promise<string>((resolveLine, reject) => {
      createInterface({ input: runner.stdout! }).once("line", resolveLine);
      runner.once("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    const { pid, url } = JSON.parse(line) as { pid: number; url: string };
    expect((await (await fetch(`${url}/?query=SELECT%201`)).text()).trim()).toBe("1");

    // tsx runs the script in a child node process; kill the whole group as a crash would.
    process.kill(-runner.pid!, "SIGKILL");
    await waitFor("the orphaned clickhouse-server to die", async () => (alive(pid) ? undefined : true), { timeoutMs: 15_000 });
  });
});
