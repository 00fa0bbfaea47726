/**
 * Creates the aggregation's database, aggregate table and (policy Table) late table if
 * missing. Idempotent: safe on every worker start, concurrently from several replicas.
 * An existing table is left as it is: its key is the window and group, which a spec
 * change to groupBy would change, and that needs a new table, not an ALTER.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import type { ServerFeatures } from "../clickhouse/server-version.js";
import type { CompiledAggregationJob } from "./job.js";
import { createAggregateTableSql, createDatabaseSql, createLateTableSql } from "./table-ddl.js";

export async function ensureAggregationTables(client: ClickHouseClient, job: CompiledAggregationJob, features: ServerFeatures): Promise<void> {
  await client.command({ query: createDatabaseSql(job.output.database) });
  await client.command({ query: createAggregateTableSql(job, features) });
  if (job.late.policy === "Table") {
    if (job.late.database !== job.output.database) await client.command({ query: createDatabaseSql(job.late.database) });
    await client.command({ query: createLateTableSql(job, job.late, features) });
  }
}
