/**
 * Ensure the sink's ClickHouse table with the shared ensureSinkTable: created if missing,
 * new optional fields added as columns, nothing dropped or retyped.
 */
import { ensureSinkTable } from "../../runtime/clickhouse/ensure-sink-table.js";
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import type { ConditionInput } from "../conditions.js";
import type { OperatorContext } from "../context.js";
import { errorMessage } from "../errors.js";

export interface TableOutcome {
  condition: ConditionInput;
  retry: boolean;
  addedColumns: string[];
  created: boolean;
}

export async function ensureTable(ctx: OperatorContext, sink: CompiledSink, cluster?: string): Promise<TableOutcome> {
  const table = `${sink.database}.${sink.table}`;
  try {
    const res = await ensureSinkTable(ctx.clickhouse(cluster), sink, await ctx.clickhouseFeatures(cluster));
    return { retry: false, created: res.created, addedColumns: res.addedColumns, condition: { type: "TableReady", status: "True", reason: "TableInSync", message: `table ${table} has every schema column` } };
  } catch (err) {
    // A server that answered with an error (ClickHouseError carries a `type`) rejected our
    // DDL; no answer at all means it is unreachable. Both may heal, so both retry.
    const rejected = typeof (err as { type?: unknown }).type === "string";
    const reason = rejected ? "TableRejected" : "ClickHouseUnavailable";
    return { retry: true, created: false, addedColumns: [], condition: { type: "TableReady", status: "False", reason, message: `ClickHouse: ${errorMessage(err)}` } };
  }
}
