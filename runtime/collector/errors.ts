/**
 * Every way a request can fail, as one typed error carrying its HTTP status. `retriable`
 * tells the client whether sending the same request again can succeed (429, 503) or
 * whether the request itself must change (4xx); retriable ones carry a Retry-After.
 */
export class IngestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get retriable(): boolean {
    return this.retryAfterSeconds !== undefined;
  }
}

export const badRequest = (message: string) => new IngestError(400, message);
export const unauthorized = (message: string) => new IngestError(401, message);
export const forbidden = (message: string) => new IngestError(403, message);
export const notFound = (message: string) => new IngestError(404, message);
export const tooLarge = (message: string) => new IngestError(413, message);
export const unsupportedMedia = (message: string) => new IngestError(415, message);
export const rateLimited = (message: string, retryAfterSeconds: number) => new IngestError(429, message, retryAfterSeconds);
export const unavailable = (message: string, retryAfterSeconds: number) => new IngestError(503, message, retryAfterSeconds);

/** The collector's configuration cannot work (e.g. two streams share a URL); fix it and restart. */
export class CollectorConfigError extends Error {}
