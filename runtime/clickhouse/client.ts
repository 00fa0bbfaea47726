/**
 * A ClickHouse client whose own log lines are Sluice's: one JSON object per line on
 * stderr (runtime/log.ts), not @clickhouse/client's multi-line text with a stack trace.
 *
 * An aborted request is not logged at all: Sluice aborts a request only on purpose (a
 * worker stopping or losing its partition with an insert in flight, which replays exactly),
 * and the client's "Insert: HTTP request error ... The user aborted a request" read as a
 * failure at every normal shutdown during a backlog. Every other failure reaches the caller
 * too, which retries it and logs it with the batch it concerns; the client's line is kept
 * as a warning with the error's message.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ErrorLogParams, type Logger as ClientLogger, type LogParams, type WarnLogParams } from "@clickhouse/client";
import { jsonLogger, type Logger } from "../log.js";

export interface ClickHouseClientOptions {
  url: string;
  requestTimeoutMs?: number;
}

let target: Logger = jsonLogger("clickhouse-client");

/** Where the clients' lines go (tests). */
export function setClickHouseClientLogger(l: Logger): void {
  target = l;
}

export function isAbort(err: Error | undefined): boolean {
  return !!err && (err.name === "AbortError" || /aborted a request/i.test(err.message));
}

export class ClientLogBridge implements ClientLogger {
  trace(): void {}
  debug(): void {}
  info(p: LogParams): void {
    target.info(p.message, { module: p.module });
  }
  warn(p: WarnLogParams): void {
    if (isAbort(p.err)) return;
    target.warn(p.message, { module: p.module, ...(p.err ? { error: p.err.message } : {}) });
  }
  error(p: ErrorLogParams): void {
    if (isAbort(p.err)) return;
    target.warn(p.message, { module: p.module, error: p.err.message });
  }
}

export function clickhouseClient(o: ClickHouseClientOptions): ClickHouseClient {
  return createClient({
    url: o.url,
    ...(o.requestTimeoutMs !== undefined ? { request_timeout: o.requestTimeoutMs } : {}),
    log: { LoggerClass: ClientLogBridge, level: ClickHouseLogLevel.WARN },
  });
}
