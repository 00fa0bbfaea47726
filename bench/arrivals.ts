/**
 * Records when each event of a run first becomes queryable in ClickHouse, by polling the
 * table for rows past the highest Kafka offset already seen per partition. An event seen
 * by a poll that started at t was queryable by t: the figures are upper bounds, at most
 * one poll interval (plus the query's own time) late.
 */
import type { ClickHouseClient } from "@clickhouse/client";
import { eventIndex } from "./events.js";

export class ArrivalPoller {
  /** Event index -> epoch ms it was first seen. */
  readonly seenAt = new Map<number, number>();
  private readonly maxOffset = new Map<number, number>();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly table: string,
    private readonly prefix: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        await this.pollOnce(started).catch((err: Error) => console.error(`  arrival poll failed: ${err.message}`));
        await new Promise((r) => setTimeout(r, Math.max(0, this.intervalMs - (Date.now() - started))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async pollOnce(at: number): Promise<void> {
    const seen = [...this.maxOffset].map(([p, o]) => `(_kafka_partition = ${p} AND _kafka_offset > ${o})`);
    const unseen = this.maxOffset.size > 0 ? [`_kafka_partition NOT IN (${[...this.maxOffset.keys()].join(",")})`] : ["1"];
    const rs = await this.ch.query({
      query: `SELECT _kafka_partition AS p, _kafka_offset AS o, event_id AS id FROM ${this.table} WHERE ${[...seen, ...unseen].join(" OR ")}`,
      format: "JSONEachRow", // 18.16 has no JSONCompactEachRow
    });
    for (const { p, o, id } of (await rs.json()) as { p: number; o: string | number; id: string }[]) {
      const offset = Number(o);
      if (offset > (this.maxOffset.get(p) ?? -1)) this.maxOffset.set(p, offset);
      const i = eventIndex(this.prefix, id);
      if (i >= 0 && !this.seenAt.has(i)) this.seenAt.set(i, at);
    }
  }
}

export function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
