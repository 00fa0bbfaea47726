/**
 * One group's lag on one topic, per partition: in messages from Kafka's offsets, and in
 * seconds as the age of the oldest record not yet consumed. That record is read at the
 * group's position by manual assignment (no group joined): one small fetch per lagging
 * partition, skipped with --no-seconds. Where it cannot be read in time the seconds are
 * unknown and the reason says why, rather than a guess.
 */
import { readPosition } from "../operator/autoscale/observe-lag.js";
import type { GroupDescription, GroupMember, KafkaAdmin, KafkaClient } from "../runtime/kafka/port.js";
import type { LagTarget } from "./lag-targets.js";

export interface PartitionLag {
  partition: number;
  /** The committed offset; null when the group never committed on this partition. */
  committed: string | null;
  /** Where the group resumes: the commit, or further where an Aggregation's commit metadata says it has read. */
  position: string;
  end: string;
  lag: number;
  lagSeconds: number | null;
  /** Why lagSeconds is null. */
  lagSecondsUnknown?: string;
  /** memberId of the member assigned the partition. */
  member: string | null;
}

export interface GroupLag {
  kind: LagTarget["kind"];
  name: string;
  groupId: string;
  topic: string;
  state: string;
  protocol: string;
  members: GroupMember[];
  lag: { messages: number; seconds: number | null };
  partitions: PartitionLag[];
  /** Set when the topic could not be measured (it does not exist, say). */
  error?: string;
}

/** How long the records at the lagging positions may take to arrive. */
const SECONDS_DEADLINE_MS = 5_000;

export interface ObserveOptions {
  seconds: boolean;
  nowMs: () => number;
}

export async function observeTarget(kafka: KafkaClient, admin: KafkaAdmin, target: LagTarget, o: ObserveOptions): Promise<GroupLag[]> {
  const group = await admin.describeGroupMembers(target.groupId);
  const topics = target.topics ?? (await groupTopics(admin, target.groupId, group));
  const existing = new Set(await admin.listTopics());
  const out: GroupLag[] = [];
  for (const topic of topics) {
    const base = { kind: target.kind, name: target.name, groupId: target.groupId, topic, state: group.state, protocol: group.protocol, members: group.members };
    if (!existing.has(topic)) {
      out.push({ ...base, lag: { messages: 0, seconds: null }, partitions: [], error: `topic ${topic} does not exist: is the pipeline deployed (kubectl apply, or sluice run) in this namespace?` });
      continue;
    }
    const partitions = await partitionLags(admin, target.groupId, topic, group.members);
    if (o.seconds) await addSeconds(kafka, topic, partitions, o.nowMs);
    else for (const p of partitions) if (p.lag > 0) Object.assign(p, { lagSeconds: null, lagSecondsUnknown: "not read (--no-seconds)" });
    out.push({ ...base, lag: totals(partitions), partitions });
  }
  return out;
}

/** A bare --group: the topics it committed on, and those its members are assigned. */
async function groupTopics(admin: KafkaAdmin, groupId: string, group: GroupDescription): Promise<string[]> {
  const committed = (await admin.fetchOffsets({ groupId })).filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);
  return [...new Set([...committed, ...group.members.flatMap((m) => Object.keys(m.assignment))])].sort();
}

async function partitionLags(admin: KafkaAdmin, groupId: string, topic: string, members: GroupMember[]): Promise<PartitionLag[]> {
  const [marks, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const commits = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p]));
  const owner = new Map(members.flatMap((m) => (m.assignment[topic] ?? []).map((p) => [p, m.memberId] as const)));
  return [...marks]
    .sort((a, b) => a.partition - b.partition)
    .map((m) => {
      const c = commits.get(m.partition);
      const offset = c ? Number(c.offset) : -1;
      // Never committed, or committed below what retention kept: a consumer resumes at the
      // oldest record (auto.offset.reset=earliest), so that is the position.
      const read = offset >= 0 ? readPosition(offset, c?.metadata ?? null) : -1;
      const position = Math.min(Math.max(read, Number(m.low)), Number(m.high));
      const lag = Number(m.high) - position;
      return { partition: m.partition, committed: offset >= 0 ? String(offset) : null, position: String(position), end: m.high, lag, lagSeconds: lag === 0 ? 0 : null, member: owner.get(m.partition) ?? null };
    });
}

/** Reads the first unconsumed record of each lagging partition for its timestamp. */
async function addSeconds(kafka: KafkaClient, topic: string, partitions: PartitionLag[], nowMs: () => number): Promise<void> {
  const lagging = new Map(partitions.filter((p) => p.lag > 0).map((p) => [p.partition, p]));
  if (lagging.size === 0) return;
  const reader = kafka.reader();
  try {
    await reader.connect();
    reader.assign(topic, [...lagging.values()].map((p) => ({ partition: p.partition, offset: p.position })));
    const deadline = Date.now() + SECONDS_DEADLINE_MS;
    const pending = new Set(lagging.keys());
    while (pending.size > 0 && Date.now() < deadline) {
      for (const r of await reader.read(pending.size * 4, Math.max(1, Math.min(500, deadline - Date.now())))) {
        const p = lagging.get(r.partition);
        if (!p || !pending.delete(r.partition)) continue;
        const ts = Number(r.message.timestamp);
        if (ts >= 0) p.lagSeconds = Math.max(0, (nowMs() - ts) / 1000);
        else p.lagSecondsUnknown = `the record at offset ${r.message.offset} has no timestamp`;
      }
    }
    for (const n of pending) lagging.get(n)!.lagSecondsUnknown = `the record at offset ${lagging.get(n)!.position} was not read within ${SECONDS_DEADLINE_MS / 1000} s`;
  } catch (err) {
    for (const p of lagging.values()) if (p.lagSeconds === null) p.lagSecondsUnknown = `reading the oldest unconsumed records failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await reader.disconnect().catch(() => {});
  }
}

/** Messages add up; seconds is the worst partition's (null when a lagging one is unknown). */
function totals(partitions: PartitionLag[]): GroupLag["lag"] {
  const messages = partitions.reduce((n, p) => n + p.lag, 0);
  const seconds = partitions.some((p) => p.lagSeconds === null) ? null : Math.max(0, ...partitions.map((p) => p.lagSeconds ?? 0));
  return { messages, seconds };
}
