import { describe, expect, it } from "vitest";
import { seeded } from "../../test/support/seeded.js";
import { SmallMap, SmallSet } from "./small-collections.js";

describe("SmallSet and SmallMap", () => {
  it("behave as Set and Map (membership, size, insertion-ordered iteration) over random operations", () => {
    const random = seeded(42);
    for (let round = 0; round < 500; round++) {
      const small = new SmallSet<string>();
      const real = new Set<string>();
      const smallMap = new SmallMap<number, number>();
      const realMap = new Map<number, number>();
      const ops = 1 + Math.floor(random() * 6);
      for (let i = 0; i < ops; i++) {
        const v = `v${Math.floor(random() * 3)}`;
        small.add(v);
        real.add(v);
        const k = Math.floor(random() * 3);
        const x = Math.floor(random() * 100);
        smallMap.set(k, x);
        realMap.set(k, x);
        for (const probe of ["v0", "v1", "v2", "v3"]) expect(small.has(probe)).toBe(real.has(probe));
        for (const probe of [0, 1, 2, 3]) {
          expect(smallMap.has(probe)).toBe(realMap.has(probe));
          expect(smallMap.get(probe)).toBe(realMap.get(probe));
        }
        expect(small.size).toBe(real.size);
        expect([...small]).toEqual([...real]);
        expect(smallMap.size).toBe(realMap.size);
        expect([...smallMap]).toEqual([...realMap]);
        expect([...smallMap.keys()]).toEqual([...realMap.keys()]);
      }
    }
  });

  it("is empty before the first add", () => {
    expect(new SmallSet<string>().size).toBe(0);
    expect([...new SmallSet<string>()]).toEqual([]);
    expect(new SmallSet<string | undefined>().has(undefined)).toBe(false);
    expect(new SmallMap<number, number>().get(0)).toBeUndefined();
  });
});
