/**
 * Sluice's Kafka port: the only Kafka vocabulary the runtime, the operator, the tests and
 * the benchmarks speak. Adapters in this folder implement it; nothing outside this folder
 * imports a Kafka client library.
 *
 * It is kept as small as our needs: produce with acks=all, consume one topic as a group
 * member with manual commits that carry metadata (the aggregation checkpoint), read chosen
 * partitions without a group (the CLI's tail and lag), and the handful of admin calls the
 * operator, the CLI and the testbed make. The shapes follow the
 * vocabulary Kafka users know (topic, partition, offsets as decimal strings).
 */

/** A record to produce. Without `partition`, the key decides it (murmur2, as Java clients). */
export interface OutMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string>;
  partition?: number;
}

/** A consumed record; headers are decoded as UTF-8 strings (Sluice's headers are all text). */
export interface InMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
}

export interface Batch {
  topic: string;
  partition: number;
  /** The partition's log-end offset when the batch was fetched. */
  highWatermark: string;
  messages: InMessage[];
  firstOffset(): string;
}

export interface CommitEntry {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka stores it. */
  offset: string;
  metadata?: string | null;
}

export interface ProducerOptions {
  /**
   * Idempotent (acks=all, no duplicates or reordering from the producer's own retries).
   * Default true: every Sluice write is.
   */
  idempotent?: boolean;
  /** How long one record may take to be acknowledged before its send fails, in ms. Default 30 s. */
  deliveryTimeoutMs?: number;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  /**
   * Resolves only when Kafka acknowledged every message with acks=all; rejects when any
   * one of them was not (the others may or may not be stored: retry with the same ids).
   */
  send(record: { topic: string; messages: OutMessage[] }): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  /** Where a partition without a committed offset starts. Default: the earliest offset. */
  fromBeginning?: boolean;
  /** Group session timeout in ms: a crashed member's partitions move after it. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Longest wait for new records in one fetch, in ms. Default 500. */
  maxWaitTimeInMs?: number;
  /**
   * Called with the member's whole assignment of the subscribed topic after each
   * rebalance, before any record of the new generation is delivered. Every assigned
   * partition restarts from its committed offset.
   */
  onAssigned?: (partitions: number[]) => void;
  /**
   * Called when the member's partitions are taken away (all of them: the protocol is
   * eager), before it rejoins the group, so no new owner reads them before this returns.
   */
  onRevoked?: () => void;
}

export interface RunOptions {
  eachBatch?: (payload: { batch: Batch }) => Promise<void>;
  eachMessage?: (payload: { topic: string; partition: number; message: InMessage }) => Promise<void>;
}

/**
 * Writes records and a consumer group's offsets (with their metadata) in one Kafka
 * transaction: read_committed readers (librdkafka's, kcat's and kafkajs's default) see the
 * records only if the offsets were committed with them. The offsets are fenced by the
 * consumer's group generation, so a member that lost its partitions in a rebalance cannot
 * commit them.
 */
