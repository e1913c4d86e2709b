/**
 * Shadows kept across guest address-space switches, for the strategies that
 * cache them: looked up by key, ordered by recency of use, and reclaimed
 * least recently used first when their machine pages exceed the budget
 * (`core.budgetPages`).
 */
import { counterId } from "./counters.ts";
import type { ShadowCore } from "./shadow-core.ts";
import type { ShadowTable } from "./shadow-table.ts";

const SHADOW_CREATED = counterId("shadow.created");
const SHADOW_RECLAIMED = counterId("shadow.reclaimed");

export interface CachedShadow {
  /** A small integer naming the address space and view (a number: a switch builds no string). */
  readonly key: number;
  readonly table: ShadowTable;
}

export class ShadowCache<E extends CachedShadow> {
  /** Map iteration order is insertion order: re-inserting on use keeps the LRU at the front. */
  private readonly byKey = new Map<number, E>();

  constructor(
    private readonly core: ShadowCore,
    /** Called before an entry leaves the cache (reclaim or delete), to drop what depends on it. */
    private readonly onEvict: (e: E) => void,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The entry for `key`, made the most recently used; counts a reuse. */
  use(key: number): E | undefined {
    const e = this.byKey.get(key);
    if (e) {
      this.byKey.delete(key);
      this.byKey.set(key, e);
    }
    return e;
  }

  add(e: E): E {
    this.byKey.set(e.key, e);
    this.core.counters.bump(SHADOW_CREATED);
    return e;
  }

  values(): IterableIterator<E> {
    return this.byKey.values();
  }

  /** Remove and destroy an entry. */
  delete(e: E): void {
    if (this.byKey.get(e.key) !== e) return;
    this.onEvict(e);
    this.byKey.delete(e.key);
    e.table.destroy();
  }

  /** Machine pages all cached shadows occupy. */
  pagesUsed(): number {
    let n = 0;
    for (const e of this.byKey.values()) n += e.table.pagesUsed;
    return n;
  }

  /**
   * Reclaim least recently used shadows (never `keep`) until the guest's
   * shadow pages (core.pages, counted as they are allocated) fit the budget.
   * The cost is proportional to the shadows reclaimed, not to the cache.
   */
  reclaim(keep: E): void {
    const budget = this.core.budgetPages;
    if (this.core.pages.used <= budget) return;
    for (const e of this.byKey.values()) {
      if (this.core.pages.used <= budget) break;
      if (e === keep) continue;
      this.delete(e); // deleting the entry being visited is safe in a Map iteration
      this.core.counters.bump(SHADOW_RECLAIMED);
    }
  }

  clear(): void {
    for (const e of [...this.byKey.values()]) this.delete(e);
  }
}
