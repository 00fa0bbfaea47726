import { describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { LeaderElector, decideLease } from "./leader.js";
import { FakeClock } from "./clock.js";
import { silentLogger } from "../runtime/log.js";

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

describe("a leader elector", () => {
  /** An in-memory Lease API that can be made to fail like an unreachable API server. */
  function fakeCoordination() {
    const state = { lease: undefined as k8s.V1Lease | undefined, down: false, version: 0 };
    const fail = () => Object.assign(new Error("unavailable"), { code: 503 });
    const api = {
      readNamespacedLease: async () => {
        if (state.down) throw fail();
        if (!state.lease) throw Object.assign(new Error("not found"), { code: 404 });
        return structuredClone(state.lease);
      },
      createNamespacedLease: async ({ body }: { body: k8s.V1Lease }) => {
        if (state.down) throw fail();
        state.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++state.version) } };
        return state.lease;
      },
      replaceNamespacedLease: async ({ body }: { body: k8s.V1Lease }) => {
        if (state.down) throw fail();
        if (body.metadata?.resourceVersion !== state.lease?.metadata?.resourceVersion) throw Object.assign(new Error("conflict"), { code: 409 });
        state.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++state.version) } };
        return state.lease;
      },
    };
    return { state, api: api as unknown as k8s.CoordinationV1Api };
  }
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };

  it("leads once it holds the Lease, and steps down when it cannot renew within the renew deadline", async () => {
    const clock = new FakeClock();
    const { state, api } = fakeCoordination();
    const elector = new LeaderElector({ coordination: api, namespace: "ns", name: "l", identity: "a", clock, log: silentLogger });
    let lost = 0;
    const led = elector.run(() => lost++);
    await flush();
    await led;
    expect(elector.isLeader).toBe(true);
    expect(state.lease?.spec?.holderIdentity).toBe("a");
    state.down = true;
    for (let t = 0; t < 10_000; t += 2_000) {
      clock.advance(2_000);
      await flush();
    }
    expect(lost).toBe(0);
    clock.advance(2_000);
    await flush();
    expect(lost).toBe(1);
    expect(elector.isLeader).toBe(false);
  });

  it("does not lead while another candidate's Lease is fresh", async () => {
    const clock = new FakeClock();
    const { state, api } = fakeCoordination();
    state.lease = { metadata: { name: "l", resourceVersion: "1" }, spec: { holderIdentity: "b", leaseDurationSeconds: 15, renewTime: new k8s.V1MicroTime(0) } };
    const elector = new LeaderElector({ coordination: api, namespace: "ns", name: "l", identity: "a", clock, log: silentLogger });
    void elector.run(() => {});
    clock.advance(14_000);
    await flush();
    expect(elector.isLeader).toBe(false);
    clock.advance(2_000);
    await flush();
    clock.advance(2_000);
    await flush();
    expect(elector.isLeader).toBe(true);
    expect(state.lease?.spec?.leaseTransitions).toBe(1);
    await elector.stop();
  });
});
