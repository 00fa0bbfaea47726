/**
 * Load that keeps going while a test breaks things: a few clients post small requests,
 * wait as told on 429/503 and send the same body again (the same event ids), and record
 * what each request was answered and when. The left half of the no-loss oracle.
 */
import { clickEvent } from "../../testbed/load-generator.js";

export interface ContinuousLoadOptions {
  url: string;
  stream: string;
  /** tenant id -> API key */
  tenants: Record<string, string>;
  clients?: number;
  eventsPerRequest?: number;
  /** Pause between one client's requests, in ms (bounds the rate). */
  pauseMs?: number;
}

export interface Answer {
  sentAt: number;
  answeredAt: number;
  status: number;
}

export interface LoadReport {
  accepted: Set<string>;
  answers: Answer[];
  /** Responses by status code (0: the request itself failed). */
  statuses: Record<number, number>;
}

export interface RunningLoad {
  report: LoadReport;
  /** Stops sending new requests; resolves once every client's last request (and its retries) ended. */
  stop(): Promise<LoadReport>;
}

export function startContinuousLoad(o: ContinuousLoadOptions): RunningLoad {
  const report: LoadReport = { accepted: new Set(), answers: [], statuses: {} };
  const tenants = Object.keys(o.tenants);
  const perRequest = o.eventsPerRequest ?? 50;
  let stopping = false;
  let n = 0;
  const post = async (tenant: string, body: string): Promise<{ status: number; retryAfter: number }> => {
    const sentAt = Date.now();
    let status = 0;
    let retryAfter = 1;
    try {
      const res = await fetch(`${o.url}/v1/streams/${o.stream}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o.tenants[tenant]}` },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      await res.arrayBuffer();
      status = res.status;
      retryAfter = Number(res.headers.get("retry-after") ?? "1");
    } catch {
      status = 0;
    }
    report.answers.push({ sentAt, answeredAt: Date.now(), status });
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
    return { status, retryAfter };
  };
  const client = async (c: number): Promise<void> => {
    while (!stopping) {
      const tenant = tenants[c % tenants.length]!;
      const events = Array.from({ length: perRequest }, () => clickEvent(n++, tenant));
      const body = JSON.stringify(events);
      // A client that was not told "accepted" sends the same body again until it is:
      // the event ids stay the same, so a second copy is a duplicate to dedupe, not new data.
      for (;;) {
        const { status, retryAfter } = await post(tenant, body);
        if (status >= 200 && status < 300) {
          for (const e of events) report.accepted.add(String(e.event_id));
          break;
        }
        if (status !== 0 && status !== 429 && status !== 503) throw new Error(`collector answered ${status}`);
        await new Promise((r) => setTimeout(r, Math.min(retryAfter, 1) * 1000));
      }
      await new Promise((r) => setTimeout(r, o.pauseMs ?? 50));
    }
  };
  const clients = Array.from({ length: o.clients ?? 4 }, (_, c) => client(c));
  return {
    report,
    stop: async () => {
      stopping = true;
      await Promise.all(clients);
      return report;
    },
  };
}

/** Milliseconds from `at` until a request sent at or after it was first answered 2xx (undefined: none was). */
export function recoveredAfter(report: LoadReport, at: number): number | undefined {
  const ok = report.answers.filter((a) => a.sentAt >= at && a.status >= 200 && a.status < 300).map((a) => a.answeredAt);
  return ok.length === 0 ? undefined : Math.min(...ok) - at;
}
