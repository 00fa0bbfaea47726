/**
 * The event-time aggregation operator: folds events into windows, tracks the watermark,
 * and says what to write. Pure apart from the injected clock; no I/O.
 *
 * Two watermarks, for two different jobs:
 * - Decisions (is an event too late, may a window's state go) use the watermark of the
 *   partition the event came from: D(p) = newest event time p has shown − maxOutOfOrderness.
 *   It is a function of that partition's own prefix only, so every decision is the same
 *   whatever the interleaving across partitions, after any crash, replay or hand-over, and
 *   with or without idleness. That makes the final results a function of the input alone.
 * - Firing (when a row is written on time) uses W, the minimum over owned partitions with
 *   idleness (watermark.ts). It only decides when rows appear, never what they hold.
 *
 * Rules (L = allowed lateness):
 * - fixed windows: an event is counted in each of its windows with end + L > D(p); a window
 *   it misses is reported, with the event, as a late output (`missed`), never dropped silently;
 * - sessions: an event is counted when the session it opens on its own, [t, t + gap), is not
 *   yet final: t + gap + L > D(p). Counted events' intervals that overlap merge, so the final
 *   sessions are the connected runs of counted events, in whatever order they arrive;
 * - firings (fixed windows): early (every earlyFiringsMs for changed open windows), on_time
 *   once W ≥ end, late at once for a correction after that. Every row is the window's FULL
 *   value with an input-derived version (versionOf), so an upsert table keeps the newest.
 * - sessions are written once, when final (below): a session's key (start, end) changes as it
 *   grows, and which intermediate keys a run passes through depends on arrival order, so
 *   intermediate rows could not be retracted exactly after a crash. Final rows never change.
 *
 * State goes once no event can still be counted in it: D ≥ dropAt (end + L for fixed windows,
 * end + gap + L for sessions: a later counted event could still overlap it before that). D is
 * the minimum over the partitions that may feed the window: every owned partition, or, when
 * groups live in one partition (`groupsInOnePartition`: the stream is keyed by a group-by
 * field), the partitions that fed it. A window leaves with its final row written.
 *
 * Replay without a state store: each partition commits the earliest offset an open window
 * still needs, and the checkpoint (commit metadata) carries D(p) as it was at that offset and
 * at the newest offset read. A new engine resumes each partition with its D at the commit, so
 * the replay makes every decision again exactly as the first time. Windows open at the
 * checkpoint are rebuilt from all their events. Windows that were already final (written in
 * full) may be rebuilt from part of their events; they are recognised by the checkpoint's
 * newest D (capped, unless groups live in one partition, at the lowest D of the owned
 * partitions, where windows closed) and not written again (for sessions a part would be a
 * narrower phantom row).
 * Late outputs for events read before the checkpoint were written before it, and are not
 * repeated.
 */
import type { CompiledAggregation } from "./compile.js";
import { WatermarkTracker } from "./watermark.js";
import {
  addEvent,
  groupKeyOf,
  groupRowOf,
  measureLayout,
  mergeWindowState,
  newWindowState,
  resultRow,
  sameGroupRow,
  type AggregationEvent,
  type Firing,
  type GroupKey,
  type MeasureLayout,
  type ResultRow,
  type WindowInterval,
  type WindowState,
} from "./window-state.js";
import { sliceWidthMs, Slices } from "./slices.js";
import { mergeSession, sessionFor, type Interval } from "./windows.js";

export type { AggregationEvent, Firing, ResultRow } from "./window-state.js";

/**
 * `late`: an event missed some of its windows (`missed`). `counted` says whether another of
 * its windows took it (sliding windows): then it is both in a count and in the late output.
 */
export type Output =
  | { kind: "result"; row: ResultRow }
  | { kind: "late"; event: AggregationEvent; reason: string; missed: Interval[]; counted: boolean };

