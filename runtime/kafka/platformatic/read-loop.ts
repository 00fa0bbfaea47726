/**
 * A bare read loop on @platformatic/kafka (see ../read-loop.ts): its message stream from
 * the earliest offsets, no autocommit. A benchmark candidate, not shipped.
 */
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import type { ReadLoopOptions } from "../read-loop.js";

export async function platformaticReadLoop(o: ReadLoopOptions): Promise<void> {
  const c = new Consumer({ clientId: o.clientId, bootstrapBrokers: o.brokers, groupId: o.groupId, maxWaitTime: 100 });
  const stream = await c.consume({ topics: [o.topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let n = 0;
  for await (const m of stream) {
    o.onValue(m.value as Buffer);
    if (++n >= o.records) break;
  }
  await c.close(true);
}
