/**
 * Bearer-key authentication against a Secret of tenantId -> apiKey.
 *
 * Keys are compared as SHA-256 digests with crypto.timingSafeEqual: digests have equal
 * length, so neither the key's length nor its matching prefix leaks through timing. Every
 * entry is compared, without stopping at the first match, so timing does not reveal
 * which tenant's key was close either.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { unauthorized } from "./errors.js";

export interface KeyTable {
  /** tenantId and the digest of its key. */
  entries: { tenant: string; digest: Buffer }[];
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

export function keyTable(secret: Record<string, string>): KeyTable {
  // An empty key would let an empty bearer token in; such an entry is a mistake, not a tenant.
  return { entries: Object.entries(secret).filter(([, key]) => key !== "").map(([tenant, key]) => ({ tenant, digest: digest(key) })) };
}

/** Returns the tenant the key belongs to; throws a 401 IngestError otherwise. */
export function authenticate(table: KeyTable, authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) throw unauthorized("missing API key: send `Authorization: Bearer <key>`");
  const presented = digest(match[1]!);
  let tenant: string | undefined;
  for (const entry of table.entries) {
    if (timingSafeEqual(presented, entry.digest) && tenant === undefined) tenant = entry.tenant;
  }
  if (tenant === undefined) throw unauthorized("invalid API key");
  return tenant;
}
