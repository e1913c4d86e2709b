/**
 * A deliberately plain reference model of an LRU set-associative TLB, for
 * checking the real one (src/tlb.ts) and the hart's memos against it. Each
 * set is an array ordered most recently used first; nothing is clever.
 */

export interface RefEntry {
  vpn: number;
  asid: number;
  global: boolean;
  /** D bit of the PTE when the entry was filled. */
  dirty: boolean;
}

export interface RefCounters {
  lookups: number;
  hits: number;
  misses: number;
  fills: number;
  evictions: number;
  flushAll: number;
  flushAddr: number;
  flushAsid: number;
  flushAddrAsid: number;
  entriesFlushed: number;
}

export class RefTlb {
  readonly sets: RefEntry[][] = [];
  readonly nsets: number;
  readonly counters: RefCounters = {
    lookups: 0,
    hits: 0,
    misses: 0,
    fills: 0,
    evictions: 0,
    flushAll: 0,
    flushAddr: 0,
    flushAsid: 0,
    flushAddrAsid: 0,
    entriesFlushed: 0,
  };
  /** Page walks the accesses needed (one per miss). */
  walks = 0;

  constructor(
    readonly entries: number,
    readonly ways: number,
    readonly asidTags = true,
  ) {
    this.nsets = entries / ways;
    for (let s = 0; s < this.nsets; s++) this.sets.push([]);
  }

  setOf(vpn: number): RefEntry[] {
    return this.sets[vpn % this.nsets];
  }

  private matches(e: RefEntry, vpn: number, asid: number): boolean {
    return e.vpn === vpn && (e.global || !this.asidTags || e.asid === asid);
  }

  /** Position of the matching entry in its set, or -1. */
  position(vpn: number, asid: number): number {
    const set = this.setOf(vpn);
    for (let i = 0; i < set.length; i++) if (this.matches(set[i], vpn, asid)) return i;
    return -1;
  }

  has(vpn: number, asid: number): boolean {
    return this.position(vpn, asid) >= 0;
  }

  /** Counted lookup; a hit becomes the most recently used. */
  lookup(vpn: number, asid: number): boolean {
    this.counters.lookups++;
    const set = this.setOf(vpn);
    const i = this.position(vpn, asid);
    if (i < 0) {
      this.counters.misses++;
      return false;
    }
    this.counters.hits++;
    const [e] = set.splice(i, 1);
    set.unshift(e);
    return true;
  }

  /** Install after a miss: a free way if any, else evict the least recently used. */
  fill(vpn: number, asid: number, global = false, dirty = true): void {
    const set = this.setOf(vpn);
    if (set.length === this.ways) {
      set.pop();
      this.counters.evictions++;
    }
    set.unshift({ vpn, asid, global, dirty });
    this.counters.fills++;
  }

  /**
   * One translation as the hart does it: lookup, and on a miss a walk and a
   * fill. A store that hits an entry whose D bit was clear cannot use it: it
   * counts as a miss, walks, and refreshes the same entry in place (now the
   * most recently used, D set), evicting nothing.
   */
  access(vpn: number, asid: number, opts: { store?: boolean; global?: boolean; dirty?: boolean } = {}): void {
    const store = opts.store ?? false;
    const hit = this.lookup(vpn, asid);
    if (hit) {
      const e = this.setOf(vpn)[0];
      if (!store || e.dirty) return;
      this.counters.hits--;
      this.counters.misses++;
      this.walks++;
      e.dirty = true;
      this.counters.fills++;
      return;
    }
    this.walks++;
    this.fill(vpn, asid, opts.global ?? false, store || (opts.dirty ?? true));
  }

  /** sfence.vma: `addr`/`asid` undefined means that operand was x0. */
  flush(addrVpn: number | undefined, asid: number | undefined): void {
    const c = this.counters;
    if (addrVpn !== undefined && asid !== undefined) c.flushAddrAsid++;
    else if (addrVpn !== undefined) c.flushAddr++;
    else if (asid !== undefined) c.flushAsid++;
    else c.flushAll++;
    for (let s = 0; s < this.nsets; s++) {
      const keep: RefEntry[] = [];
      for (const e of this.sets[s]) {
        let drop = true;
        if (addrVpn !== undefined && e.vpn !== addrVpn) drop = false;
        if (asid !== undefined && this.asidTags && (e.global || e.asid !== asid)) drop = false;
        if (drop) c.entriesFlushed++;
        else keep.push(e);
      }
      this.sets[s] = keep;
    }
  }

  occupancy(): number {
    let n = 0;
    for (const s of this.sets) n += s.length;
    return n;
  }
}
