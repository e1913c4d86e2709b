/**
 * A fixed-capacity hash map from non-negative int keys to int values, stored
 * in typed arrays: open addressing with linear probing and backward-shift
 * deletion (no tombstones), so inserts and deletes never allocate. The TLB
 * uses it as its content-addressable index; capacity is sized once from the
 * number of entries, so the table never grows.
 */
export class IntMap {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  size = 0;

  /** `maxEntries` is the most keys ever present at once; the table is kept at most half full. */
  constructor(maxEntries: number) {
    let cap = 16;
    while (cap < maxEntries * 2) cap *= 2;
    this.keys = new Int32Array(cap).fill(-1);
    this.values = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  private slot(key: number): number {
    // Fibonacci hashing: the product's high bits mix every key bit (keys
    // often end in zero bits, e.g. VPN << 10 with ASID 0).
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === -1) return -1;
    }
  }

  set(key: number, value: number): void {
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === key || k === -1) {
        if (k === -1) this.size++;
        keys[i] = key;
        this.values[i] = value;
        return;
      }
    }
  }

  delete(key: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.slot(key);
    while (keys[i] !== key) {
      if (keys[i] === -1) return;
      i = (i + 1) & mask;
    }
    this.size--;
    // Backward-shift: move later members of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== -1; j = (j + 1) & mask) {
      const home = this.slot(keys[j]);
      // j may move to the hole when its home is not cyclically in (hole, j].
      if ((j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j)) {
        keys[hole] = keys[j];
        this.values[hole] = this.values[j];
        hole = j;
      }
    }
    keys[hole] = -1;
  }
}
