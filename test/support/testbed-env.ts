import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { binDir } from "../../testbed/paths.js";

/**
 * The testbed's addresses. Throws rather than skipping: an integration test that
 * quietly passes without its server would prove nothing.
 */
export function testbedEnv(): { kafkaBrokers: string[]; clickhouseUrl: string; kubeconfig: string } {
  const need = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: integration tests need the testbed (run them with \`make test\`)`);
    return v;
  };
  return {
    kafkaBrokers: need("KAFKA_BROKERS").split(","),
    clickhouseUrl: need("CLICKHOUSE_URL"),
    kubeconfig: need("KUBECONFIG"),
  };
}

/** A collision-free lowercase name, valid for topics, tables and Kubernetes objects. */
export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export const kubectlPath = join(binDir, "kubectl");
