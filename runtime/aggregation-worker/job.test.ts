import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../api/repo-root.js";
import { loadPipeline } from "../pipeline/load.js";

const aggregationOf = (example: string) => loadPipeline([join(repoRoot, "examples", example)]).aggregations[0]!;

describe("where an aggregation may run", () => {
  it("scales out when the stream's partition key is a group-by field (ad-clicks: campaign_id)", () => {
    const job = aggregationOf("ad-clicks");
    expect(job.singleWorker).toBeUndefined();
    expect(job.scaling.maxReplicas).toBeGreaterThan(1);
  });

  it("is held to one worker, saying why, when a group's events span partitions (clickstream: tenant_id vs user_id)", () => {
    const job = aggregationOf("clickstream");
    expect(job.scaling).toMatchObject({ minReplicas: 1, maxReplicas: 1 });
    expect(job.singleWorker).toMatch(/groupBy \(tenant_id\) does not include the partition key "user_id" of stream page-views/);
  });
});
