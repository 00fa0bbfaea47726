/**
 * The right half of the oracle: what ClickHouse holds, read the documented way
 * (FINAL collapses rows that share the dedupe key), beside the raw row count that shows
 * the dedupe actually ran.
 */
import { createClient } from "@clickhouse/client";

export interface OracleVerdict {
  accepted: number;
  lost: number;
  duplicates: number;
  rawRows: number;
  dedupedRows: number;
  missingSample: string[];
}

export async function readTable(clickhouseUrl: string, table: string, idColumn = "event_id") {
  const ch = createClient({ url: clickhouseUrl });
  try {
    const q = async <T>(query: string) => (await (await ch.query({ query, format: "JSONEachRow" })).json()) as T[];
    const [raw] = await q<{ n: string }>(`SELECT count() AS n FROM ${table}`);
    const [final] = await q<{ n: string; d: string }>(`SELECT count() AS n, uniqExact(${idColumn}) AS d FROM ${table} FINAL`);
    const ids = await q<{ id: string }>(`SELECT DISTINCT ${idColumn} AS id FROM ${table}`);
    return { rawRows: Number(raw!.n), dedupedRows: Number(final!.n), distinctIds: Number(final!.d), ids: new Set(ids.map((r) => r.id)) };
  } finally {
    await ch.close();
  }
}

export async function oracle(clickhouseUrl: string, table: string, accepted: Set<string>): Promise<OracleVerdict> {
  const t = await readTable(clickhouseUrl, table);
  const missing = [...accepted].filter((id) => !t.ids.has(id));
  return {
    accepted: accepted.size,
    lost: missing.length,
    duplicates: t.dedupedRows - t.distinctIds,
    rawRows: t.rawRows,
    dedupedRows: t.dedupedRows,
    missingSample: missing.slice(0, 5),
  };
}
