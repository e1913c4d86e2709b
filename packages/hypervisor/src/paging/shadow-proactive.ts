/**
 * shadow-proactive: one shadow per guest address space (keyed by the guest's
 * root table and the view), kept across switches, and kept right by
 * write-protecting the guest's page tables instead of waiting for sfence.vma.
 *
 * Every guest page found serving as a page table (root or level 0) while
 * filling is tracked in a reverse map — page-table page -> the shadows and
 * root indexes that depend on it — and mapped read-only in every shadow,
 * active or not. A guest store to it traps; the monitor's shared machinery
 * performs the store on guest memory, and this strategy drops exactly the
 * shadow entries the written PTE feeds (refilled on their next use).
 *
 * Recycling rule (KVM's write flooding): a tracked page that takes more than
 * FLOOD_WRITES emulated writes with no use as a page table in between is
 * taken to have been freed and reused as data; it is unshadowed (no longer
 * protected, and the shadow state built from it is dropped). A root entry
 * that stops pointing at a level-0 table also releases that table when no
 * other shadow uses it. Every store-like instruction (sb/sh/sw, SC, every
 * AMO) that hits a protected table is emulated exactly once (store-like.ts),
 * with the result, memory and reservation the hart would have produced.
 *
 * sfence.vma needs no shadow work: every PTE write has already been applied
 * (and the machine TLB flushed for it), so it is only counted.
 */
import { ACCESS_STORE, type Access, type ObjectState, RAM_BASE, restoreState } from "@shadowlab/emu-core";
import { counterId } from "../counters.ts";
import { type CachedShadow, ShadowCache } from "../shadow-cache.ts";
import type { ShadowCore } from "../shadow-core.ts";
import type { ShadowTable } from "../shadow-table.ts";
import {
  FAULT,
  type Fault,
  type FaultOutcome,
  type PagingStrategy,
  SHADOW_MODES,
  shadowFault,
  strategyCheckpoint,
} from "./strategy.ts";
import { WritableMappings } from "./writable-mappings.ts";

// Counter ids, resolved once (counters.ts): counting builds no name.
const SHADOW_REUSED = counterId("shadow.reused");
const SHADOW_SWITCH = counterId("shadow.switch");
const SHADOW_SFENCE_NOTHING_TO_DO = counterId("shadow.sfence_nothing_to_do");
const SHADOW_PT_TRACKED = counterId("shadow.pt_tracked");
const SHADOW_WRITE_PROTECTED = counterId("shadow.write_protected");
const SHADOW_FLOODED = counterId("shadow.flooded");
const EXIT_WP_FAULT = counterId("exit.wp_fault");
const SHADOW_PTE_WRITE = counterId("shadow.pte_write");
const SHADOW_ENTRIES_FLUSHED = counterId("shadow.entries_flushed");
const SHADOW_UNSHADOWED = counterId("shadow.unshadowed");

/** KVM zaps a shadowed table after three emulated writes with no use in between (mmu_flooded). */
export const FLOOD_WRITES = 3;

interface ProactiveShadow extends CachedShadow {
  /** Guest-physical page of the guest's root table; -1 for the bare (no translation) shadow. */
  readonly rootGppn: number;
  readonly id: number;
  /**
   * The page tables it depends on, as (gppn, parent key) pairs, so that
   * forgetting it costs what it depends on, not every tracked page.
   */
  readonly deps: number[];
  /**
   * What a fill already knows it registered, so that the fills that follow find it without a
   * lookup: whether the root is among its parent entries, and the guest page registered as its
   * level-0 table at each root index (gppn + 1; 0: unknown). Cleared when that entry goes.
   */
  rootListed: boolean;
  readonly leafListed: Int32Array;
}

interface Parent {
  shadow: ProactiveShadow;
  /** The root index the page serves at (-1: it is that shadow's root). */
  index: number;
}

/** A guest page serving as a page table (its emulated writes are in ShadowProactive.ptWrites). */
interface PtPage {
  /** Who depends on it, by parentKey (a page shared by thousands of address spaces is looked up in O(1)). */
  parents: Map<number, Parent>;
}

