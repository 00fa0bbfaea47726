/**
 * The event-time aggregation operator: folds events into windows, tracks the watermark,
 * and says what to write. Pure apart from the injected clock; no I/O.
 *
 * Firings (W = the worker's watermark; events at or after W are on time):
 * - early: every earlyFiringsMs of processing time, for open windows changed since last emitted;
 * - on_time: once, when W >= windowEnd;
 * - late: at once, whenever an event within allowed lateness corrects a closed window;
 * - an event whose windows all have W >= windowEnd + allowedLateness is too late: it is
 *   returned as a late-event output and counted, never dropped silently. The window state
 *   is dropped at that same moment, so memory is bounded by the windows still accepting events.
 *
 * Every row is the window's FULL value with a version derived from the input (see
 * versionOf), so an upsert table keeps the newest and a replay rewrites identical rows.
 *
 * Replay without a state store: offsets are committed only up to the earliest offset an
 * open window still needs (committableOffsets). After a crash a new engine resumes from a
 * Checkpoint (those offsets plus the watermark state, small enough for Kafka's per-partition
 * commit metadata) and reads from there. Every event of every window that was open at the
 * checkpoint is at or after those offsets, so those windows are rebuilt from exactly the
 * same events and reach exactly the same values and versions. Windows closed before the
 * checkpoint were already written in full; the restored watermark marks them too late, and
 * replayed events (offset below the checkpoint's nextOffset) that no open window takes are
 * skipped quietly: they were folded into a finished window or reported late the first time.
 * Rows re-emitted while a window is being rebuilt carry lower versions than the rows already
 * written, so they never win. This holds for the same per-partition order and the same
 * interleaving across partitions, without idleness (processing time) moving the watermark.
 * Partitions handed over from owners that had moved their watermarks differently resume
 * with the lowest one, but each partition's events are judged by no less than the
 * watermark they were judged by before (watermarkFloor), so a window that partition had
 * finished is never reopened by a lower watermark from another partition.
 *
 * Sessions need more: which events form a session depends on when earlier sessions closed,
 * i.e. on the watermark's history, so a replay judged by the checkpoint's watermark would
 * skip old events of a still-open session and write a narrower phantom. So a session
 * checkpoint is a consistent cut: each session remembers the engine's progress (offsets,
 * per-partition event times, watermark) from just before its first event (its Origin), and
 * the checkpoint is the earliest open session's Origin. The replay starts from that exact
 * state and sees the same events in the same order, so it makes the same merge and close
 * decisions. Sessions that were open at that point but closed before the checkpoint are
 * rebuilt only in part; they all end at or before finalWatermarkMs − allowed lateness (the
 * watermark when the checkpoint was taken), were written in full before, and are not
 * written again: the engine suppresses output for them (see suppressed()).
 */
import type { CompiledAggregation } from "./compile.js";
import { WatermarkTracker } from "./watermark.js";
import {
  addEvent,
  groupKeyOf,
  mergeWindowState,
  newWindowState,
  resultRow,
  retractionRow,
  versionOf,
  windowId,
  type AggregationEvent,
  type Firing,
  type ResultRow,
  type RetractionRow,
  type WindowState,
} from "./window-state.js";
import { fixedWindowsFor, mergeSession, sessionFor } from "./windows.js";

export type { AggregationEvent, Firing, ResultRow, RetractionRow } from "./window-state.js";

export type Output =
  | { kind: "result"; row: ResultRow }
  | { kind: "retract"; row: RetractionRow }
  | { kind: "late"; event: AggregationEvent; reason: string };

/** What to store with the committed offsets (JSON-safe: null stands for "no progress yet"). */
export interface Checkpoint {
  /** The watermark to resume with: the current one, or for sessions the earliest open one's Origin. */
  watermarkMs: number | null;
  /** Sessions: the watermark when the checkpoint was taken (sessions it closed are final). */
  finalWatermarkMs?: number | null;
  partitions: Record<string, { commitOffset: number; nextOffset: number; maxEventTimeMs: number | null; watermarkMs?: number | null }>;
}

/** The engine's progress just before an event: where a replay that must see that event starts. */
interface Origin {
  readonly seq: number;
  readonly watermarkMs: number;
  readonly partitions: ReadonlyMap<number, { offset: number | undefined; maxEventTimeMs: number }>;
}

export interface StateSize {
  windows: number;
  groups: number;
  eventIds: number;
}

export type Clock = () => number;

