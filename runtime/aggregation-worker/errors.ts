/** Aggregation worker errors, each saying whether waiting and retrying can fix it. */

export abstract class AggregationError extends Error {
  abstract readonly retriable: boolean;
}

/** ClickHouse keeps refusing the rows (e.g. the table was changed by hand); retrying does not fix it. */
export class AggregateWriteRejectedError extends AggregationError {
  readonly retriable = false;
  constructor(readonly table: string, cause: unknown) {
    super(`ClickHouse keeps rejecting rows for ${table}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}
