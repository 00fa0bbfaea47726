/**
 * DDL for a sink's table, as pure functions of the compiled sink and the server's
 * features, so the old-vs-new dialect is unit-tested without a server.
 */
import type { CompiledSink } from "../pipeline/compiled.js";
import { columnType, metadataColumns } from "./column-types.js";
import type { ServerFeatures } from "./server-version.js";

type Feat = Pick<ServerFeatures, "dateTime64" | "tableTtl" | "insertDeduplicationToken">;

/** Identifiers are validated by the API (letters, digits, _), but quote them anyway. */
export const ident = (name: string) => "`" + name.replace(/`/g, "``") + "`";
export const tableRef = (sink: Pick<CompiledSink, "database" | "table">) => `${ident(sink.database)}.${ident(sink.table)}`;

export function createDatabaseSql(sink: Pick<CompiledSink, "database">): string {
  return `CREATE DATABASE IF NOT EXISTS ${ident(sink.database)}`;
}

/** Every column the table should have, in order: schema fields, then metadata. */
export function desiredColumns(sink: CompiledSink, f: Feat): [string, string][] {
  const key = new Set(sink.orderBy);
  return [...sink.stream.schema.fields.map((field) => [field.name, columnType(field, key, f)] as [string, string]), ...metadataColumns(f)];
}

export function createTableSql(sink: CompiledSink, f: Feat): string {
  const cols = desiredColumns(sink, f).map(([n, t]) => `  ${ident(n)} ${t}`);
  const lines = [
    `CREATE TABLE IF NOT EXISTS ${tableRef(sink)} (`,
    cols.join(",\n"),
    `) ENGINE = ReplacingMergeTree()`,
    `PARTITION BY ${sink.partitionBy}`,
    `ORDER BY (${sink.orderBy.map(ident).join(", ")})`,
  ];
  const ttl = ttlClause(sink, f);
  if (ttl) lines.push(ttl);
  // The window makes a retried insert with the same insert_deduplication_token a no-op on
  // a non-replicated table; old servers have neither the setting nor the token.
  if (f.insertDeduplicationToken) lines.push("SETTINGS non_replicated_deduplication_window = 1000");
  return lines.join("\n");
}

/** TTL on event time; none when retention is infinite or the server predates table TTL. */
export function ttlClause(sink: CompiledSink, f: Feat): string | undefined {
  if (!Number.isFinite(sink.retentionMs) || !f.tableTtl) return undefined;
  const seconds = Math.max(1, Math.ceil(sink.retentionMs / 1000));
  const t = ident(sink.stream.keys.eventTime);
  // DateTime64 + INTERVAL works, but TTL wants a DateTime/Date result on some versions.
  const time = f.dateTime64 ? `toDateTime(${t})` : t;
  return `TTL ${time} + INTERVAL ${seconds} SECOND`;
}

/**
 * ADD COLUMN for fields the table lacks (new optional schema fields). Never drops or
 * retypes: old rows and old readers keep working. `IF NOT EXISTS` is missing on 18.16,
 * so the caller passes the columns it observed.
 */
export function addColumnsSql(sink: CompiledSink, existing: ReadonlySet<string>, f: Feat): string[] {
  return desiredColumns(sink, f)
    .filter(([n]) => !existing.has(n))
    .map(([n, t]) => `ALTER TABLE ${tableRef(sink)} ADD COLUMN ${ident(n)} ${t}`);
}
