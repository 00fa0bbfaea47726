/**
 * Which topics a stream name means: from its manifest (`-f`, compiled as `sluice run`
 * compiles it, so a spec.topic.name or spec.deadLetter.topic is honoured), from --topic
 * directly, from the cluster named with --kubeconfig (the EventStream as applied), or else
 * by the default naming, <namespace>.<stream> and <topic>.dlq. Only an explicit
 * --kubeconfig reads a cluster: beside `sluice run`, a $KUBECONFIG set for some other
 * cluster must not change which topic is read.
 */
import { existsSync } from "node:fs";
import { loadPipeline } from "../runtime/pipeline/load.js";
import { clusterStream } from "./cluster-stream.js";
import { usageError } from "./exit-codes.js";

export interface StreamTopics {
  topic: string;
  deadLetterTopic: string;
  /** The event field holding the tenant id, when the manifest says. */
  tenantField?: string;
  /** How the names were found, for a note when they were guessed. */
  source: "manifest" | "option" | "cluster" | "default";
}

export interface StreamTopicOptions {
  filename?: string[];
  /** Unset: "default", or with a cluster the kubeconfig context's namespace. */
  namespace?: string;
  topic?: string;
  kubeconfig?: string;
}

export async function resolveStreamTopics(stream: string | undefined, o: StreamTopicOptions): Promise<StreamTopics> {
  if (o.topic) return { topic: o.topic, deadLetterTopic: o.topic, source: "option" };
  if (!stream) throw usageError("name a stream, or pass --topic", "sluice tail <stream> -f <manifest dir>, or sluice tail --topic <topic>");
  if (o.filename) {
    const missing = o.filename.filter((p) => !existsSync(p));
    if (missing.length > 0) throw usageError(`${missing.join(", ")}: no such file or directory`);
    const pipeline = loadPipeline(o.filename, o.namespace ?? "default");
    const found = pipeline.streams.find((s) => s.name === stream);
    if (!found) {
      throw usageError(`no EventStream "${stream}" in ${o.filename.join(", ")}`, `the streams there: ${pipeline.streams.map((s) => s.name).join(", ")}`);
    }
    return { topic: found.topic, deadLetterTopic: found.deadLetterTopic, tenantField: found.keys.tenant, source: "manifest" };
  }
  if (o.kubeconfig) {
    const found = await clusterStream(stream, o.namespace, o.kubeconfig);
    return { topic: found.topic, deadLetterTopic: found.deadLetterTopic, tenantField: found.keys.tenant, source: "cluster" };
  }
  const topic = `${o.namespace ?? "default"}.${stream}`;
  return { topic, deadLetterTopic: `${topic}.dlq`, source: "default" };
}
