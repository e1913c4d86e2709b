/**
 * The TLB model. Its shape is part of the experiment: entries, associativity,
 * replacement, and whether entries carry ASID tags are configuration, and
 * every lookup, hit, miss, flush and eviction is counted exactly.
 *
 * Storage is a set of parallel typed arrays indexed by entry number
 * (set * ways + way) so that lookups allocate nothing. One extra slot at the
 * end (index `entries`) is a scratch entry: the hart's per-access memos point
 * at it when translation is off, so their fast path can stamp it without a
 * branch.
 *
 * Megapages: a 4 MiB entry is stored in the set chosen by its VPN[1] bits and
 * matched on VPN[1] only; a lookup probes the 4 KiB set first and the
 * megapage set second (only while the TLB holds megapage entries). Both
 * probes together count as one lookup.
 */

export type Replacement = "lru" | "random";

export interface TlbConfig {
  /** Number of entries (power of two). */
  entries: number;
  /** Ways per set; equal to entries for a fully associative TLB. */
  ways: number;
  replacement: Replacement;
  /** Entries are tagged with the ASID of satp when filled. */
  asidTags: boolean;
  /** Seed of the pseudo-random replacement (deterministic runs). */
  seed: number;
}

export const DEFAULT_TLB: TlbConfig = { entries: 64, ways: 64, replacement: "lru", asidTags: true, seed: 1 };

/** PTE permission bits (privileged spec 4.3.1, figure 4.18). */
export const PTE = { V: 1, R: 2, W: 4, X: 8, U: 16, G: 32, A: 64, D: 128 } as const;

export interface TlbCounters {
  lookups: number;
  hits: number;
  misses: number;
  flushAll: number;
  flushAddr: number;
  flushAsid: number;
  flushAddrAsid: number;
  /** Entries dropped by flushes. */
  entriesFlushed: number;
  /** Valid entries replaced to make room for a fill. */
  evictions: number;
  fills: number;
}

export function validateTlbConfig(c: TlbConfig): string | undefined {
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(c.entries) || c.entries > 65536)
    return `tlb entries must be a power of two from 1 to 65536 (got ${c.entries})`;
  if (!pow2(c.ways) || c.ways > c.entries)
    return `tlb ways must be a power of two from 1 to entries=${c.entries} (got ${c.ways})`;
  if (c.replacement !== "lru" && c.replacement !== "random")
    return `tlb replacement must be "lru" or "random" (got ${String(c.replacement)})`;
  return undefined;
}

export class Tlb {
  readonly config: TlbConfig;
  readonly entries: number;
  readonly ways: number;
  private readonly setMask: number;
  /** Tag: VPN for 4 KiB entries, VPN with the low 10 bits clear for megapages. */
  readonly vpn: Int32Array;
  readonly asid: Int32Array;
  /** Physical page number of the (first 4 KiB page of the) mapping. */
  readonly ppn: Int32Array;
  /** PTE bits 7:0 as they were when filled (A and D as set by the walker). */
  readonly flags: Uint8Array;
  /** 0 = invalid, 1 = 4 KiB page, 2 = 4 MiB megapage. */
  readonly kind: Uint8Array;
  /** LRU stamps: higher is more recent. */
  readonly stamp: Float64Array;
  clock = 0;
  private megaCount = 0;
  private rng: number;
  readonly counters: TlbCounters = {
    lookups: 0,
    hits: 0,
    misses: 0,
    flushAll: 0,
    flushAddr: 0,
    flushAsid: 0,
    flushAddrAsid: 0,
    entriesFlushed: 0,
    evictions: 0,
    fills: 0,
  };
  /** Called with an entry index whenever that entry is replaced or dropped. */
  onDrop: (index: number) => void = () => {};

  constructor(config: TlbConfig) {
    const problem = validateTlbConfig(config);
    if (problem) throw new RangeError(problem);
    this.config = { ...config };
    this.entries = config.entries;
    this.ways = config.ways;
    this.setMask = config.entries / config.ways - 1;
    const n = config.entries + 1; // + scratch slot
    this.vpn = new Int32Array(n);
    this.asid = new Int32Array(n);
    this.ppn = new Int32Array(n);
    this.flags = new Uint8Array(n);
    this.kind = new Uint8Array(n);
    this.stamp = new Float64Array(n);
    this.rng = config.seed >>> 0 || 1;
  }

