/**
 * Creates the sink's database and table if missing and adds columns for new schema
 * fields. Idempotent: safe on every worker start, concurrently from several replicas.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import type { CompiledSink } from "../pipeline/compiled.js";
import type { ServerFeatures } from "./server-version.js";
import { addColumnsSql, createDatabaseSql, createTableSql } from "./table-ddl.js";

export interface EnsureResult {
  created: boolean;
  addedColumns: string[];
}

export async function ensureSinkTable(client: ClickHouseClient, sink: CompiledSink, features: ServerFeatures): Promise<EnsureResult> {
  await client.command({ query: createDatabaseSql(sink) });
  const before = await existingColumns(client, sink);
  await client.command({ query: createTableSql(sink, features) });
  if (before.size === 0) return { created: true, addedColumns: [] };
  const adds = addColumnsSql(sink, before, features);
  for (const sql of adds) {
    try {
      await client.command({ query: sql });
    } catch (err) {
      // Another replica added it between our read and our ALTER: that is the goal reached.
      if (!/already exists|DUPLICATE_COLUMN/i.test(String((err as Error).message))) throw err;
    }
  }
  return { created: false, addedColumns: adds.map((s) => s.split(" ADD COLUMN ")[1]!.split(" ")[0]!.replace(/`/g, "")) };
}

export async function existingColumns(client: ClickHouseClient, sink: Pick<CompiledSink, "database" | "table">): Promise<Set<string>> {
  // No query parameters on 18.16: the names are API-validated identifiers, quoted here.
  const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const rs = await client.query({
    query: `SELECT name FROM system.columns WHERE database = ${lit(sink.database)} AND table = ${lit(sink.table)}`,
    format: "JSONEachRow",
  });
  return new Set(((await rs.json()) as { name: string }[]).map((r) => r.name));
}
