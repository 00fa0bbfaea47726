/**
 * Reads the compiled worker config the operator writes into the worker's ConfigMap.
 * JSON has no Infinity: the operator spells it "Infinity" (canonicalJson) and older
 * callers wrote null for an unset retention; both come back as Infinity here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

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

/**
 * API keys from a mounted Secret: one file per tenant id holding its key. Kubernetes adds
 * dot-named entries (..data, the timestamped folder); they are not tenants.
 */
export function readKeysDir(dir: string): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith("."));
  } catch (err) {
    throw new WorkerConfigError(`cannot read API keys folder ${dir}: ${(err as Error).message}`);
  }
  const keys: Record<string, string> = {};
  for (const n of names) keys[n] = readFileSync(join(dir, n), "utf8").trim();
  if (names.length === 0) throw new WorkerConfigError(`API keys folder ${dir} holds no keys`);
  return keys;
}
