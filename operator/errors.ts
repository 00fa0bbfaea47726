/**
 * Every failure a reconcile step reports says whether waiting helps. Transient failures
 * (a broker down, an API server hiccup) requeue with backoff; spec failures become a
 * condition and wait for the user to change the spec.
 */

/**
 * A dependency failed; retry later. Thrown, it requeues the object with backoff and is
 * logged with its `reason` (controller.ts); it does not reach status. A step that should
 * show the failure in a condition returns the condition instead of throwing.
 */
export class TransientError extends Error {
  readonly retriable = true;
  constructor(message: string, readonly reason: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The spec asks for something that cannot be done; retrying will not help. */
export class SpecError extends Error {
  readonly retriable = false;
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

/** HTTP status of a client-node ApiException, if it is one. */
export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Only a 404 means "absent": a 403 or a 500 must never be taken for it. */
export function isNotFound(err: unknown): boolean {
  return statusCode(err) === 404;
}

export function isConflict(err: unknown): boolean {
  return statusCode(err) === 409;
}

export function errorMessage(err: unknown): string {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === "string") {
    try {
      const msg = (JSON.parse(body) as { message?: string }).message;
      if (msg) return msg;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  return err instanceof Error ? err.message : String(err);
}