/** Guest-physical page number of guest RAM's first page (page tables are in guest RAM: the walk reads them). */
const RAM_GPPN = RAM_BASE / 4096;

const parentKey = (shadow: ProactiveShadow, index: number): number => shadow.id * 1025 + index + 1;

const V = 1;
const R = 2;
const W = 4;
const X = 8;

export class ShadowProactive implements PagingStrategy {
  readonly name = "shadow-proactive";
  readonly modes = SHADOW_MODES;
  private readonly cache: ShadowCache<ProactiveShadow>;
  private readonly ptPages = new Map<number, PtPage>();
  /**
   * By guest RAM page (gppn - RAM_GPPN): emulated writes since the page was last used as a page
   * table, -1 when it is not tracked (is ptPages.has, without hashing on every fill).
   */
  private readonly ptWrites: Int32Array;
  /** Writable shadow mappings by guest RAM page, so a page that becomes a page table can be write-protected everywhere. */
  private readonly writable: WritableMappings;
  /** writeProtectOne, bound once (taking a page's mappings creates no closure). */
  private readonly protectOne = (table: ShadowTable, va: number, page: number): void =>
    this.writeProtectOne(table, va, page + RAM_GPPN);
  private active: ProactiveShadow | undefined;
  /** The guest root and view `active` was chosen for (-2: none): exits between switches skip the key and the cache. */
  private activeRoot = -2;
  private activeView = -1;
  private nextId = 0;
  /** Scratch for guestPteWrite: the parents of the page written. */
  private readonly parentsNow: Parent[] = [];

  constructor(private readonly core: ShadowCore) {
    this.cache = new ShadowCache<ProactiveShadow>(core, (e) => this.forget(e));
    const guestPages = core.memory.size / 4096;
    this.ptWrites = new Int32Array(guestPages).fill(-1);
    this.writable = new WritableMappings(guestPages, (table, va, page) =>
      this.mapsWritable(table, va, page + RAM_GPPN),
    );
  }

  /** Whether guest page `gppn` is tracked as a page table. */
  private tracked(gppn: number): boolean {
    const i = gppn - RAM_GPPN;
    return i >= 0 && i < this.ptWrites.length && this.ptWrites[i] >= 0;
  }

  /** Stop tracking guest page `gppn` (its parent entries are gone). */
  private untrack(gppn: number): void {
    this.ptPages.delete(gppn);
    this.ptWrites[gppn - RAM_GPPN] = -1;
  }

  private current(): ProactiveShadow {
    const v = this.core.vcpu;
    const rootGppn = v.satp < 0 ? v.satp & 0x3fffff : -1;
    const view = v.viewKey();
    // Already the most recently used: only a switch makes another shadow current.
    if (this.active !== undefined && rootGppn === this.activeRoot && view === this.activeView)
      return this.active;
    const key = (rootGppn + 1) * 8 + view; // view keys are 0..7
    let e = this.cache.use(key);
    if (e) {
      if (e !== this.active) this.core.counters.bump(SHADOW_REUSED);
    } else {
      e = this.cache.add({
        key,
        table: this.core.newTable(),
        rootGppn,
        id: this.nextId++,
        deps: [],
        rootListed: false,
        leafListed: new Int32Array(1024),
      });
      this.cache.reclaim(e);
    }
    this.active = e;
    this.activeRoot = rootGppn;
    this.activeView = view;
    return e;
  }

  root(): number {
    return this.current().table.root;
  }

  asid(): number {
    return 0;
  }

  onSatpWrite(): void {
    this.core.counters.bump(SHADOW_SWITCH);
  }

  onSfence(): void {
    this.core.counters.bump(SHADOW_SFENCE_NOTHING_TO_DO);
  }

  onViewChange(): void {}

