/**
 * Which EventStream owns a Kafka topic. A stream may name its topic and its dead-letter
 * topic freely, so two streams (say in two namespaces) can name the same one; without an
 * owner, the second adopted the first one's topic (and corrected its config to its own
 * spec), and deleting either under Delete deleted the other's data.
 *
 * The rule, from observed objects only: of the live streams (not being deleted) that
 * claim a topic on the same Kafka cluster, the oldest owns it (creationTimestamp, then
 * namespace/name). Any other claimant is refused before it touches the topic. Deletion
 * keeps a topic that another stream still claims, unless that one is being deleted under
 * Delete as well (both asked for it to go). Streams are those the operator watches: a
 * stream in a namespace another operator install watches is not seen (operator/README.md).
 */
import type { EventStreamSpec } from "../../api/eventstream.js";
import type { ConditionInput } from "../conditions.js";
import type { OperatorConfig } from "../config.js";
import { streamPlacement } from "../clusters.js";
import { keyOf, type Obj } from "../informer.js";
import { compileStream } from "../../runtime/pipeline/compile.js";
import { validateSpec } from "../validate.js";

/** A topic on a Kafka cluster, as "<cluster>/<topic>". */
type ClaimKey = string;

/** The topic and dead-letter topic a stream declares, keyed by cluster; none when its spec is invalid. */
export function claimsOf(obj: Obj, config: OperatorConfig): Map<ClaimKey, string> {
  const valid = validateSpec<EventStreamSpec>({ ...obj, kind: "EventStream" });
  if (!valid.ok) return new Map();
  const placement = streamPlacement(valid.spec.clusters, config);
  if (!placement.ok) return new Map();
  const stream = compileStream({ kind: "EventStream", metadata: { name: obj.metadata!.name!, namespace: obj.metadata!.namespace! }, spec: valid.spec });
  return new Map([stream.topic, stream.deadLetterTopic].map((t) => [`${placement.kafka}/${t}`, t]));
}

/** For each topic `self` claims but another, older live stream owns: that owner (namespace/name). */
export function topicsOwnedByOthers(self: Obj, streams: Obj[], config: OperatorConfig): Map<string, string> {
  const mine = claimsOf(self, config);
  const owners = new Map<string, Obj>();
  for (const other of streams) {
    if (keyOf(other) === keyOf(self) || other.metadata?.deletionTimestamp || !olderThan(other, self)) continue;
    for (const [key, topic] of claimsOf(other, config)) {
      const current = owners.get(topic);
      if (mine.has(key) && (current === undefined || olderThan(other, current))) owners.set(topic, other);
    }
  }
  return new Map([...owners].map(([topic, owner]) => [topic, keyOf(owner)]));
}

/** For each topic `self` claims that another stream still needs: that stream (namespace/name). */
export function topicsUsedByOthers(self: Obj, streams: Obj[], config: OperatorConfig): Map<string, string> {
  const mine = claimsOf(self, config);
  const users = new Map<string, string>();
  for (const other of streams) {
    if (keyOf(other) === keyOf(self)) continue;
    if (other.metadata?.deletionTimestamp && deletionPolicyOf(other) === "Delete") continue;
    for (const [key, topic] of claimsOf(other, config)) if (mine.has(key)) users.set(topic, keyOf(other));
  }
  return users;
}

/** TopicReady=False naming each topic's owner: the spec must name other topics. */
export function ownedElsewhereCondition(owners: Map<string, string>): ConditionInput {
  const which = [...owners].map(([topic, owner]) => `topic ${topic} belongs to EventStream ${owner}`).join("; ");
  return { type: "TopicReady", status: "False", reason: "TopicOwnedByAnotherStream", message: `${which}: name other topics (spec.topic.name, spec.deadLetter.topic), or leave them out for <namespace>.<name> and <namespace>.<name>.dlq` };
}

function deletionPolicyOf(obj: Obj): "Retain" | "Delete" {
  const valid = validateSpec<EventStreamSpec>({ ...obj, kind: "EventStream" });
  return valid.ok ? valid.spec.deletionPolicy : "Retain";
}

/** Creation order, ties (same second) broken by namespace/name so every reconcile agrees. */
function olderThan(a: Obj, b: Obj): boolean {
  const at = (o: Obj) => new Date(o.metadata?.creationTimestamp ?? 0).getTime();
  if (at(a) !== at(b)) return at(a) < at(b);
  return keyOf(a) < keyOf(b);
}
