import { afterAll, describe, expect, it } from "vitest";
import { createClient } from "@clickhouse/client";
import { randomName, testbedEnv } from "../support/testbed-env.js";

describe("the testbed's ClickHouse server", () => {
  const client = createClient({ url: testbedEnv().clickhouseUrl });
  const table = randomName("smoke").replace("-", "_");
  afterAll(async () => {
    await client.command({ query: `DROP TABLE IF EXISTS ${table}` });
    await client.close();
  });

  it("creates a table, inserts rows and reads them back", async () => {
    await client.command({ query: `CREATE TABLE ${table} (id UInt32, name String) ENGINE = MergeTree ORDER BY id` });
    await client.insert({ table, values: [{ id: 2, name: "b" }, { id: 1, name: "a" }], format: "JSONEachRow" });
    const rows = await (await client.query({ query: `SELECT id, name FROM ${table} ORDER BY id`, format: "JSONEachRow" })).json();
    expect(rows).toEqual([{ id: 1, name: "a" }, { id: 2, name: "b" }]);
  });

  it("is a real server that reports its version", async () => {
    const [row] = await (await client.query({ query: "SELECT version() AS v", format: "JSONEachRow" })).json<{ v: string }>();
    expect(row!.v).toMatch(/^\d+\.\d+/);
  });
});