export class AggregationEngine {
  private watermarkMs = Number.NEGATIVE_INFINITY;
  private readonly tracker: WatermarkTracker;
  private readonly windows = new Map<string, WindowState>();
  private readonly sessions = new Map<string, WindowState[]>();
  private readonly nextOffsets = new Map<number, number>();
  private readonly resumeCommits = new Map<number, number>();
  private readonly replayUpTo = new Map<number, number>();
  /**
   * Tumbling/sliding: the watermark each resumed partition's events were already judged by
   * (its own checkpoint's). The engine resumes with the lowest watermark of all its
   * partitions, but a partition handed over from an owner that had moved further must not
   * have its windows reopened: an event judged late (or folded into a window already
   * written in full) would be counted a second time.
   */
  private readonly watermarkFloor = new Map<number, number>();
  private nextDeadlineMs = Number.POSITIVE_INFINITY;
  private nextEarlyAtMs: number;
  /** Sessions: events seen (orders Origins), the Origin of each open session, output suppressed below this. */
  private seq = 0;
  private lastOrigin: Origin | undefined;
  private readonly origins = new Map<WindowState, Origin>();
  private finalWatermarkMs = Number.NEGATIVE_INFINITY;
  /** Too-late events reported (for metrics). */
  lateEvents = 0;
  /** Redelivered events a window had already folded in (for metrics). */
  duplicates = 0;

  constructor(
    private readonly config: CompiledAggregation,
    private readonly clock: Clock,
    resume?: Checkpoint,
  ) {
    this.tracker = new WatermarkTracker(config.maxOutOfOrdernessMs, config.idleTimeoutMs);
    const now = clock();
    this.nextEarlyAtMs = now + (config.earlyFiringsMs ?? 0);
    if (resume) this.restore(resume, now);
  }

  assign(partitions: readonly number[]): void {
    const now = this.clock();
    for (const p of partitions) this.tracker.assign(p, now);
  }

  revoke(partitions: readonly number[]): void {
    for (const p of partitions) {
      this.tracker.revoke(p);
      this.nextOffsets.delete(p);
      this.resumeCommits.delete(p);
      this.replayUpTo.delete(p);
      this.watermarkFloor.delete(p);
    }
  }

  onEvent(event: AggregationEvent): Output[] {
    const now = this.clock();
    const out: Output[] = [];
    const p = event.partition;
    this.seq++;
    const replayed = event.offset < (this.replayUpTo.get(p) ?? Number.NEGATIVE_INFINITY);
    const accepted = this.config.window.type === "session" ? this.foldSession(event, replayed, out) : this.foldFixed(event, out);
    this.nextOffsets.set(p, Math.max(this.nextOffsets.get(p) ?? 0, event.offset + 1));
    if (!accepted && !replayed) {
      this.lateEvents++;
      out.push({ kind: "late", event, reason: `event time ${event.eventTimeMs} is later than the allowed lateness: watermark ${this.watermarkMs}, allowed lateness ${this.config.allowedLatenessMs} ms` });
    }
    this.tracker.observe(p, event.eventTimeMs, now);
    this.advanceTo(this.tracker.current(now), out);
    return out;
  }

  /** Processing-time timer: idleness may move the watermark; early firings are due. */
  onTick(nowMs: number): Output[] {
    const out: Output[] = [];
    this.advanceTo(this.tracker.current(nowMs), out);
    const every = this.config.earlyFiringsMs;
    if (every !== undefined && nowMs >= this.nextEarlyAtMs) {
      for (const s of this.windows.values()) if (s.dirty && !s.firedOnTime) this.emit(s, "early", out);
      this.nextEarlyAtMs = nowMs + every;
    }
    return out;
  }

  /** End of a bounded input: the watermark jumps to +∞, so every window fires and is dropped. */
  finish(): Output[] {
    const out: Output[] = [];
    this.advanceTo(Number.POSITIVE_INFINITY, out);
    return out;
  }

  currentWatermarkMs(): number {
    return this.watermarkMs;
  }

  /** Per owned partition: the offset to commit (the next one to read after a restart). */
  committableOffsets(): Map<number, number> {
    const offsets = new Map<number, number>();
    for (const p of this.tracker.owned()) {
      const next = this.nextOffsets.get(p) ?? this.resumeCommits.get(p);
      if (next !== undefined) offsets.set(p, next);
    }
    const origin = this.earliestOrigin();
    if (origin) {
      // Sessions: the consistent cut (see the header); a partition the Origin never read
      // from keeps its committed offset.
      for (const p of offsets.keys()) {
        const o = origin.partitions.get(p)?.offset;
        if (o === undefined) offsets.delete(p);
        else offsets.set(p, o);
      }
      return offsets;
    }
    for (const s of this.windows.values()) {
      for (const [p, o] of s.minOffsets) {
        const c = offsets.get(p);
        if (c !== undefined && o < c) offsets.set(p, o);
      }
    }
    return offsets;
  }

