import { describe, expect, it } from "vitest";
import { metricsUrl } from "./top-sample.js";

describe("metricsUrl", () => {
  it("takes host:port or a bare URL as its /metrics, and keeps a URL with a path", () => {
    expect(metricsUrl("10.0.0.7:8080")).toBe("http://10.0.0.7:8080/metrics");
    expect(metricsUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/metrics");
    expect(metricsUrl("https://sink.example/ops/metrics")).toBe("https://sink.example/ops/metrics");
    expect(() => metricsUrl("http://")).toThrow();
  });
});
