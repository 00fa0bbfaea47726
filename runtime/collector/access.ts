/**
 * Which stream a request reaches, and as which tenant, decided before anything about the
 * stream is revealed. Authentication comes first, as at any API gateway: a caller who
 * holds no key of this collector gets 401 whatever the stream name, so 404 and 403 cannot
 * be used to enumerate the streams it serves.
 *
 * A collector may serve several streams with different Secrets. For a stream with keys,
 * the key must be one of that stream's. For a name that is not a stream (or a stream
 * closed to HTTP that has no keys of its own) there is no stream to check a key against,
 * so any key of any stream served counts: its holder may learn that the name is unknown
 * (404) or closed (403). Open streams (no `ingest.auth`) take anonymous requests; a
 * collector serving only open streams has nothing to authenticate against, and answers
 * 404 for an unknown name.
 */
import type { CompiledStream } from "../pipeline/compiled.js";
import { authenticate } from "./auth.js";
import { forbidden, notFound } from "./errors.js";
import type { CollectorConfig } from "./options.js";

export interface Access {
  stream: CompiledStream;
  /** The tenant the API key belongs to; undefined for an open stream. */
  tenant?: string;
}

type Config = Pick<CollectorConfig, "streams" | "keyTables" | "anyKey">;

/** Throws the IngestError that answers the request (401, 403 or 404) when it may not go on. */
export function admit(config: Config, name: string, authorization: string | undefined): Access {
  const stream = config.streams.get(name);
  const table = stream && config.keyTables.get(stream.name);
  if (stream && table) {
    const tenant = authenticate(table, authorization);
    return { stream: enabled(stream), tenant };
  }
  if (stream?.ingest.enabled) return { stream };
  if (config.anyKey.entries.length > 0) authenticate(config.anyKey, authorization);
  if (!stream) throw notFound(`no event stream named "${name}"`);
  return { stream: enabled(stream) };
}

function enabled(stream: CompiledStream): CompiledStream {
  // 403, not 404: the stream exists, and the operator chose to close it to HTTP.
  if (!stream.ingest.enabled) throw forbidden(`event stream "${stream.name}" does not accept events over HTTP (spec.ingest.enabled is false)`);
  return stream;
}