/** What to store with the committed offsets (JSON-safe: null stands for "no event yet"). */
export interface Checkpoint {
  partitions: Record<
    string,
    {
      commitOffset: number;
      /** The next offset after the newest one read (late outputs below it were written). */
      nextOffset: number;
      /** Newest event time of the partition's events before commitOffset. */
      maxEventTimeMs: number | null;
      /**
       * Windows final by it were written in full: the newest event time before nextOffset, and
       * without groupsInOnePartition at most the lowest watermark of the owned partitions
       * (plus maxOutOfOrderness), where windows closed.
       */
      finalMaxEventTimeMs: number | null;
    }
  >;
}

export interface StateSize {
  windows: number;
  groups: number;
  eventIds: number;
}

export type Clock = () => number;

const ALL = -1;

export class AggregationEngine {
  private watermarkMs = Number.NEGATIVE_INFINITY;
  /** Per partition newest event time (decisions) and idleness (firing). */
  private readonly tracker: WatermarkTracker;
  /**
   * Open windows by group: a group's fixed windows (looked up by start) or its sessions (in
   * the order they were tracked). One window is held as is, more in an array.
   */
  private readonly groups = new Map<GroupKey, WindowState | WindowState[]>();
  /** Fixed windows' intervals, one per window start, shared by its groups. */
  private readonly intervals = new Map<number, WindowInterval>();
  /** Every open window, in the order tracked (a linked list through the states). */
  private head: WindowState | undefined;
  private tail: WindowState | undefined;
  private openWindows = 0;
  private readonly layout: MeasureLayout;
  /**
   * Overlapping sliding windows keep their events and values in slices (slices.ts); their
   * window states then hold only the firing state (and, with groupsInOnePartition, the
   * partitions that fed them), so they are made with no measures.
   */
  private readonly slices: Slices | undefined;
  private readonly windowLayout: MeasureLayout;
  /** Tumbling or sliding windows (not sessions). */
  private readonly fixed: boolean;
  /** Window starts of the event being folded (fixed windows), newest first. */
  private readonly starts: number[] = [];
  /**
   * With groupsInOnePartition: windows by the partition whose decision watermark may drop
   * them. Otherwise every owned partition may feed every window, and the list of open
   * windows is the one bucket (ALL).
   */
  private readonly dropBuckets = new Map<number, Set<WindowState>>();
  private readonly nextDropMs = new Map<number, number>();
  private nextFireMs = Number.POSITIVE_INFINITY;
  private readonly nextOffsets = new Map<number, number>();
  private readonly resumeCommits = new Map<number, number>();
  private readonly replayUpTo = new Map<number, number>();
  /** The checkpoint's newest event time per partition: windows final by it are not rewritten. */
  private readonly finalMax = new Map<number, number>();
  private nextEarlyAtMs: number;
  private readonly localGroups: boolean;
  /** Events that missed every window (for metrics). */
  lateEvents = 0;
  /** (event, window) pairs not counted, including those of wholly late events (for metrics). */
  missedWindows = 0;
  /** Redelivered events a window had already folded in (for metrics). */
  duplicates = 0;

