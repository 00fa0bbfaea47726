export { startAggregation, type AggregationHandle, type AggregationOptions } from "./start-aggregation.js";
export { compileAggregationJob, type CompiledAggregationJob, type LateOutput } from "./job.js";
export { AggregationError, AggregateWriteRejectedError } from "./errors.js";
