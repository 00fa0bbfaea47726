import { describe, expect, it } from "vitest";
import { CallSize } from "./call-size.js";

describe("CallSize", () => {
  it("keeps the most per call while full results are handled quickly", () => {
    const s = new CallSize(1_000, 10, 100);
    for (let i = 0; i < 5; i++) s.observe(1_000, 30);
    expect(s.current).toBe(1_000);
  });

  it("halves while results take longer than twice the target, down to the least", () => {
    const s = new CallSize(1_000, 10, 100);
    s.observe(1_000, 900);
    expect(s.current).toBe(500);
    s.observe(500, 450);
    expect(s.current).toBe(250);
    for (let i = 0; i < 20; i++) s.observe(s.current, 5_000);
    expect(s.current).toBe(10);
  });

  it("halves from the records a slow result held, not from the size asked", () => {
    const s = new CallSize(1_000, 10, 100);
    s.observe(120, 800);
    expect(s.current).toBe(60);
  });

  it("grows back only on full, fast results; a short result says nothing about speed", () => {
    const s = new CallSize(1_000, 10, 100);
    s.observe(1_000, 900);
    s.observe(3, 1);
    expect(s.current).toBe(500);
    s.observe(500, 20);
    expect(s.current).toBe(1_000);
    s.observe(1_000, 20);
    expect(s.current).toBe(1_000);
  });
});