  onPageFault(va: number, access: Access): FaultOutcome {
    const core = this.core;
    const e = this.current();
    const outcome = core.resolveGuest(va, access);
    if (outcome !== FAULT.FILLED) return outcome;
    const w = core.walk;
    const gppn = w.gppn;
    // Track the tables of this walk first: a store may target one of them (a kernel
    // mapping its own root table), and then it must be emulated like any other.
    if (w.pteAddr >= 0) {
      this.usedAsTable(w.rootPteAddr >>> 12, e, -1);
      if (!w.mega) this.usedAsTable(w.pteAddr >>> 12, e, (w.rootPteAddr & 0xfff) >>> 2);
    }
    const readOnly = this.tracked(gppn);
    if (access === ACCESS_STORE && readOnly) return this.storeToTable(va, gppn);
    const flags = core.install(e.table, va, access, readOnly);
    if (!readOnly && (flags & W) !== 0) this.writable.add(gppn - RAM_GPPN, e.table, va);
    this.cache.reclaim(e);
    return FAULT.FILLED;
  }

  /**
   * A store-like instruction into a write-protected page table: emulated here,
   * exactly once. When the write floods the page it is unshadowed and the
   * fault handled again: the page is plain data then (the store runs
   * natively), unless this very walk uses it as a table, in which case it is
   * tracked anew and the store emulated.
   */
  private storeToTable(va: number, gppn: number): FaultOutcome {
    if (this.guestPteWrite(gppn, gppn * 4096 + (va & 0xfff))) return FAULT.EMULATED;
    return this.onPageFault(va, ACCESS_STORE);
  }

  /** Note that `gppn` serves `shadow` as a page table at `index`; protect it the first time. */
  private usedAsTable(gppn: number, shadow: ProactiveShadow, index: number): void {
    const i = gppn - RAM_GPPN;
    const listed = index < 0 ? shadow.rootListed : shadow.leafListed[index] === gppn + 1;
    if (listed && this.ptWrites[i] >= 0) {
      this.ptWrites[i] = 0; // the usual fill: tracked, and this parent already listed
      return;
    }
    let p = this.ptPages.get(gppn);
    if (!p) {
      p = { parents: new Map() };
      this.ptPages.set(gppn, p);
      this.core.counters.bump(SHADOW_PT_TRACKED);
      this.writeProtect(gppn);
    }
    this.ptWrites[i] = 0;
    const key = parentKey(shadow, index);
    if (!p.parents.has(key)) {
      p.parents.set(key, { shadow, index });
      shadow.deps.push(gppn, key);
    }
    if (index < 0) shadow.rootListed = true;
    else shadow.leafListed[index] = gppn + 1;
  }

  /** The parent entry (shadow, index) of page `gppn` is gone: forget that a fill listed it. */
  private unlisted(gppn: number, shadow: ProactiveShadow, index: number): void {
    if (index < 0) shadow.rootListed = false;
    else if (shadow.leafListed[index] === gppn + 1) shadow.leafListed[index] = 0;
  }

  private mapsWritable(table: ShadowTable, va: number, gppn: number): boolean {
    if (table.destroyed) return false;
    const pte = table.get(va);
    return (pte & (V | W)) === (V | W) && pte >>> 10 === this.core.memory.machinePpn(gppn * 4096);
  }

  /** Take write permission away from every shadow mapping of a guest page (active shadows or not). */
  private writeProtect(gppn: number): void {
    this.writable.take(gppn - RAM_GPPN, this.protectOne);
  }

  /** One remembered mapping of a page becoming a page table: read-only from now on, if it still grants write. */
  private writeProtectOne(table: ShadowTable, va: number, gppn: number): void {
    if (!this.mapsWritable(table, va, gppn)) return;
    const pte = table.get(va);
    table.set(va, pte >>> 10, pte & 0x3ff & ~W);
    this.core.counters.bump(SHADOW_WRITE_PROTECTED);
    if (table === this.active?.table) this.core.flushMachine(va);
  }

