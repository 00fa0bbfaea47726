/**
 * Reads the compiled worker config the operator writes into the worker's ConfigMap.
 * JSON has no Infinity: the operator spells it "Infinity" (canonicalJson) and older
 * callers wrote null for an unset retention; both come back as Infinity here.
 */
import { readFileSync } from "node:fs";

export class WorkerConfigError extends Error {}

export function readWorkerConfig<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new WorkerConfigError(`cannot read worker config ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (value === "Infinity") return Number.POSITIVE_INFINITY;
      if (value === null && key === "retentionMs") return Number.POSITIVE_INFINITY;
      return value;
    }) as T;
  } catch (err) {
    throw new WorkerConfigError(`worker config ${path} is not valid JSON: ${(err as Error).message}`);
  }
}
