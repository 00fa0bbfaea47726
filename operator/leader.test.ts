import { describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { decideLease } from "./leader.js";

const lease = (holder: string | undefined, renewedAtMs: number): k8s.V1Lease => ({
  metadata: { name: "sluice-operator" },
  spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new k8s.V1MicroTime(renewedAtMs) },
});

describe("the lease decision", () => {
  it("creates a missing lease, and renews its own", () => {
    expect(decideLease(undefined, "a", 0)).toBe("create");
    expect(decideLease(lease("a", 0), "a", 100_000)).toBe("renew");
  });
  it("waits while another holder's lease is fresh, and takes over once it expired", () => {
    expect(decideLease(lease("b", 1_000), "a", 16_000)).toBe("wait");
    expect(decideLease(lease("b", 1_000), "a", 16_001)).toBe("takeover");
  });
  it("takes over a released lease at once", () => {
    expect(decideLease(lease(undefined, 1_000), "a", 1_001)).toBe("takeover");
  });
});
