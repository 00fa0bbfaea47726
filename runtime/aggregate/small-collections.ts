/**
 * A Set and a Map for small per-key collections (the uniqExact accumulator; the window state
 * itself now inlines its first entries, window-state.ts), which almost always hold one
 * entry: a window's event ids when each group sees one event per window, the partitions
 * that fed it (one: the group-by is usually the partition key), a uniqExact's values. A
 * V8 Set or Map with one entry costs ~150-200 bytes (the object and its hash table); these
 * hold the first entry inline and make the real collection only for a second one. With a
 * million open keys that is most of the state (bench 7: bytes per open key).
 * Iteration order is insertion order, as for Set and Map.
 */
export class SmallSet<T> implements Iterable<T> {
  private first: T | undefined;
  private hasFirst = false;
  private rest: Set<T> | undefined;

  get size(): number {
    return this.rest ? this.rest.size : this.hasFirst ? 1 : 0;
  }

  has(v: T): boolean {
    if (this.rest) return this.rest.has(v);
    return this.hasFirst && this.first === v;
  }

  add(v: T): this {
    if (this.rest) this.rest.add(v);
    else if (!this.hasFirst) {
      this.first = v;
      this.hasFirst = true;
    } else if (this.first !== v) {
      this.rest = new Set([this.first as T, v]);
      this.first = undefined;
    }
    return this;
  }

  *[Symbol.iterator](): Iterator<T> {
    if (this.rest) yield* this.rest;
    else if (this.hasFirst) yield this.first as T;
  }
}

export class SmallMap<K, V> implements Iterable<[K, V]> {
  private firstKey: K | undefined;
  private firstValue: V | undefined;
  private hasFirst = false;
  private rest: Map<K, V> | undefined;

  get size(): number {
    return this.rest ? this.rest.size : this.hasFirst ? 1 : 0;
  }

  has(k: K): boolean {
    if (this.rest) return this.rest.has(k);
    return this.hasFirst && this.firstKey === k;
  }

  get(k: K): V | undefined {
    if (this.rest) return this.rest.get(k);
    return this.hasFirst && this.firstKey === k ? this.firstValue : undefined;
  }

  set(k: K, v: V): this {
    if (this.rest) this.rest.set(k, v);
    else if (!this.hasFirst || this.firstKey === k) {
      this.firstKey = k;
      this.firstValue = v;
      this.hasFirst = true;
    } else {
      this.rest = new Map([[this.firstKey as K, this.firstValue as V], [k, v]]);
      this.firstKey = undefined;
      this.firstValue = undefined;
    }
    return this;
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this) yield k;
  }

  *[Symbol.iterator](): Iterator<[K, V]> {
    if (this.rest) yield* this.rest;
    else if (this.hasFirst) yield [this.firstKey as K, this.firstValue as V];
  }
}
