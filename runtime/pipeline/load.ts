/**
 * Loads a pipeline folder (what `sluice run -f` is given): validates every manifest with
 * the API schemas, reads the Secrets beside them, and compiles the result.
 */
import { loadManifests } from "../../cli/manifests.js";
import { validateDocument } from "../../api/validate.js";
import type { EventStreamSpec } from "../../api/eventstream.js";
import type { SinkSpec } from "../../api/sink.js";
import type { AggregationSpec } from "../../api/aggregation.js";
import { compileAggregationJob } from "../aggregation-worker/job.js";
import { compileSink, compileStream, type Manifest } from "./compile.js";
import type { CompiledPipeline } from "./compiled.js";

export class PipelineLoadError extends Error {}

export function loadPipeline(paths: string[], namespace = "default"): CompiledPipeline {
  const { documents, errors } = loadManifests(paths);
  const problems = errors.map((e) => `${e.file}: not valid YAML: ${e.message}`);
  const streams: Manifest<EventStreamSpec>[] = [];
  const sinks: Manifest<SinkSpec>[] = [];
  const aggregations: Manifest<AggregationSpec>[] = [];
  const secrets = new Map<string, Record<string, string>>();
  for (const { file, index, doc } of documents) {
    const verdict = validateDocument(doc);
    const where = `${file}: document ${index} (${verdict.kind} "${verdict.name}")`;
    if (verdict.status === "invalid") {
      problems.push(...verdict.issues.map((i) => `${where}: ${i.path}: ${i.message}`));
    } else if (verdict.status === "skipped") {
      if (verdict.kind === "Secret") secrets.set(verdict.name, secretData(doc as SecretDoc));
    } else if (verdict.kind === "EventStream") streams.push(verdict.value as Manifest<EventStreamSpec>);
    else if (verdict.kind === "Sink") sinks.push(verdict.value as Manifest<SinkSpec>);
    else if (verdict.kind === "Aggregation") aggregations.push(verdict.value as Manifest<AggregationSpec>);
  }
  if (problems.length > 0) throw new PipelineLoadError(`the pipeline in ${paths.join(", ")} is invalid:\n  ${problems.join("\n  ")}`);
  if (streams.length === 0) throw new PipelineLoadError(`no EventStream found in ${paths.join(", ")}`);
  const compiledStreams = streams.map((s) => compileStream(s, namespace));
  const compiledSinks = sinks.map((s) => compileSink(s, compiledStreams, namespace));
  const compiledAggregations = aggregations.map((a) => compileAggregationJob(a, compiledStreams, namespace));
  for (const s of compiledStreams) {
    if (s.ingest.authSecret && !secrets.has(s.ingest.authSecret)) {
      throw new PipelineLoadError(`EventStream "${s.name}" references Secret "${s.ingest.authSecret}", which is not in ${paths.join(", ")}`);
    }
  }
  return { streams: compiledStreams, sinks: compiledSinks, aggregations: compiledAggregations, secrets };
}

interface SecretDoc {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Kubernetes semantics: data is base64, stringData is plain and wins on conflict. */
function secretData(doc: SecretDoc): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  return Object.assign(out, doc.stringData ?? {});
}