  /**
   * A guest store into one of its page tables: perform it, then drop the
   * shadow entries the written PTE feeds. Returns false when the page was
   * unshadowed instead (flooding, or a store that cannot be emulated).
   */
  private guestPteWrite(gppn: number, gpa: number): boolean {
    const c = this.core.counters;
    const p = this.ptPages.get(gppn);
    if (!p) return false;
    if (++this.ptWrites[gppn - RAM_GPPN] > FLOOD_WRITES) {
      c.bump(SHADOW_FLOODED);
      this.unshadow(gppn);
      return false;
    }
    const pteAddr = gpa & ~3;
    const old = this.core.memory.read32(pteAddr);
    if (this.core.emulateStore(gpa) === 0) {
      // Only store-like instructions take store faults, and the machine checks alignment
      // before translation: this is a monitor bug, so stop the guest with the reason.
      throw new Error(
        `shadow-proactive: the store at pc 0x${(this.core.hart.pc >>> 0).toString(16)} into a guest page table could not be emulated`,
      );
    }
    // The exit is counted here, once: a write that unshadows instead ends as a hidden fault.
    c.bump(EXIT_WP_FAULT);
    c.bump(SHADOW_PTE_WRITE);
    const j = (pteAddr & 0xfff) >>> 2;
    // The parents as they are now (releaseChild may edit them when a root maps itself as a
    // level-0 table), copied into a reused array: the exit allocates nothing.
    const parents = this.parentsNow;
    let n = 0;
    for (const parent of p.parents.values()) parents[n++] = parent;
    for (let k = 0; k < n; k++) {
      const { shadow, index } = parents[k];
      parents[k] = undefined as unknown as Parent; // hold no shadow past this exit
      if (index === -1) {
        c.bump(SHADOW_ENTRIES_FLUSHED, shadow.table.dropRegion(j));
        this.releaseChild(old, shadow, j);
        if (shadow === this.active) this.core.flushMachine();
      } else {
        const va = ((index << 22) | (j << 12)) >>> 0;
        if (shadow.table.drop(va)) c.bump(SHADOW_ENTRIES_FLUSHED);
        if (shadow === this.active) this.core.flushMachine(va);
      }
    }
    return true;
  }

  /** A root entry that pointed at a level-0 table no longer does: that table stops serving this shadow there. */
  private releaseChild(oldPte: number, shadow: ProactiveShadow, index: number): void {
    if ((oldPte & V) === 0 || (oldPte & (R | W | X)) !== 0) return; // not a pointer to a table
    const child = oldPte >>> 10;
    const p = this.ptPages.get(child);
    if (!p) return;
    if (p.parents.delete(parentKey(shadow, index))) this.unlisted(child, shadow, index);
    if (p.parents.size === 0) {
      this.untrack(child);
      this.core.counters.bump(SHADOW_UNSHADOWED);
    }
  }

  /** Stop treating a page as a page table: drop every shadow state built from it. */
  private unshadow(gppn: number): void {
    const p = this.ptPages.get(gppn);
    if (!p) return;
    this.untrack(gppn);
    this.core.counters.bump(SHADOW_UNSHADOWED);
    for (const { shadow, index } of [...p.parents.values()]) {
      this.unlisted(gppn, shadow, index);
      if (index === -1) {
        this.cache.delete(shadow); // it was this shadow's root
      } else {
        this.core.counters.bump(SHADOW_ENTRIES_FLUSHED, shadow.table.dropRegion(index));
      }
      if (shadow === this.active) this.core.flushMachine();
    }
    if (this.active?.table.destroyed) this.active = undefined;
  }

  /** A shadow leaves the cache: it no longer depends on any page table. */
  private forget(e: ProactiveShadow): void {
    if (e === this.active) this.activeRoot = -2;
    for (let i = 0; i < e.deps.length; i += 2) {
      const p = this.ptPages.get(e.deps[i]);
      if (p?.parents.get(e.deps[i + 1])?.shadow !== e) continue;
      p.parents.delete(e.deps[i + 1]);
      if (p.parents.size === 0) this.untrack(e.deps[i]);
    }
    if (this.active === e) {
      this.active = undefined;
      this.core.flushMachine();
    }
  }

  onFault(fault: Fault): FaultOutcome {
    return shadowFault(this, fault);
  }

  checkpoint(): ObjectState {
    return strategyCheckpoint(this, this.core);
  }

  restore(state: ObjectState): void {
    restoreState(state);
    this.activeRoot = -2;
  }

  dispose(): void {
    this.cache.clear();
    this.ptPages.clear();
    this.ptWrites.fill(-1);
    this.writable.clear();
  }
}
