import { describe, expect, it } from "vitest";
import { frameName, topFrames, type CpuProfile } from "./top-frames.js";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

describe("topFrames", () => {
  it("adds up self time per function and place, largest first, as shares of the sampled time", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2, 3, 4] },
        { id: 2, callFrame: frame("parse", "file:///repo/runtime/collector/decode.ts", 9) },
        { id: 3, callFrame: frame("(garbage collector)") },
        // The same function reached by another path is one row.
        { id: 4, callFrame: frame("parse", "file:///repo/runtime/collector/decode.ts", 9) },
      ],
      samples: [2, 3, 4, 2, 3],
      timeDeltas: [1000, 500, 1000, 1000, 500],
    };
    expect(topFrames(profile)).toEqual([
      { frame: "parse runtime/collector/decode.ts:10", selfMs: 3, share: 0.75 },
      { frame: "(garbage collector)", selfMs: 1, share: 0.25 },
    ]);
    expect(topFrames(profile, 1)).toHaveLength(1);
  });

  it("names frames in dependencies by package path", () => {
    expect(frameName(frame("produce", "file:///w/node_modules/@confluentinc/kafka-javascript/lib/producer.js", 41))).toBe("produce @confluentinc/kafka-javascript/lib/producer.js:42");
    expect(frameName(frame("", "node:internal/streams/readable", 3))).toBe("(anonymous) node:internal/streams/readable:4");
  });
});
