/**
 * Which topics a stream name means: from its manifest (`-f`, compiled as `sluice run`
 * compiles it, so a spec.topic.name or spec.deadLetter.topic is honoured), from --topic
 * directly, or else by the default naming, <namespace>.<stream> and <topic>.dlq.
 */
import { existsSync } from "node:fs";
import { loadPipeline } from "../runtime/pipeline/load.js";
import { usageError } from "./exit-codes.js";

export interface StreamTopics {
  topic: string;
  deadLetterTopic: string;
  /** The event field holding the tenant id, when the manifest says. */
  tenantField?: string;
  /** How the names were found, for a note when they were guessed. */
  source: "manifest" | "option" | "default";
}

export interface StreamTopicOptions {
  filename?: string[];
  namespace: string;
  topic?: string;
}

export function resolveStreamTopics(stream: string | undefined, o: StreamTopicOptions): StreamTopics {
  if (o.topic) return { topic: o.topic, deadLetterTopic: o.topic, source: "option" };
  if (!stream) throw usageError("name a stream, or pass --topic", "sluice tail <stream> -f <manifest dir>, or sluice tail --topic <topic>");
  if (o.filename) {
    const missing = o.filename.filter((p) => !existsSync(p));
    if (missing.length > 0) throw usageError(`${missing.join(", ")}: no such file or directory`);
    const pipeline = loadPipeline(o.filename, o.namespace);
    const found = pipeline.streams.find((s) => s.name === stream);
    if (!found) {
      throw usageError(`no EventStream "${stream}" in ${o.filename.join(", ")}`, `the streams there: ${pipeline.streams.map((s) => s.name).join(", ")}`);
    }
    return { topic: found.topic, deadLetterTopic: found.deadLetterTopic, tenantField: found.keys.tenant, source: "manifest" };
  }
  const topic = `${o.namespace}.${stream}`;
  return { topic, deadLetterTopic: `${topic}.dlq`, source: "default" };
}
