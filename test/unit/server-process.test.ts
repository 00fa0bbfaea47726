import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GiveUp, waitFor } from "../../testbed/poll.js";
import { readyOrExplain, spawnServer } from "../../testbed/server-process.js";

describe("a testbed server that fails to start", () => {
  it("is named in the error, with the tail of its log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-unit-"));
    const server = spawnServer({
      name: "broken-db",
      command: "bash",
      args: ["-c", "echo 'FATAL: port already in use'; exit 3"],
      logFile: join(dir, "broken.log"),
    });
    const wait = () =>
      waitFor("never", async () => {
        if (server.exited()) throw new GiveUp("process exited");
        return undefined;
      }, { timeoutMs: 5_000 });
    await expect(readyOrExplain(server, wait)).rejects.toThrow(/broken-db exited[\s\S]*FATAL: port already in use/);
  });
});

describe("a Kafka cluster id for the testbed", () => {
  it("never starts with '-', which StorageTool would take for a flag", async () => {
    const { kafkaClusterId } = await import("../../testbed/kafka.js");
    for (let i = 0; i < 2000; i++) expect(kafkaClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
