/**
 * Following a replay after the reset: the group's position on each replayed partition,
 * from its new offset up to the end offset taken at the reset (records produced since are
 * new work, not the replay). A cli-progress bar with an ETA on a terminal, silent
 * elsewhere; a summary line either way. Ctrl-C stops following, never the replay: the
 * workers go on reading.
 */
import { SingleBar } from "cli-progress";
import { readPosition } from "../operator/autoscale/observe-lag.js";
import type { KafkaAdmin } from "../runtime/kafka/port.js";
import type { PartitionPlan } from "./replay-plan.js";

/** How often the group's offsets and members are read while following. */
const POLL_MS = 1_000;

export interface Progress {
  done: number;
  total: number;
  complete: boolean;
}

/** Records re-read so far: per replayed partition, how far the position got toward the end taken at the reset. */
export function replayProgress(replayed: PartitionPlan[], positions: ReadonlyMap<number, number>): Progress {
  let done = 0;
  let total = 0;
  for (const p of replayed) {
    const span = Math.max(0, p.end - p.newOffset);
    total += span;
    done += Math.min(span, Math.max(0, (positions.get(p.partition) ?? p.newOffset) - p.newOffset));
  }
  return { done, total, complete: done >= total };
}

export interface FollowTarget {
  groupId: string;
  topic: string;
  /** Where people start the workers again, for the waiting message. */
  restartHint: string;
  /** An Aggregation's position is its checkpoint's read position, as `sluice lag` counts it. */
  aggregation: boolean;
}

export interface FollowResult extends Progress {
  seconds: number;
  stopped: boolean;
}

export async function followReplay(admin: KafkaAdmin, t: FollowTarget, replayed: PartitionPlan[], o: { bar: boolean; stop: AbortSignal }): Promise<FollowResult> {
  const started = Date.now();
  const bar = new SingleBar({
    stream: process.stderr,
    // Our own ETA: cli-progress's averages from the bar's start, which includes the wait for
    // workers, and prints "INF" while nothing moved.
    format: "{bar} {percentage}% | {value}/{total} messages re-read | {status} | ETA {left}",
    hideCursor: true,
  });
  const eta = etaFrom(Date.now);
  let progress = replayProgress(replayed, new Map());
  if (o.bar) bar.start(progress.total, 0, { status: "waiting for workers", left: "?" });
  let waitingSaid: boolean | undefined;
  try {
    while (!progress.complete && !o.stop.aborted) {
      const [group, committed] = await Promise.all([admin.describeGroupMembers(t.groupId), admin.fetchOffsets({ groupId: t.groupId, topics: [t.topic] })]);
      const positions = new Map(
        (committed[0]?.partitions ?? []).map((p) => [p.partition, t.aggregation ? readPosition(Number(p.offset), p.metadata) : Number(p.offset)] as const),
      );
      progress = replayProgress(replayed, positions);
      const waiting = group.members.length === 0;
      const status = waiting ? "waiting for workers: the group has no members" : `${group.members.length} member${group.members.length === 1 ? "" : "s"} reading`;
      if (o.bar) bar.update(progress.done, { status, left: eta(progress) });
      else if (waiting !== waitingSaid && !progress.complete) {
        process.stderr.write(waiting ? `waiting for workers: group ${t.groupId} has no members (${t.restartHint})\n` : `workers joined: ${status}\n`);
      }
      waitingSaid = waiting;
      if (!progress.complete) await sleep(POLL_MS, o.stop);
    }
  } finally {
    if (o.bar) bar.stop();
  }
  return { ...progress, seconds: (Date.now() - started) / 1000, stopped: !progress.complete };
}

/**
 * Time left at the rate measured since the workers first moved the position (the wait for
 * them to start says nothing about how fast they read); "?" until it has moved.
 */
export function etaFrom(now: () => number): (p: Progress) => string {
  let first: { at: number; done: number } | undefined;
  return (p) => {
    if (p.complete) return "0s";
    if (!first || p.done < first.done) {
      if (p.done > 0) first = { at: now(), done: p.done };
      return "?";
    }
    const rate = (p.done - first.done) / Math.max(1, now() - first.at);
    if (rate <= 0) return "?";
    return formatSeconds(Math.ceil((p.total - p.done) / rate / 1000));
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    stop.addEventListener("abort", finish, { once: true });
    function finish() {
      clearTimeout(timer);
      stop.removeEventListener("abort", finish);
      done();
    }
  });
}