  constructor(
    private readonly config: CompiledAggregation,
    private readonly clock: Clock,
    resume?: Checkpoint,
  ) {
    this.tracker = new WatermarkTracker(config.maxOutOfOrdernessMs, config.idleTimeoutMs);
    this.localGroups = config.groupsInOnePartition === true;
    this.layout = measureLayout(config);
    this.fixed = config.window.type !== "session";
    const w = config.window;
    this.slices = w.type === "sliding" && w.slideMs < w.sizeMs ? new Slices(this.layout, sliceWidthMs(w.sizeMs, w.slideMs)) : undefined;
    this.windowLayout = this.slices ? { ops: [], slots: 0 } : this.layout;
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
      this.finalMax.delete(p);
    }
  }

  onEvent(event: AggregationEvent): Output[] {
    const now = this.clock();
    const out: Output[] = [];
    const p = event.partition;
    this.tracker.assign(p, now);
    const replayed = event.offset < (this.replayUpTo.get(p) ?? Number.NEGATIVE_INFINITY);
    const decision = this.decisionWatermark(p);
    const missed = this.config.window.type === "session" ? this.foldSession(event, decision) : this.slices ? this.foldSliced(event, decision, out, this.slices) : this.foldFixed(event, decision, out);
    this.nextOffsets.set(p, Math.max(this.nextOffsets.get(p) ?? 0, event.offset + 1));
    if (missed.windows.length > 0) {
      this.missedWindows += missed.windows.length;
      if (!missed.counted) this.lateEvents++;
      // Replayed: its late output was written before the checkpoint this engine resumed from.
      if (!replayed) out.push({ kind: "late", event, reason: lateReason(missed.windows, missed.counted, p, decision, this.config.allowedLatenessMs), missed: missed.windows, counted: missed.counted });
    }
    this.tracker.observe(p, event.eventTimeMs, now);
    this.advanceTo(this.tracker.current(now), out);
    this.dropFinal(p, out);
    return out;
  }

  /** Processing-time timer: idleness may move the firing watermark; early firings are due. */
  onTick(nowMs: number): Output[] {
    const out: Output[] = [];
    this.advanceTo(this.tracker.current(nowMs), out);
    const every = this.config.earlyFiringsMs;
    if (every !== undefined && nowMs >= this.nextEarlyAtMs) {
      if (this.config.window.type !== "session") for (let s = this.head; s !== undefined; s = s.next) if (s.dirty && !s.firedOnTime) this.emit(s, "early", out);
      this.nextEarlyAtMs = nowMs + every;
    }
    return out;
  }

  /** End of a bounded input: every window fires and is dropped. */
  finish(): Output[] {
    const out: Output[] = [];
    this.advanceTo(Number.POSITIVE_INFINITY, out);
    for (let s = this.head; s !== undefined; ) {
      const next = s.next;
      this.close(s, out);
      s = next;
    }
    return out;
  }

  /** The firing watermark W (for metrics: how far behind event time the worker is). */
  currentWatermarkMs(): number {
    return this.watermarkMs;
  }

  /** Per owned partition: the offset to commit (the earliest one an open window still needs). */
  committableOffsets(): Map<number, number> {
    return new Map([...this.cut()].map(([p, c]) => [p, c.offset]));
  }

  checkpoint(): Checkpoint {
    const finite = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);
    const partitions: Checkpoint["partitions"] = {};
    // Windows final by a partition's mark were written. With groupsInOnePartition a window's
    // finality depends on its own partitions only, so the mark is the partition's newest event
    // time. Otherwise windows close on the lowest watermark of every owned partition: a
    // partition far ahead does not make them final, and its mark is capped at that lowest
    // point, or two marks taken by different owners would vouch for a window neither closed.
    const closedUpTo = this.localGroups ? Number.POSITIVE_INFINITY : this.lowestDecisionWatermark() + this.config.maxOutOfOrdernessMs;
    for (const [p, c] of this.cut()) {
      partitions[String(p)] = {
        commitOffset: c.offset,
        // A replay still below where the last checkpoint had read keeps that mark: late
        // outputs up to it were written by the engine before, not by this one.
        nextOffset: Math.max(this.nextOffsets.get(p) ?? c.offset, this.replayUpTo.get(p) ?? c.offset),
        maxEventTimeMs: finite(c.maxEventTimeMs),
        finalMaxEventTimeMs: finite(Math.max(Math.min(this.maxEventTime(p), closedUpTo), this.finalMax.get(p) ?? Number.NEGATIVE_INFINITY)),
      };
    }
    return { partitions };
  }

  stateSize(): StateSize {
    let eventIds = this.slices?.eventIds() ?? 0;
    for (let s = this.head; s !== undefined; s = s.next) eventIds += s.idCount;
    return { windows: this.openWindows, groups: this.groups.size, eventIds };
  }

  /** Per owned partition: the earliest offset an open window needs, and the newest event time before it. */
  private cut(): Map<number, { offset: number; maxEventTimeMs: number }> {
    const cut = new Map<number, { offset: number; maxEventTimeMs: number }>();
    for (const p of this.tracker.owned()) {
      const next = this.nextOffsets.get(p) ?? this.resumeCommits.get(p);
      if (next !== undefined) cut.set(p, { offset: next, maxEventTimeMs: this.maxEventTime(p) });
    }
    const lower = (p: number, offset: number, maxEventTimeMs: number) => {
      const c = cut.get(p);
      if (c !== undefined && offset < c.offset) cut.set(p, { offset, maxEventTimeMs });
    };
    // Sliced windows' events are in their slices (which live while a window holding them is open).
    if (this.slices) this.slices.forEachPart((part) => part.forEachFirst(lower));
    else for (let s = this.head; s !== undefined; s = s.next) s.forEachFirst(lower);
    return cut;
  }

  private restore(resume: Checkpoint, now: number): void {
    for (const [key, p] of Object.entries(resume.partitions)) {
      const partition = Number(key);
      this.tracker.assign(partition, now, p.maxEventTimeMs ?? Number.NEGATIVE_INFINITY);
      this.resumeCommits.set(partition, p.commitOffset);
      this.replayUpTo.set(partition, p.nextOffset);
      if (p.finalMaxEventTimeMs !== null) this.finalMax.set(partition, p.finalMaxEventTimeMs);
    }
  }

  private maxEventTime(p: number): number {
    return this.tracker.maxEventTimeMs(p) ?? Number.NEGATIVE_INFINITY;
  }

  private decisionWatermark(p: number): number {
    return this.maxEventTime(p) - this.config.maxOutOfOrdernessMs;
  }

  /** The lowest decision watermark among the partitions that may still feed `s`. */
  private horizon(s: WindowState, maxOf: (p: number) => number): number {
    let h = Number.POSITIVE_INFINITY;
    for (const p of this.localGroups ? s.partitions() : this.tracker.owned()) h = Math.min(h, maxOf(p) - this.config.maxOutOfOrdernessMs);
    return h;
  }

  /** Once its horizon reaches this, no event can be counted in the window any more. */
  private dropAt(s: WindowState): number {
    const w = this.config.window;
    return s.end + this.config.allowedLatenessMs + (w.type === "session" ? w.gapMs : 0);
  }

  private foldFixed(e: AggregationEvent, decision: number, out: Output[]): { windows: Interval[]; counted: boolean } {
    const w = this.config.window;
    if (w.type === "session") throw new Error("foldFixed called for a session window");
    const key = groupKeyOf(this.config.groupBy, e.row);
    const missed: Interval[] = [];
    let counted = false;
    // The event's windows (as fixedWindowsFor), oldest first: [start, start + size) for
    // every start a multiple of slide with t - size < start <= t.
    const t = e.eventTimeMs;
    const starts = this.starts;
    starts.length = 0;
    for (let start = Math.floor(t / w.slideMs) * w.slideMs; start > t - w.sizeMs; start -= w.slideMs) starts.push(start);
    for (let j = starts.length - 1; j >= 0; j--) {
      const start = starts[j]!;
      const end = start + w.sizeMs;
      if (end + this.config.allowedLatenessMs <= decision) {
        missed.push({ start, end });
        continue;
      }
      counted = true;
      let s = this.fixedWindow(key, start);
      if (!s) {
        let interval = this.intervals.get(start);
        if (!interval) this.intervals.set(start, (interval = { start, end, refs: 0 }));
        this.track((s = this.newState(key, e, interval)));
      }
      this.fold(s, e);
      this.fireIfClosed(s, out);
    }
    return { windows: missed, counted };
  }

  /**
   * foldFixed for sliced windows: the event goes into its slice once, counted from its oldest
   * window not too late for it (the windows too late for it are always its oldest ones); each
   * window it is counted in changes, and is written at once if already closed.
   */
  private foldSliced(e: AggregationEvent, decision: number, out: Output[], slices: Slices): { windows: Interval[]; counted: boolean } {
    const w = this.config.window;
    if (w.type === "session") throw new Error("foldSliced called for a session window");
    const key = groupKeyOf(this.config.groupBy, e.row);
    const missed: Interval[] = [];
    const t = e.eventTimeMs;
    const starts = this.starts;
    starts.length = 0;
    for (let start = Math.floor(t / w.slideMs) * w.slideMs; start > t - w.sizeMs; start -= w.slideMs) starts.push(start);
    let first = starts.length;
    for (let j = starts.length - 1; j >= 0; j--) {
      const start = starts[j]!;
      if (start + w.sizeMs + this.config.allowedLatenessMs > decision) break;
      missed.push({ start, end: start + w.sizeMs });
      first = j;
    }
    if (first === 0) return { windows: missed, counted: false };
    // starts is newest first: the counted windows are starts[0 .. first).
    const p = e.partition;
    const maxBefore = this.maxEventTime(p);
    if (!slices.add(key, e, starts[first - 1]!, maxBefore)) {
      this.duplicates += first;
      return { windows: missed, counted: true };
    }
    for (let j = first - 1; j >= 0; j--) {
      const start = starts[j]!;
      let s = this.fixedWindow(key, start);
      if (!s) {
        let interval = this.intervals.get(start);
        if (!interval) this.intervals.set(start, (interval = { start, end: start + w.sizeMs, refs: 0 }));
        this.track((s = this.newState(key, e, interval)));
      }
      s.dirty = true;
      if (this.localGroups && !s.fedBy(p)) {
        s.noteFirst(p, e.offset, maxBefore);
        this.bucket(p, s);
      }
      this.fireIfClosed(s, out);
    }
    return { windows: missed, counted: true };
  }

  /** The group's open fixed window starting at `start` (a group's fixed windows are sorted by start). */
  private fixedWindow(key: GroupKey, start: number): WindowState | undefined {
    const open = this.groups.get(key);
    if (open === undefined) return undefined;
    if (!Array.isArray(open)) return open.start === start ? open : undefined;
    const i = startIndex(open, start);
    return i < open.length && open[i]!.start === start ? open[i] : undefined;
  }

  private groupWindows(key: GroupKey): WindowState[] {
    const open = this.groups.get(key);
    return open === undefined ? [] : Array.isArray(open) ? open : [open];
  }

  /** A new window for e's group; its group row is the one of the group's other windows when equal. */
  private newState(key: GroupKey, e: AggregationEvent, interval: WindowInterval): WindowState {
    const open = this.groups.get(key);
    const other = open === undefined ? undefined : Array.isArray(open) ? open[0] : open;
    const groupBy = this.config.groupBy;
    const group = other !== undefined && sameGroupRow(groupBy, other.group, e.row) ? other.group : groupRowOf(groupBy, e.row);
    return newWindowState(this.windowLayout, interval, other !== undefined ? other.groupKey : key, group);
  }

  private foldSession(e: AggregationEvent, decision: number): { windows: Interval[]; counted: boolean } {
    const w = this.config.window;
    if (w.type !== "session") throw new Error("foldSession called for a fixed window");
    const own = sessionFor(e.eventTimeMs, w.gapMs);
    if (own.end + this.config.allowedLatenessMs <= decision) return { windows: [own], counted: false };
    const key = groupKeyOf(this.config.groupBy, e.row);
    const { absorbed, merged } = mergeSession(this.groupWindows(key), own);
    const [base, ...others] = absorbed;
    const s = base ?? this.newState(key, e, { start: merged.start, end: merged.end, refs: 0 });
    if (base) {
      for (const o of others) {
        mergeWindowState(this.layout, base, o);
        this.untrack(o);
      }
      if (base.start !== merged.start || base.end !== merged.end) {
        this.untrack(base);
        base.w.start = merged.start;
        base.w.end = merged.end;
      }
    }
    if (!s.tracked) this.track(s);
    this.fold(s, e);
    return { windows: [], counted: true };
  }

  private fold(s: WindowState, e: AggregationEvent): void {
    const feeds = !s.fedBy(e.partition);
    if (!addEvent(this.layout, s, e, this.maxEventTime(e.partition))) this.duplicates++;
    if (feeds && this.localGroups) this.bucket(e.partition, s);
  }

  /** A change to a window the firing watermark already passed is a late correction: emit it now. */
  private fireIfClosed(s: WindowState, out: Output[]): void {
    if (this.watermarkMs < s.end || !s.dirty || this.config.window.type === "session") return;
    s.firedOnTime = true;
    this.emit(s, "late", out);
  }

  private advanceTo(candidateMs: number, out: Output[]): void {
    if (candidateMs <= this.watermarkMs) return;
    this.watermarkMs = candidateMs;
    if (candidateMs < this.nextFireMs || this.config.window.type === "session") return;
    let next = Number.POSITIVE_INFINITY;
    for (let s = this.head; s !== undefined; s = s.next) {
      if (s.firedOnTime) continue;
      if (candidateMs >= s.end) {
        s.firedOnTime = true;
        this.emit(s, "on_time", out);
      } else next = Math.min(next, s.end);
    }
    this.nextFireMs = next;
  }

  /** Drops the windows no event can be counted in any more, now that partition p moved on. */
  private dropFinal(p: number, out: Output[]): void {
    const key = this.localGroups ? p : ALL;
    const reached = this.localGroups ? this.decisionWatermark(p) : this.lowestDecisionWatermark();
    if (reached < (this.nextDropMs.get(key) ?? Number.POSITIVE_INFINITY)) return;
    let next = Number.POSITIVE_INFINITY;
    if (this.localGroups) {
      for (const s of [...(this.dropBuckets.get(key) ?? [])]) {
        const at = this.dropAt(s);
        if (this.horizon(s, (q) => this.maxEventTime(q)) >= at) this.close(s, out);
        else next = Math.min(next, at);
      }
    } else {
      // Every owned partition may feed every window: all open windows are the bucket.
      for (let s = this.head; s !== undefined; ) {
        const after = s.next;
        const at = this.dropAt(s);
        if (reached >= at) this.close(s, out);
        else next = Math.min(next, at);
        s = after;
      }
    }
    this.nextDropMs.set(key, next);
  }

  private lowestDecisionWatermark(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const p of this.tracker.owned()) min = Math.min(min, this.decisionWatermark(p));
    return min;
  }

  /** The window is final: its last row goes out (closed on time if W had not got there yet). */
  private close(s: WindowState, out: Output[]): void {
    if (!s.firedOnTime) {
      s.firedOnTime = true;
      this.emit(s, "on_time", out);
    } else if (s.dirty) this.emit(s, "late", out);
    this.untrack(s);
  }

  private emit(s: WindowState, firing: Firing, out: Output[]): void {
    if (!this.suppressed(s)) out.push({ kind: "result", row: this.slices ? this.slices.row(s, firing) : resultRow(this.layout, s, firing) });
    s.dirty = false;
  }

  /**
   * A window that was final by the checkpoint this engine resumed from was written in full
   * then; rebuilt now from part of its events, it must not be written again.
   */
  private suppressed(s: WindowState): boolean {
    if (this.finalMax.size === 0) return false;
    // By the partitions that fed it, in either mode: each one's mark says its writer had
    // closed the windows final by it (checkpoint()). A partition owned now that never fed
    // the window (one with no checkpoint, say) says nothing about it.
    // Sliced windows keep who fed them in their slices only (without groupsInOnePartition):
    // every owned partition may have.
    const mark = (p: number) => (this.finalMax.get(p) ?? Number.NEGATIVE_INFINITY) - this.config.maxOutOfOrdernessMs;
    let h = Number.POSITIVE_INFINITY;
    s.forEachFirst((p) => (h = Math.min(h, mark(p))));
    if (h === Number.POSITIVE_INFINITY) for (const p of this.tracker.owned()) h = Math.min(h, mark(p));
    return h >= this.dropAt(s);
  }

  private track(s: WindowState): void {
    s.tracked = true;
    s.prev = this.tail;
    s.next = undefined;
    if (this.tail) this.tail.next = s;
    else this.head = s;
    this.tail = s;
    this.openWindows++;
    const open = this.groups.get(s.groupKey);
    if (open === undefined) this.groups.set(s.groupKey, s);
    else if (!Array.isArray(open)) this.groups.set(s.groupKey, this.fixed && s.start < open.start ? [s, open] : [open, s]);
    else if (this.fixed) open.splice(startIndex(open, s.start), 0, s);
    else open.push(s);
    if (this.fixed) s.w.refs++;
    if (!this.localGroups) this.noteDropAt(ALL, s);
    else for (const p of s.partitions()) this.bucket(p, s);
    if (!s.firedOnTime) this.nextFireMs = Math.min(this.nextFireMs, s.end);
  }

  private bucket(key: number, s: WindowState): void {
    let b = this.dropBuckets.get(key);
    if (!b) this.dropBuckets.set(key, (b = new Set()));
    b.add(s);
    this.noteDropAt(key, s);
  }

  private noteDropAt(key: number, s: WindowState): void {
    this.nextDropMs.set(key, Math.min(this.nextDropMs.get(key) ?? Number.POSITIVE_INFINITY, this.dropAt(s)));
  }

  private untrack(s: WindowState): void {
    if (!s.tracked) return;
    s.tracked = false;
    if (s.prev) s.prev.next = s.next;
    else this.head = s.next;
    if (s.next) s.next.prev = s.prev;
    else this.tail = s.prev;
    s.prev = s.next = undefined;
    this.openWindows--;
    // A window is in the buckets of the partitions that fed it only.
    if (this.localGroups) s.forEachFirst((p) => this.dropBuckets.get(p)?.delete(s));
    const open = this.groups.get(s.groupKey);
    if (open === s) this.groups.delete(s.groupKey);
    else if (Array.isArray(open)) {
      const i = this.fixed ? startIndex(open, s.start) : open.indexOf(s);
      if (i >= 0) open.splice(i, 1);
      if (open.length === 0) this.groups.delete(s.groupKey);
    }
    if (this.fixed && --s.w.refs === 0) this.intervals.delete(s.start);
    if (this.slices) {
      // Slices before the group's oldest open window are in no open window any more.
      const rest = this.groups.get(s.groupKey);
      this.slices.dropBefore(s.groupKey, rest === undefined ? Number.POSITIVE_INFINITY : Array.isArray(rest) ? rest[0]!.start : rest.start);
    }
  }
}

/** The first index in `windows` (sorted by start) whose start is not below `start`; newest last, so searched from the end. */
function startIndex(windows: readonly WindowState[], start: number): number {
  let hi = windows.length;
  if (hi === 0 || windows[hi - 1]!.start < start) return hi;
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (windows[mid]!.start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lateReason(missed: Interval[], counted: boolean, partition: number, decision: number, latenessMs: number): string {
  const windows = `window${missed.length > 1 ? "s" : ""} ${missed.map((w) => `[${w.start}, ${w.end})`).join(", ")}`;
  return `too late for ${windows}${counted ? " (counted in its later windows)" : ""}: partition ${partition}'s watermark ${decision} had passed window end + allowed lateness (${latenessMs} ms)`;
}
