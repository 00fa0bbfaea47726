import { describe, expect, it } from "vitest";
import { RebalanceGate } from "./rebalance-gate.js";

describe("RebalanceGate", () => {
  it("applies a rebalance at once while no result is being read", () => {
    const gate = new RebalanceGate();
    const seen: string[] = [];
    gate.apply(() => seen.push("assign"));
    expect(seen).toEqual(["assign"]);
  });

  it("holds rebalances that arrive while a result is read until its records are delivered, in order", () => {
    const gate = new RebalanceGate();
    const seen: string[] = [];
    gate.enter();
    gate.apply(() => seen.push("revoke"));
    gate.apply(() => seen.push("assign"));
    seen.push("records of the result");
    expect(seen).toEqual(["records of the result"]);
    gate.leave();
    expect(seen).toEqual(["records of the result", "revoke", "assign"]);
    gate.leave();
    expect(seen).toHaveLength(3);
  });

  it("applies held and later rebalances at once once closed", () => {
    const gate = new RebalanceGate();
    const seen: string[] = [];
    gate.enter();
    gate.apply(() => seen.push("revoke"));
    gate.close();
    expect(seen).toEqual(["revoke"]);
    gate.enter();
    gate.apply(() => seen.push("assign"));
    expect(seen).toEqual(["revoke", "assign"]);
  });
});