  /** Index of the scratch slot used by memos when translation is off. */
  get scratch(): number {
    return this.entries;
  }

  /**
   * Find the entry translating `vpn` for `asid`; counts the lookup and its hit
   * or miss. Returns the entry index or -1.
   */
  lookup(vpn: number, asid: number): number {
    const c = this.counters;
    c.lookups++;
    let i = this.probe(vpn & this.setMask, vpn, asid, 1);
    if (i < 0 && this.megaCount > 0) i = this.probe((vpn >>> 10) & this.setMask, vpn & ~0x3ff, asid, 2);
    if (i < 0) {
      c.misses++;
      return -1;
    }
    c.hits++;
    this.stamp[i] = ++this.clock;
    return i;
  }

  private probe(set: number, tag: number, asid: number, kind: number): number {
    const start = set * this.ways;
    const end = start + this.ways;
    const tagged = this.config.asidTags;
    for (let i = start; i < end; i++) {
      if (this.kind[i] === kind && this.vpn[i] === tag) {
        if (!tagged || this.asid[i] === asid || (this.flags[i] & PTE.G) !== 0) return i;
      }
    }
    return -1;
  }

  /**
   * Install a translation (after a successful walk that followed a miss).
   * Replaces an entry for the same tag if present, else an invalid way, else
   * the victim chosen by the replacement policy. Returns the entry index.
   */
  fill(vpn: number, asid: number, ppn: number, flags: number, mega: boolean): number {
    const kind = mega ? 2 : 1;
    const tag = mega ? vpn & ~0x3ff : vpn;
    const set = (mega ? vpn >>> 10 : vpn) & this.setMask;
    const i = this.chooseWay(set, tag, asid, kind);
    if (this.kind[i] !== 0) this.drop(i);
    this.kind[i] = kind;
    this.vpn[i] = tag;
    this.asid[i] = asid;
    this.ppn[i] = mega ? ppn & ~0x3ff : ppn;
    this.flags[i] = flags;
    this.stamp[i] = ++this.clock;
    if (mega) this.megaCount++;
    this.counters.fills++;
    return i;
  }

  private chooseWay(set: number, tag: number, asid: number, kind: number): number {
    const start = set * this.ways;
    const end = start + this.ways;
    let free = -1;
    for (let i = start; i < end; i++) {
      if (this.kind[i] === 0) {
        if (free < 0) free = i;
      } else if (this.kind[i] === kind && this.vpn[i] === tag && this.asid[i] === asid) {
        return i; // refresh of the same translation (e.g. D bit now set)
      }
    }
    if (free >= 0) return free;
    this.counters.evictions++;
    if (this.config.replacement === "random") return start + (this.nextRandom() % this.ways);
    let victim = start;
    for (let i = start + 1; i < end; i++) if (this.stamp[i] < this.stamp[victim]) victim = i;
    return victim;
  }

  /** xorshift32: deterministic for a given seed. */
  private nextRandom(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  private drop(i: number): void {
    if (this.kind[i] === 2) this.megaCount--;
    this.kind[i] = 0;
    this.onDrop(i);
  }

  /**
   * sfence.vma semantics (privileged spec 4.2.1). `hasAddr`/`hasAsid` say
   * whether rs1/rs2 were registers other than x0. Without ASID tags the TLB
   * cannot tell address spaces apart, so an sfence that names an ASID drops
   * every entry it would drop for all ASIDs (globals included).
   */
  flush(hasAddr: boolean, vaddr: number, hasAsid: boolean, asid: number): void {
    const c = this.counters;
    if (hasAddr && hasAsid) c.flushAddrAsid++;
    else if (hasAddr) c.flushAddr++;
    else if (hasAsid) c.flushAsid++;
    else c.flushAll++;
    const byAsid = hasAsid && this.config.asidTags;
    const vpn = vaddr >>> 12;
    for (let i = 0; i < this.entries; i++) {
      const kind = this.kind[i];
      if (kind === 0) continue;
      if (hasAddr && this.vpn[i] !== (kind === 2 ? vpn & ~0x3ff : vpn)) continue;
      if (byAsid && (this.asid[i] !== asid || (this.flags[i] & PTE.G) !== 0)) continue;
      this.drop(i);
      c.entriesFlushed++;
    }
  }

  /** Number of valid entries (for tests and reports). */
  occupancy(): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.kind[i] !== 0) n++;
    return n;
  }
}
