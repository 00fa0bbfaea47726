/**
 * A bare read loop: one consumer-group member reading a topic from its earliest offsets
 * and handing each record's value to `onValue`, with no commits, no pause and nothing of
 * the port's bookkeeping. `make bench` runs one per client library (the consumer half of
 * issue 14's client choice); the product never does. Each library's loop lives with its
 * adapters (confluent/, kafkajs/, platformatic/).
 */
export interface ReadLoopOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  groupId: string;
  /** The loop returns after this many records. */
  records: number;
  onValue: (value: Buffer) => void;
}

export type ReadLoop = (o: ReadLoopOptions) => Promise<void>;
