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

import { IntMap } from "./intmap.ts";
import { xorshift32 } from "./xorshift.ts";

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
  readonly sets: number;
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
  /** The set of each entry; the scratch slot is alone in set `sets`. */
  readonly setOf: Int32Array;
  /**
   * Recency, kept in two parts so that a hit costs a comparison and at most a
   * store or two, and a fill O(1) plus the entries used since the last fill:
   * - a move-to-front list per set (head = most recently used, tail = next
   *   victim; invalid entries kept at the tail), exact as of the set's last
   *   reconciliation;
   * - a stamp per entry: a use gives the entry the next value of `newest`
   *   and, the first time since the reconciliation, lists it as used.
   * Before a set picks a victim (or loses an entry), its used entries move to
   * the front in stamp order: the list is then the order a move-to-front on
   * every use would have made.
   */
  readonly stamp: Float64Array;
  /** The latest stamp given: an entry holding it is the most recent of its set already. */
  newest = 0;
  readonly head: Int32Array;
  private readonly tail: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Per entry: used since its set's last reconciliation. */
  readonly used: Uint8Array;
  /** Per set, from index set * ways: the entries used since the last reconciliation. */
  private readonly usedList: Int32Array;
  private readonly usedCount: Int32Array;
  /**
   * Content index (a CAM in software): key = VPN << 10 | ASID key, where the
   * ASID key is 512 for global entries and 0 for every entry when the TLB is
   * untagged. Megapages have their own index keyed by VPN[1].
   */
  private index: IntMap;
  private megaIndex: IntMap;
  /**
   * Address spaces (H extension): space 0 holds the translations of V=0, space
   * 1 + VMID those of the guests run with that VMID, so entries are tagged
   * with the VMID as well as the ASID. Each space has its own content index;
   * lookups and fills use the selected one (selectSpace).
   */
  private readonly spaceIndex: IntMap[] = [];
  private readonly spaceMega: IntMap[] = [];
  /** The space of each entry. */
  readonly spaceOf: Int32Array;
  /** The selected space. */
  space = 0;
  /** G-stage leaf flags of entries in guest spaces (two-stage translations), 0 elsewhere. */
  readonly gflags: Uint8Array;
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
    this.sets = config.entries / config.ways;
    this.setMask = this.sets - 1;
    const n = config.entries + 1; // + scratch slot
    this.vpn = new Int32Array(n);
    this.asid = new Int32Array(n);
    this.ppn = new Int32Array(n);
    this.flags = new Uint8Array(n);
    this.kind = new Uint8Array(n);
    this.setOf = new Int32Array(n);
    this.stamp = new Float64Array(n).fill(-1); // below every stamp a use gives
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.head = new Int32Array(this.sets + 1);
    this.tail = new Int32Array(this.sets + 1);
    this.used = new Uint8Array(n);
    this.usedList = new Int32Array(n);
    this.usedCount = new Int32Array(this.sets + 1);
    for (let set = 0; set <= this.sets; set++) {
      const first = set * this.ways;
      const last = set === this.sets ? first : first + this.ways - 1;
      this.head[set] = first;
      this.tail[set] = last;
      for (let i = first; i <= last; i++) {
        this.setOf[i] = set;
        this.prev[i] = i === first ? -1 : i - 1;
        this.next[i] = i === last ? -1 : i + 1;
      }
    }
    this.index = new IntMap(config.entries);
    this.megaIndex = new IntMap(config.entries);
    this.spaceIndex[0] = this.index;
    this.spaceMega[0] = this.megaIndex;
    this.spaceOf = new Int32Array(n);
    this.gflags = new Uint8Array(n);
    this.rng = config.seed >>> 0 || 1;
  }

  /** Make `space` the one lookups and fills use (0 = V=0; 1 + VMID for guests). */
  selectSpace(space: number): void {
    if (space === this.space) return;
    if (this.spaceIndex[space] === undefined) {
      this.spaceIndex[space] = new IntMap(this.entries);
      this.spaceMega[space] = new IntMap(this.entries);
    }
    this.space = space;
    this.index = this.spaceIndex[space];
    this.megaIndex = this.spaceMega[space];
  }

  /** Index of the scratch slot used by memos when translation is off (always its set's MRU). */
  get scratch(): number {
    return this.entries;
  }

  private key(vpn: number, asid: number, global: boolean): number {
    return (vpn << 10) | (global ? 512 : this.config.asidTags ? asid : 0);
  }

  /**
   * Find the entry translating `vpn` for `asid`; counts the lookup and its hit
   * or miss and makes a hit the most recently used of its set. Returns the
   * entry index or -1.
   */
  lookup(vpn: number, asid: number): number {
    const c = this.counters;
    c.lookups++;
    const i = this.find(vpn, asid);
    if (i < 0) {
      c.misses++;
      return -1;
    }
    c.hits++;
    this.touch(i);
    return i;
  }

  /** The entry that translates vpn for asid, without counting or reordering; -1 when none. */
  find(vpn: number, asid: number): number {
    let i = this.index.get(this.key(vpn, asid, false));
    if (i < 0) i = this.index.get(this.key(vpn, 0, true));
    if (i < 0 && this.megaIndex.size > 0) {
      const vpn1 = vpn >>> 10;
      i = this.megaIndex.get(this.key(vpn1, asid, false));
      if (i < 0) i = this.megaIndex.get(this.key(vpn1, 0, true));
    }
    return i;
  }

  /**
   * Make entry i the most recently used of its set. An entry holding the
   * newest stamp already is (memos call this on the accesses they serve, or
   * compare the stamp themselves first).
   */
  touch(i: number): void {
    if (this.stamp[i] === this.newest) return;
    this.stamp[i] = ++this.newest;
    if (this.used[i] === 0) this.markUsed(i);
  }

  /** List entry i as used since its set's reconciliation (a hit path that stamped it inline calls this when used[i] is 0). */
  markUsed(i: number): void {
    this.used[i] = 1;
    const set = this.setOf[i];
    this.usedList[set * this.ways + this.usedCount[set]++] = i;
  }

  /** Bring a set's list up to date: its used entries to the front, the most recent first. */
  private reconcile(set: number): void {
    const n = this.usedCount[set];
    if (n === 0) return;
    const list = this.usedList;
    const stamp = this.stamp;
    const first = set * this.ways;
    // Insertion sort by stamp, ascending: the entries used since the last fill are few.
    for (let a = first + 1; a < first + n; a++) {
      const e = list[a];
      const key = stamp[e];
      let b = a - 1;
      while (b >= first && stamp[list[b]] > key) {
        list[b + 1] = list[b];
        b--;
      }
      list[b + 1] = e;
    }
    for (let a = first; a < first + n; a++) {
      const e = list[a];
      this.used[e] = 0;
      this.toFront(e, set);
    }
    this.usedCount[set] = 0;
  }

  private toFront(i: number, set: number): void {
    if (this.head[set] === i) return;
    this.unlink(i, set);
    const h = this.head[set];
    this.prev[i] = -1;
    this.next[i] = h;
    this.prev[h] = i;
    this.head[set] = i;
  }

  /** Make entry i the least recently used of its set (the next victim). */
  private demote(i: number): void {
    const set = this.setOf[i];
    this.reconcile(set);
    // No longer the most recent, whatever its stamp said: its next use must move it.
    this.stamp[i] = -1;
    if (this.tail[set] === i) return;
    this.unlink(i, set);
    const t = this.tail[set];
    this.next[i] = -1;
    this.prev[i] = t;
    this.next[t] = i;
    this.tail[set] = i;
  }

  private unlink(i: number, set: number): void {
    const p = this.prev[i];
    const n = this.next[i];
    if (p >= 0) this.next[p] = n;
    else this.head[set] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[set] = p;
  }

  /** The least recently used entry of a set (a dropped or never-filled one when there is one). */
  private lru(set: number): number {
    this.reconcile(set);
    return this.tail[set];
  }

  /**
   * Install a translation (after a successful walk that followed a miss).
   * Replaces an entry for the same tag if present, else an invalid way, else
   * the victim chosen by the replacement policy. Returns the entry index.
   */
  fill(vpn: number, asid: number, ppn: number, flags: number, mega: boolean): number {
    const tag = mega ? vpn & ~0x3ff : vpn;
    const global = (flags & PTE.G) !== 0;
    const key = this.key(mega ? vpn >>> 10 : vpn, asid, global);
    const map = mega ? this.megaIndex : this.index;
    let i = map.get(key); // refresh of the same translation (e.g. D now set)
    if (i < 0) i = this.victim((mega ? vpn >>> 10 : vpn) & this.setMask);
    if (this.kind[i] !== 0) this.drop(i);
    this.kind[i] = mega ? 2 : 1;
    this.vpn[i] = tag;
    this.asid[i] = asid;
    this.ppn[i] = mega ? ppn & ~0x3ff : ppn;
    this.flags[i] = flags;
    this.spaceOf[i] = this.space;
    this.gflags[i] = 0;
    map.set(key, i);
    this.touch(i);
    this.counters.fills++;
    return i;
  }

  private victim(set: number): number {
    const lru = this.lru(set);
    if (this.kind[lru] === 0) return lru;
    this.counters.evictions++;
    if (this.config.replacement === "random") return set * this.ways + (this.nextRandom() % this.ways);
    return lru;
  }

  /** xorshift32: deterministic for a given seed. */
  private nextRandom(): number {
    this.rng = xorshift32(this.rng);
    return this.rng;
  }

  private drop(i: number): void {
    const mega = this.kind[i] === 2;
    const global = (this.flags[i] & PTE.G) !== 0;
    const key = this.key(mega ? this.vpn[i] >>> 10 : this.vpn[i], this.asid[i], global);
    const space = this.spaceOf[i];
    const map = mega ? this.spaceMega[space] : this.spaceIndex[space];
    if (map.get(key) === i) map.delete(key);
    this.kind[i] = 0;
    this.demote(i);
    this.onDrop(i);
  }

  /**
   * sfence.vma semantics (privileged spec 4.2.1). `hasAddr`/`hasAsid` say
   * whether rs1/rs2 were registers other than x0. Without ASID tags the TLB
   * cannot tell address spaces apart, so an sfence that names an ASID drops
   * every entry it would drop for all ASIDs (globals included). It acts on
   * the selected space only (sfence.vma at V=0; hfence.vvma in the guest's).
   */
  flush(hasAddr: boolean, vaddr: number, hasAsid: boolean, asid: number): void {
    const c = this.counters;
    if (hasAddr && hasAsid) c.flushAddrAsid++;
    else if (hasAddr) c.flushAddr++;
    else if (hasAsid) c.flushAsid++;
    else c.flushAll++;
    const byAsid = hasAsid && this.config.asidTags;
    const vpn = vaddr >>> 12;
    const space = this.space;
    for (let i = 0; i < this.entries; i++) {
      const kind = this.kind[i];
      if (kind === 0 || this.spaceOf[i] !== space) continue;
      if (hasAddr && this.vpn[i] !== (kind === 2 ? vpn & ~0x3ff : vpn)) continue;
      if (byAsid && (this.asid[i] !== asid || (this.flags[i] & PTE.G) !== 0)) continue;
      this.drop(i);
      c.entriesFlushed++;
    }
  }

  /**
   * Drop every entry of a guest space (hfence.gvma: the TLB holds combined
   * translations, so a fence of one guest-physical page names them all), or
   * of every guest space when `space` is undefined. Returns how many.
   */
  flushGuest(space: number | undefined): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) {
      if (this.kind[i] === 0) continue;
      const s = this.spaceOf[i];
      if (s === 0 || (space !== undefined && s !== space)) continue;
      this.drop(i);
      this.counters.entriesFlushed++;
      n++;
    }
    return n;
  }

  /** Number of valid entries (for tests and reports). */
  occupancy(): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.kind[i] !== 0) n++;
    return n;
  }
}
