/**
 * The node's teardown check, on the real host: what is recorded is kept, what appeared
 * after the record (a link, an nftables table, a chain added to a table that was there) is
 * reported by `differences` and removed by the restore's link and nftables steps. Only
 * those steps: the whole restore would also take mounts and network namespaces that the
 * testbed's running node makes meanwhile. The full restore runs at every testbed teardown,
 * which fails naming whatever `differences` still finds.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { differences, recordHost, removeNewLinks, removeNewNft } from "../../testbed/node/host.js";

const root = process.getuid?.() === 0;
if (!root) console.warn("[host-restore] skipped: needs root");

describe.skipIf(!root)("restoring the host after the node", () => {
  const id = randomBytes(3).toString("hex");
  const link = `slt${id}`;
  const table = `sluice_restore_${id}`;
  const oldTable = `sluice_restore_old_${id}`;
  afterAll(() => {
    for (const args of [["ip", "link", "delete", link], ["nft", "delete", "table", "ip", table], ["nft", "delete", "table", "ip", oldTable]]) {
      try {
        execFileSync(args[0]!, args.slice(1), { stdio: "ignore" });
      } catch {
        // Already gone: what the test wanted.
      }
    }
  });

  it("reports and removes a link, a table and a chain made after the record, keeping what was there", () => {
    execFileSync("nft", ["add", "table", "ip", oldTable]);
    execFileSync("nft", ["add", "chain", "ip", oldTable, "kept"]);
    const before = recordHost();
    execFileSync("ip", ["link", "add", link, "type", "bridge"]);
    execFileSync("nft", ["add", "table", "ip", table]);
    execFileSync("nft", ["add", "chain", "ip", table, "new"]);
    execFileSync("nft", ["add", "chain", "ip", oldTable, "added"]);
    // A jump from a kept chain to the added one must go too, or the chain cannot be deleted.
    execFileSync("nft", ["add", "rule", "ip", oldTable, "kept", "jump", "added"]);

    const found = differences(before, []);
    expect(found).toEqual(expect.arrayContaining([`link ${link} left behind`, `nftables chain ip ${table} left behind`, `nftables chain ip ${oldTable} added left behind`]));

    expect(removeNewLinks(before)).toEqual([]);
    removeNewNft(before.nftChains);
    expect(differences(before, []).filter((d) => d.includes(id))).toEqual([]);
    const ruleset = execFileSync("nft", ["list", "table", "ip", oldTable], { encoding: "utf8" });
    expect(ruleset).toContain("chain kept");
    expect(ruleset).not.toContain("added");
  });
});
