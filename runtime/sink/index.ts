export { startSink, type SinkHandle, type SinkOptions } from "./start-sink.js";
export { RetentionGapError, InsertRejectedError, SinkError } from "./errors.js";
