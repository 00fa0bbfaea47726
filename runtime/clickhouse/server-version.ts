/**
 * What the ClickHouse server can do, decided once from `SELECT version()`. The testbed runs
 * Debian's 18.16 (2018); production runs current releases. Everything that differs between
 * them is a flag here, so DDL and insert code branch on a feature, never on a number.
 */
import type { ClickHouseClient } from "@clickhouse/client";

export interface ServerVersion {
  major: number;
  minor: number;
  text: string;
}

export interface ServerFeatures {
  version: ServerVersion;
  /** DateTime64(3): millisecond timestamps (20.1+). Otherwise DateTime, second precision. */
  dateTime64: boolean;
  /** Table-level `TTL expr` (19.6+). */
  tableTtl: boolean;
  /**
   * `insert_deduplication_token` honoured by non-replicated MergeTree together with the
   * table setting `non_replicated_deduplication_window` (22.2+; we ask for 22.3 to be safe).
   */
  insertDeduplicationToken: boolean;
}

export function parseVersion(text: string): ServerVersion {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  if (!m) throw new Error(`cannot parse ClickHouse version "${text}"`);
  return { major: Number(m[1]), minor: Number(m[2]), text: text.trim() };
}

const atLeast = (v: ServerVersion, major: number, minor: number) => v.major > major || (v.major === major && v.minor >= minor);

export function serverFeatures(version: ServerVersion): ServerFeatures {
  return {
    version,
    dateTime64: atLeast(version, 20, 1),
    tableTtl: atLeast(version, 19, 6),
    insertDeduplicationToken: atLeast(version, 22, 3),
  };
}

export async function detectServerFeatures(client: ClickHouseClient): Promise<ServerFeatures> {
  const rs = await client.query({ query: "SELECT version() AS v", format: "JSONEachRow" });
  const [row] = (await rs.json()) as { v: string }[];
  if (!row) throw new Error("SELECT version() returned no row");
  return serverFeatures(parseVersion(row.v));
}
