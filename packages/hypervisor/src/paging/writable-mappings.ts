/**
 * shadow-proactive's reverse map of writable shadow mappings: for each guest
 * RAM page, the (shadow table, va) pairs that map it writable, so that a page
 * that becomes a page table can be write-protected in every shadow (KVM's
 * rmap). A fill adds one pair; write-protecting a page takes its pairs.
 *
 * The pairs of all pages live in one pool of parallel arrays, chained per
 * page in the order they were added, with freed slots reused: adding a pair
 * allocates nothing (the pool doubles when full, amortized). A page's chain
 * is pruned of pairs that no longer map it writable when it has doubled
 * since its last pruning, so mappings that were dropped do not pile up.
 */
import type { ShadowTable } from "../shadow-table.ts";

const NONE = -1;
/** A chain is first pruned past this many pairs. */
const FIRST_PRUNE = 8;

/** Whether `table` still maps guest page `page` (index into guest RAM) writable at `va`. */
export type StillWritable = (table: ShadowTable, va: number, page: number) => boolean;

/** Told each pair of a page being taken, in the order they were added. */
export type VisitMapping = (table: ShadowTable, va: number, page: number) => void;

export class WritableMappings {
  /** First and last slot of each page's chain (NONE: empty). */
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** Pairs in each page's chain, and the length past which it is pruned next. */
  private readonly count: Int32Array;
  private readonly pruneAt: Int32Array;
  /** The pool: table, va (as int32) and next slot of each pair. */
  private tables: (ShadowTable | undefined)[] = [];
  private vas = new Int32Array(256);
  private next = new Int32Array(256);
  /** Slots handed out from the pool's end so far, and the first reusable slot (chained through next). */
  private used = 0;
  private free = NONE;

  constructor(
    pages: number,
    private readonly stillWritable: StillWritable,
  ) {
    this.head = new Int32Array(pages).fill(NONE);
    this.tail = new Int32Array(pages).fill(NONE);
    this.count = new Int32Array(pages);
    this.pruneAt = new Int32Array(pages).fill(FIRST_PRUNE);
  }

  /** Remember that `table` maps guest page `page` writable at `va`. */
  add(page: number, table: ShadowTable, va: number): void {
    const n = this.slot();
    this.tables[n] = table;
    this.vas[n] = va | 0;
    this.next[n] = NONE;
    if (this.head[page] === NONE) this.head[page] = n;
    else this.next[this.tail[page]] = n;
    this.tail[page] = n;
    if (++this.count[page] > this.pruneAt[page]) this.prune(page);
  }

  /** Visit every pair of `page` in the order added, and forget them all. */
  take(page: number, visit: VisitMapping): void {
    let n = this.head[page];
    this.head[page] = NONE;
    this.tail[page] = NONE;
    this.count[page] = 0;
    this.pruneAt[page] = FIRST_PRUNE;
    while (n !== NONE) {
      const after = this.next[n];
      visit(this.tables[n] as ShadowTable, this.vas[n] >>> 0, page);
      this.release(n);
      n = after;
    }
  }

  /** Forget everything. */
  clear(): void {
    this.head.fill(NONE);
    this.tail.fill(NONE);
    this.count.fill(0);
    this.pruneAt.fill(FIRST_PRUNE);
    this.tables = [];
    this.used = 0;
    this.free = NONE;
  }

  /** Drop the pairs of `page` that no longer map it writable (order kept); prune again when the chain doubles. */
  private prune(page: number): void {
    let kept = 0;
    let last = NONE;
    let n = this.head[page];
    this.head[page] = NONE;
    while (n !== NONE) {
      const after = this.next[n];
      if (this.stillWritable(this.tables[n] as ShadowTable, this.vas[n] >>> 0, page)) {
        if (last === NONE) this.head[page] = n;
        else this.next[last] = n;
        last = n;
        kept++;
      } else {
        this.release(n);
      }
      n = after;
    }
    if (last !== NONE) this.next[last] = NONE;
    this.tail[page] = last;
    this.count[page] = kept;
    this.pruneAt[page] = Math.max(FIRST_PRUNE, 2 * kept);
  }

  private slot(): number {
    const n = this.free;
    if (n !== NONE) {
      this.free = this.next[n];
      return n;
    }
    if (this.used === this.vas.length) this.grow();
    return this.used++;
  }

  private release(n: number): void {
    this.tables[n] = undefined;
    this.next[n] = this.free;
    this.free = n;
  }

  private grow(): void {
    const vas = new Int32Array(this.vas.length * 2);
    vas.set(this.vas);
    const next = new Int32Array(this.next.length * 2);
    next.set(this.next);
    this.vas = vas;
    this.next = next;
  }
}
