/** A Sink's workload: the generic worker objects with the compiled sink as config. */
import type { CompiledSink } from "../../runtime/pipeline/compiled.js";
import type { OwnerRef } from "../owner.js";
import { desiredWorkload, type WorkerEnv, type WorkerInput, type Workload } from "../workload/desired.js";
import { workerStream } from "../workload/worker-stream.js";

export function desiredSinkWorkload(owner: OwnerRef, sink: CompiledSink, env: WorkerEnv, resources?: WorkerInput["resources"]): Workload {
  const { scaling, stream, ...rest } = sink;
  return desiredWorkload({ component: "sink", owner, workerConfig: { ...rest, stream: workerStream(stream) }, scaling, ...(resources && { resources }) }, env);
}
