/**
 * Event-time progress across the partitions one worker owns.
 *
 * A partition's watermark is the newest event time it has shown minus maxOutOfOrderness:
 * events at or after it are on time. The worker's watermark is the minimum over its
 * partitions, because the slowest partition may still deliver events that old. A partition
 * that delivered nothing for idleTimeout of processing time (the injected clock) stops
 * holding it back; when every partition is idle the most advanced one decides, so a quiet
 * topic still closes its windows.
 *
 * -Infinity means "no progress yet". The tracker itself may move back (a partition comes
 * back from idleness, a new one is assigned); the engine keeps its own watermark monotonic.
 */

interface PartitionProgress {
  maxEventTimeMs: number;
  lastEventAtMs: number;
}

export class WatermarkTracker {
  private readonly partitions = new Map<number, PartitionProgress>();

  constructor(
    private readonly maxOutOfOrdernessMs: number,
    private readonly idleTimeoutMs: number,
  ) {}

  /** A newly owned partition holds the watermark back until it shows events or goes idle. */
  assign(partition: number, nowMs: number, maxEventTimeMs = Number.NEGATIVE_INFINITY): void {
    if (!this.partitions.has(partition)) this.partitions.set(partition, { maxEventTimeMs, lastEventAtMs: nowMs });
  }

  revoke(partition: number): void {
    this.partitions.delete(partition);
  }

  owned(): number[] {
    return [...this.partitions.keys()];
  }

  observe(partition: number, eventTimeMs: number, nowMs: number): void {
    this.assign(partition, nowMs);
    const p = this.partitions.get(partition)!;
    p.maxEventTimeMs = Math.max(p.maxEventTimeMs, eventTimeMs);
    p.lastEventAtMs = nowMs;
  }

  maxEventTimeMs(partition: number): number | undefined {
    return this.partitions.get(partition)?.maxEventTimeMs;
  }

  current(nowMs: number): number {
    let activeMin = Number.POSITIVE_INFINITY;
    let idleMax = Number.NEGATIVE_INFINITY;
    let anyActive = false;
    for (const p of this.partitions.values()) {
      const wm = p.maxEventTimeMs - this.maxOutOfOrdernessMs;
      if (nowMs - p.lastEventAtMs >= this.idleTimeoutMs) {
        idleMax = Math.max(idleMax, wm);
      } else {
        anyActive = true;
        activeMin = Math.min(activeMin, wm);
      }
    }
    return anyActive ? activeMin : idleMax;
  }
}
