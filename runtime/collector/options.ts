/**
 * Collector options, and their normalised form with every default applied once, so
 * nothing downstream handles "unset".
 */
import type { Registry } from "prom-client";
import type { CompiledStream } from "../pipeline/compiled.js";
import type { Logger } from "../log.js";
import { keyTable, type KeyTable } from "./auth.js";
import { CollectorConfigError } from "./errors.js";

export interface CollectorOptions {
  streams: CompiledStream[];
  /** Secret name -> { tenantId: apiKey }; every ingest.authSecret must be present. */
  secrets: Map<string, Record<string, string>>;
  kafkaBrokers: string[];
  /** Interface to listen on. Default 127.0.0.1; use 0.0.0.0 in a pod. */
  host?: string;
  /** TCP port; 0 (the default) picks any free port, reported in the handle. */
  port?: number;
  /** Bytes of events waiting for Kafka's ack across all requests before 503. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Milliseconds a request waits for Kafka's ack before 503. Default 10 000. */
  produceTimeoutMs?: number;
  registry: Registry;
  logger?: Logger;
  /** Kafka client id. Default "sluice-collector". */
  clientId?: string;
}

export interface CollectorConfig {
  /** By metadata.name: the {stream} of the URL. */
  streams: Map<string, CompiledStream>;
  /** By stream name, for streams with ingest.authSecret. */
  keyTables: Map<string, KeyTable>;
  /** Every key of every stream: what a request for a name that has no keys of its own is checked against. */
  anyKey: KeyTable;
  kafkaBrokers: string[];
  host: string;
  port: number;
  maxInFlightBytes: number;
  produceTimeoutMs: number;
  clientId: string;
}

export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PRODUCE_TIMEOUT_MS = 10_000;

export function collectorConfig(opts: CollectorOptions): CollectorConfig {
  const streams = new Map<string, CompiledStream>();
  const keyTables = new Map<string, KeyTable>();
  for (const s of opts.streams) {
    // The URL names a stream by metadata.name alone; two namespaces' streams of the same
    // name would silently share one endpoint, so one collector serves one namespace.
    const clash = streams.get(s.name);
    if (clash) throw new CollectorConfigError(`streams ${clash.namespace}/${s.name} and ${s.namespace}/${s.name} would share the URL /v1/streams/${s.name}/events`);
    streams.set(s.name, s);
    if (s.ingest.authSecret === undefined) continue;
    const secret = opts.secrets.get(s.ingest.authSecret);
    if (!secret) throw new CollectorConfigError(`stream ${s.name} takes its API keys from Secret "${s.ingest.authSecret}", which was not given`);
    keyTables.set(s.name, keyTable(secret));
  }
  if (opts.kafkaBrokers.length === 0) throw new CollectorConfigError("kafkaBrokers is empty");
  return {
    streams,
    keyTables,
    anyKey: { entries: [...keyTables.values()].flatMap((t) => t.entries) },
    kafkaBrokers: opts.kafkaBrokers,
    host: opts.host ?? "127.0.0.1",
    port: opts.port ?? 0,
    maxInFlightBytes: positive(opts.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES, "maxInFlightBytes"),
    produceTimeoutMs: positive(opts.produceTimeoutMs ?? DEFAULT_PRODUCE_TIMEOUT_MS, "produceTimeoutMs"),
    clientId: opts.clientId ?? "sluice-collector",
  };
}

function positive(n: number, what: string): number {
  if (!(n > 0) || !Number.isFinite(n)) throw new CollectorConfigError(`${what} must be a positive number, got ${n}`);
  return n;
}