export interface KafkaTransactionalProducer {
  connect(): Promise<void>;
  sendWithOffsets(consumer: KafkaConsumer, records: { topic: string; messages: OutMessage[] }[], offsets: CommitEntry[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A consumer group member with manual commits (auto-commit is always off). */
export interface KafkaConsumer {
  connect(): Promise<void>;
  subscribe(o: { topics: string[] }): Promise<void>;
  run(o: RunOptions): Promise<void>;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  commitOffsets(offsets: CommitEntry[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface NewTopic {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

export interface PartitionMetadata {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  fetchTopicMetadata(o: { topics: string[] }): Promise<{ topics: { name: string; partitions: PartitionMetadata[] }[] }>;
  createTopics(o: { topics: NewTopic[]; waitForLeaders?: boolean }): Promise<boolean>;
  /** Grows a topic to `count` partitions in all. */
  createPartitions(o: { topicPartitions: { topic: string; count: number }[] }): Promise<boolean>;
  deleteTopics(o: { topics: string[]; timeout?: number }): Promise<void>;
  /** The topic's value of each named config (absent when the broker has none). */
  describeTopicConfigs(topic: string, names: string[]): Promise<Record<string, string>>;
  /** Sets the whole given set of topic configs at once. */
  alterTopicConfigs(topic: string, configs: Record<string, string>): Promise<void>;
  /**
   * Committed offsets (-1 when never committed) and their metadata, per partition. Without
   * `topics`, those of every topic the group committed on.
   */
  fetchOffsets(o: { groupId: string; topics?: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]>;
  /**
   * A consumer group's state (Stable, PreparingRebalance, CompletingRebalance, Empty, Dead)
   * and its member count: the autoscaler holds while a rebalance settles.
   */
  describeGroup(groupId: string): Promise<{ state: string; members: number }>;
  /** Low and high watermarks per partition (`offset` is the high one). */
  fetchTopicOffsets(topic: string): Promise<{ partition: number; offset: string; high: string; low: string }[]>;
  /** Per partition, the first offset whose record is timestamped at or after `timestampMs`; the high watermark where none is. */
  fetchTopicOffsetsByTime(topic: string, timestampMs: number): Promise<{ partition: number; offset: string }[]>;
  /** A consumer group's state, protocol and each member with the partitions assigned to it. */
  describeGroupMembers(groupId: string): Promise<GroupDescription>;
  describeCluster(): Promise<{ brokers: { nodeId: number; host: string; port: number }[]; controller: number | null; clusterId: string }>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
  deleteTopicRecords(o: { topic: string; partitions: { partition: number; offset: string }[] }): Promise<void>;
  /** Moves each listed partition onto exactly these brokers (the first becomes its preferred leader). */
  reassignPartitions(topic: string, assignment: { partition: number; replicas: number[] }[]): Promise<void>;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** Topic → assigned partitions, as the group's leader assigned them. */
  assignment: Record<string, number[]>;
}

export interface GroupDescription {
  /** Stable, PreparingRebalance, CompletingRebalance, Empty or Dead (also for a group Kafka does not know). */
  state: string;
  /** The assignor in use ("range", "roundrobin"...); empty while the group has no members. */
  protocol: string;
  members: GroupMember[];
}

/** A record read by a KafkaReader. */
export interface ReadRecord {
  topic: string;
  partition: number;
  message: InMessage;
}

/**
 * Reads partitions from chosen offsets by manual assignment: it joins no consumer group and
 * commits nothing, so no pipeline's group notices it (what `sluice tail` and `sluice lag` use).
 */
export interface KafkaReader {
  connect(): Promise<void>;
  /** Reads each listed partition from its offset, replacing any earlier assignment. */
  assign(topic: string, positions: { partition: number; offset: string }[]): void;
  /** The next records, at most `max`; empty when none arrived within `waitMs`. */
  read(max: number, waitMs: number): Promise<ReadRecord[]>;
  disconnect(): Promise<void>;
}

/** One cluster's clients. */
export interface KafkaClient {
  producer(o?: ProducerOptions): KafkaProducer;
  /** transactionalId: unique per live producer (fencing of group members is by generation, KIP-447). */
  transactionalProducer(transactionalId: string): KafkaTransactionalProducer;
  consumer(o: ConsumerOptions): KafkaConsumer;
  reader(): KafkaReader;
  admin(): KafkaAdmin;
  /**
   * Sets a consumer group's committed offsets from outside the group, as Kafka's
   * `kafka-consumer-groups --reset-offsets` does: no member joins (a join would rebalance
   * the workers), the commit carries generation -1, and Kafka accepts it only while the group
   * has no members. An entry without metadata is committed with none.
   */
  commitGroupOffsets(groupId: string, offsets: CommitEntry[]): Promise<void>;
}
