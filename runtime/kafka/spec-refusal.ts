/**
 * Kafka answers that say the request itself is wrong: sent again, the same request gets
 * the same answer, so they are spec problems for a condition, not outages to retry.
 * Matched by protocol error code (client libraries name codes differently); kafkajs
 * wraps each topic's CreateTopics error in an aggregate "Topic creation errors".
 *
 * Authorization failures are left out on purpose: an ACL granted later fixes them with
 * no change to the spec, and only a retry would notice.
 */
const SPEC_CODES = new Map([
  [17, "INVALID_TOPIC_EXCEPTION"],
  [37, "INVALID_PARTITIONS"],
  [38, "INVALID_REPLICATION_FACTOR"],
  [39, "INVALID_REPLICA_ASSIGNMENT"],
  [40, "INVALID_CONFIG"],
  [44, "POLICY_VIOLATION"],
]);

export interface SpecRefusal {
  code: number;
  /** The protocol name of the code, e.g. INVALID_REPLICATION_FACTOR. */
  type: string;
  /** What the client said about it. */
  message: string;
}

/** The first refusal of the request in `err` (or in the errors it wraps), if any. */
export function specRefusal(err: unknown, seen = new Set<unknown>()): SpecRefusal | undefined {
  if (typeof err !== "object" || err === null || seen.has(err)) return undefined;
  seen.add(err);
  const e = err as { code?: unknown; message?: unknown; errors?: unknown; originalError?: unknown; cause?: unknown };
  const type = typeof e.code === "number" ? SPEC_CODES.get(e.code) : undefined;
  if (type !== undefined) return { code: e.code as number, type, message: typeof e.message === "string" ? e.message : type };
  const inner = [...(Array.isArray(e.errors) ? e.errors : []), e.originalError, e.cause];
  for (const i of inner) {
    const found = specRefusal(i, seen);
    if (found) return found;
  }
  return undefined;
}