  private earliestOrigin(): Origin | undefined {
    let earliest: Origin | undefined;
    for (const o of this.origins.values()) if (!earliest || o.seq < earliest.seq) earliest = o;
    return earliest;
  }

  /** The engine's state before the current event (nextOffsets and the watermark move after the fold). */
  private originNow(e: AggregationEvent): Origin {
    if (this.lastOrigin?.seq === this.seq) return this.lastOrigin;
    const partitions = new Map<number, { offset: number | undefined; maxEventTimeMs: number }>();
    for (const p of this.tracker.owned()) {
      partitions.set(p, { offset: this.nextOffsets.get(p) ?? this.resumeCommits.get(p), maxEventTimeMs: this.tracker.maxEventTimeMs(p) ?? Number.NEGATIVE_INFINITY });
    }
    const own = partitions.get(e.partition);
    partitions.set(e.partition, { offset: own?.offset ?? e.offset, maxEventTimeMs: own?.maxEventTimeMs ?? Number.NEGATIVE_INFINITY });
    return (this.lastOrigin = { seq: this.seq, watermarkMs: this.watermarkMs, partitions });
  }

  checkpoint(): Checkpoint {
    const finite = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);
    const origin = this.earliestOrigin();
    const partitions: Checkpoint["partitions"] = {};
    for (const [p, commitOffset] of this.committableOffsets()) {
      partitions[String(p)] = {
        commitOffset,
        nextOffset: this.nextOffsets.get(p) ?? this.replayUpTo.get(p) ?? commitOffset,
        maxEventTimeMs: finite(origin ? origin.partitions.get(p)?.maxEventTimeMs : this.tracker.maxEventTimeMs(p)),
      };
    }
    const watermarkMs = finite(origin ? origin.watermarkMs : this.watermarkMs);
    if (this.config.window.type !== "session") {
      for (const [p, x] of Object.entries(partitions)) {
        const floor = this.watermarkFloor.get(Number(p));
        if (floor !== undefined && floor > this.watermarkMs) x.watermarkMs = floor;
      }
      return { watermarkMs, partitions };
    }
    return { watermarkMs, finalWatermarkMs: finite(Math.max(this.watermarkMs, this.finalWatermarkMs)), partitions };
  }

  stateSize(): StateSize {
    const groups = new Set<string>();
    let eventIds = 0;
    for (const s of this.windows.values()) {
      groups.add(s.groupKey);
      eventIds += s.ids.size;
    }
    return { windows: this.windows.size, groups: groups.size, eventIds };
  }

  private restore(resume: Checkpoint, now: number): void {
    this.watermarkMs = resume.watermarkMs ?? Number.NEGATIVE_INFINITY;
    this.finalWatermarkMs = resume.finalWatermarkMs ?? Number.NEGATIVE_INFINITY;
    for (const [key, p] of Object.entries(resume.partitions)) {
      const partition = Number(key);
      this.tracker.assign(partition, now, p.maxEventTimeMs ?? Number.NEGATIVE_INFINITY);
      this.resumeCommits.set(partition, p.commitOffset);
      this.replayUpTo.set(partition, p.nextOffset);
      if (typeof p.watermarkMs === "number") this.watermarkFloor.set(partition, p.watermarkMs);
    }
  }

  /** A window is closed for an event of `partition` once its own judged-by watermark passed it. */
  private tooLate(windowEnd: number, partition?: number): boolean {
    const floor = partition === undefined ? Number.NEGATIVE_INFINITY : (this.watermarkFloor.get(partition) ?? Number.NEGATIVE_INFINITY);
    return Math.max(this.watermarkMs, floor) >= windowEnd + this.config.allowedLatenessMs;
  }

  private foldFixed(e: AggregationEvent, out: Output[]): boolean {
    const w = this.config.window;
    if (w.type === "session") throw new Error("foldFixed called for a session window");
    const g = groupKeyOf(this.config.groupBy, e.row);
    let accepted = false;
    for (const interval of fixedWindowsFor(e.eventTimeMs, w.sizeMs, w.slideMs)) {
      if (this.tooLate(interval.end, e.partition)) continue;
      accepted = true;
      const id = windowId({ groupKey: g.key, ...interval });
      let s = this.windows.get(id);
      if (!s) this.track((s = newWindowState(this.config, g, interval)));
      if (addEvent(this.config, s, e)) this.fireIfClosed(s, out);
      else this.duplicates++;
    }
    return accepted;
  }

  private foldSession(e: AggregationEvent, replayed: boolean, out: Output[]): boolean {
    const w = this.config.window;
    if (w.type !== "session") throw new Error("foldSession called for a fixed window");
    const g = groupKeyOf(this.config.groupBy, e.row);
    const open = this.sessions.get(g.key) ?? [];
    const { absorbed, merged } = mergeSession(open, sessionFor(e.eventTimeMs, w.gapMs));
    // Merge first, then judge lateness on the merged session: an event that extends a
    // session still open is not late, whatever its own time.
    if (absorbed.length === 0 && this.tooLate(merged.end)) return false;
    const [base, ...others] = absorbed;
    const s = base ?? newWindowState(this.config, g, merged);
    if (!base) this.origins.set(s, this.originNow(e));
    const moved: { start: number; end: number }[] = [];
    if (base) {
      for (const o of others) {
        // A merged session needs every event of its parts: keep the earliest Origin.
        const a = this.origins.get(base)!;
        const b = this.origins.get(o)!;
        if (b.seq < a.seq) this.origins.set(base, b);
        mergeWindowState(base, o);
        if (o.emittedAs) moved.push(o.emittedAs);
        this.untrack(o);
      }
      if (base.start !== merged.start || base.end !== merged.end) {
        const origin = this.origins.get(base)!;
        this.untrack(base);
        this.origins.set(base, origin);
        base.start = merged.start;
        base.end = merged.end;
        if (base.emittedAs) moved.push(base.emittedAs);
      }
    }
    if (!this.windows.has(windowId(s))) this.track(s);
    if (!addEvent(this.config, s, e)) this.duplicates++;
    for (const m of moved) if (!this.suppressed(s)) out.push({ kind: "retract", row: retractionRow(s, m, versionOf(s)) });
    if (moved.length > 0) s.emittedAs = undefined;
    this.fireIfClosed(s, out);
    // A retracted row is replaced at once, so the table never lacks the session meanwhile.
    if (moved.length > 0 && s.dirty) this.emit(s, s.firedOnTime ? "late" : "early", out);
    // Early firings before the crash followed processing-time ticks that a replay does not
    // repeat: any interval reached while replaying may have been written, so a later move
    // must retract it.
    if (replayed && !s.emittedAs) s.emittedAs = { start: s.start, end: s.end };
    return true;
  }

  /** A change to a window the watermark already passed is a late correction: emit it now. */
  private fireIfClosed(s: WindowState, out: Output[]): void {
    if (this.watermarkMs < s.end || !s.dirty) return;
    s.firedOnTime = true;
    this.emit(s, "late", out);
  }

  private advanceTo(candidateMs: number, out: Output[]): void {
    if (candidateMs <= this.watermarkMs) return;
    this.watermarkMs = candidateMs;
    if (candidateMs < this.nextDeadlineMs) return;
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.windows.values()) {
      if (!s.firedOnTime && candidateMs >= s.end) {
        s.firedOnTime = true;
        this.emit(s, "on_time", out);
      }
      if (this.tooLate(s.end)) this.untrack(s);
      else next = Math.min(next, s.firedOnTime ? s.end + this.config.allowedLatenessMs : s.end);
    }
    this.nextDeadlineMs = next;
  }

  private emit(s: WindowState, firing: Firing, out: Output[]): void {
    if (!this.suppressed(s)) out.push({ kind: "result", row: resultRow(this.config, s, firing) });
    // Marked emitted even when suppressed: the row may have been written before the crash,
    // so a later move of this session must still retract it.
    s.dirty = false;
    s.emittedAs = { start: s.start, end: s.end };
  }

  /**
   * A session that ends at or before finalWatermarkMs − allowed lateness was final before
   * the checkpoint this engine resumed from, and was written in full then; rebuilt now from
   * a suffix of its events it must not be written again (it would be a narrower phantom).
   */
  private suppressed(s: WindowState): boolean {
    return this.config.window.type === "session" && s.end + this.config.allowedLatenessMs <= this.finalWatermarkMs;
  }

  private track(s: WindowState): void {
    this.windows.set(windowId(s), s);
    if (this.config.window.type === "session") {
      const list = this.sessions.get(s.groupKey);
      if (list) list.push(s);
      else this.sessions.set(s.groupKey, [s]);
    }
    this.nextDeadlineMs = Math.min(this.nextDeadlineMs, s.firedOnTime ? s.end + this.config.allowedLatenessMs : s.end);
  }

  private untrack(s: WindowState): void {
    this.windows.delete(windowId(s));
    this.origins.delete(s);
    const list = this.sessions.get(s.groupKey);
    if (!list) return;
    const rest = list.filter((x) => x !== s);
    if (rest.length > 0) this.sessions.set(s.groupKey, rest);
    else this.sessions.delete(s.groupKey);
  }
}
