/**
 * The translated-code cache of one hart: blocks by physical RAM page and
 * word, compiled once a start address has been dispatched HOT times, dropped
 * when their code is written.
 *
 * Blocks are cached by physical address alone. What they compute does not
 * depend on the privilege or translation context: every memory access goes
 * through the hart's memos and slow paths, which carry the context, pc-relative
 * values use the virtual pc the block is entered at, and a block never
 * crosses a page, so each of its fetches is served by the fetch memo the run
 * loop filled for its first instruction. One block serves every mapping of
 * its page, V mode and two-stage translation included.
 *
 * Coherence is by word, like the decoded-instruction cache: each page keeps a
 * bitmap of the words its blocks cover, and a store to a covered word (any
 * store: the hart's fast and slow paths, a device-free write by a layer
 * above through noteRamWrite, a checkpoint restore) drops every block of the
 * page. fence.i then has nothing left to do.
 */
import type { Hart } from "../hart.ts";
import { div, divu, mulh, mulhsu, mulhu, rem, remu } from "../isa/arith.ts";
import { BLOCK_SCOPE, blockSource, scanBlock } from "./translate.ts";

/** A translated block: runs from virtual pc `p` within `room` (see run()), returns the instructions it attempted. */
export type BlockFn = (p: number, room: number) => number;

/**
 * Dispatches of one start address before it is translated. A new block runs
 * as host bytecode until the host's own compiler has seen it run often, and
 * until then it is slower than the interpreter, which is compiled already:
 * code that runs only some hundreds of times loses by translation. Measured
 * here (Linux forkwait, its measured region of 0.74 M instructions from a
 * checkpoint, CPU ms, best of 6): interpreter 21-29; translating at 16
 * dispatches 218-224, at 1,024 74-77, at 16,384 22. The loops that make
 * most of an experiment's instructions pass this count within their first
 * hundred thousand instructions. At most 65,535 (the counter's width).
 */
const HOT = 16_384;

/** Translated blocks kept before the whole cache is dropped and refilled (bounds host memory, as QEMU's code buffer does). */
const MAX_BLOCKS = 1 << 15;

/** The translated code of one physical page. */
class PageCode {
  /** Block by start word; undefined until translated. */
  readonly fns: (BlockFn | undefined)[] = new Array(1024).fill(undefined);
  /** Block length by start word: 0 = not translated yet, -1 = starts with an instruction only the interpreter runs. */
  readonly len = new Int8Array(1024);
  /** Dispatches by start word, up to HOT. */
  readonly heat = new Uint16Array(1024);
  /** Words some block (or a -1 entry) was made from: a store to one drops the page's code. */
  readonly covered = new Uint32Array(32);
  blocks = 0;

  cover(first: number, count: number): void {
    for (let w = first; w < first + count; w++) this.covered[w >>> 5] |= 1 << (w & 31);
  }
}

/** What the translator did, for perf figures and tests (not machine counters: the engines differ here by design). */
export interface EngineStats {
  /** Instructions attempted inside translated blocks. */
  translatedInstructions: number;
  /** Blocks made for a start address (from a new function or one the source cache already held). */
  blocksTranslated: number;
  /** Host functions compiled (distinct block sources). */
  blocksCompiled: number;
  /** Blocks dropped because their code was written (or the cache was full). */
  blocksDropped: number;
}

/** Stats of an engine that translated nothing (the interpreter's, and a new cache's). */
export function noEngineStats(): EngineStats {
  return { translatedInstructions: 0, blocksTranslated: 0, blocksCompiled: 0, blocksDropped: 0 };
}

export class BlockCache {
  private readonly pages: (PageCode | undefined)[];
  private readonly scope: unknown[];
  private live = 0;
  /** Block functions by their source text. */
  private readonly bySource = new Map<string, BlockFn>();
  /** Counts drops of translated code: a block that sees it change after a slow path stops. */
  drops = 0;
  /** Dispatches before translation (HOT; 1 translates everything on first sight, as the engine tests do to cover all code). */
  hot = HOT;
  readonly stats: EngineStats = noEngineStats();

  constructor(private readonly h: Hart) {
    const pages = h.ramSize / 4096;
    this.pages = new Array(pages).fill(undefined);
    const helpers = { mulh, mulhsu, mulhu, div, divu, rem, remu };
    const values: Record<string, unknown> = {
      h,
      x: h.x,
      ram8: h.ram8,
      ramU8: h.ram,
      ram16: h.ram16,
      ramU16: h.ramU16,
      ram32: h.ram32,
      decoded: h.decodedPages,
      itlb: h.itlb,
      dtlb: h.dtlb,
      ic: h.itlb.counters,
      dc: h.dtlb.counters,
      jit: this,
      ...helpers,
    };
    this.scope = BLOCK_SCOPE.map((name) => values[name]);
  }

  /**
   * Run translated code from virtual pc `pc`, which the run loop just
   * fetched through the fetch memo from word `word` of RAM page `page`, as
   * long as the blocks found there fit in `room` (the run loop's budget and
   * event slack left after this instruction). Blocks that end on the same
   * page chain to the next block directly, doing for its first instruction
   * what the run loop would: the fetch memo's count and LRU check. Returns
   * the instructions attempted, or 0 when the interpreter must run this one.
   */
  run(pc: number, page: number, word: number, room: number): number {
    let code = this.pages[page];
    if (code === undefined) {
      code = new PageCode();
      this.pages[page] = code;
    }
    let len = code.len[word];
    if (len <= 0) {
      if (len < 0 || ++code.heat[word] < this.hot) return 0;
      len = this.translate(code, page, word);
      if (len <= 0) return 0;
    }
    if (len - 1 > room) return 0;
    const h = this.h;
    const vpn = pc >>> 12;
    let n = (code.fns[word] as BlockFn)(pc, room);
    let total = n;
    room -= n;
    for (;;) {
      // Chain only while nothing asks for the run loop: same page, fetch memo intact, no event due.
      const next = h.pc | 0;
      if (next >>> 12 !== vpn || h.fVpn !== vpn || h.eventAt <= h.instret) break;
      code = this.pages[page];
      if (code === undefined) break;
      word = (next & 0xfff) >>> 2;
      len = code.len[word];
      if (len <= 0 || len - 1 > room) break;
      h.fetchHit();
      n = (code.fns[word] as BlockFn)(next, room);
      total += n;
      room -= n;
    }
    this.stats.translatedInstructions += total;
    return total;
  }

  /** Translate the block at `word` of `page`; returns its length, or -1. */
  private translate(code: PageCode, page: number, word: number): number {
    if (this.live >= MAX_BLOCKS) this.dropAll();
    const ram32 = this.h.ram32;
    const base = page * 1024;
    const insns = scanBlock((i) => ram32[base + i], word);
    if (insns.length === 0) {
      code.len[word] = -1;
      code.cover(word, 1);
      return -1;
    }
    code.fns[word] = this.compiled(blockSource(insns));
    code.len[word] = insns.length;
    code.cover(word, insns.length);
    code.blocks++;
    this.live++;
    this.stats.blocksTranslated++;
    return insns.length;
  }

  /**
   * The function for a block body: the one already made from the same source
   * when there is one. Code that comes back (a page restored from a
   * checkpoint and written again, a program loaded by another process, the
   * same routine at another address) costs no compilation, and keeps the
   * host's optimised code.
   */
  private compiled(body: string): BlockFn {
    let fn = this.bySource.get(body);
    if (fn === undefined) {
      if (this.bySource.size >= MAX_BLOCKS) this.bySource.clear();
      fn = this.compile(body);
      this.bySource.set(body, fn);
      this.stats.blocksCompiled++;
    }
    return fn;
  }

  /** A host function for a block body, bound to this hart's state (BLOCK_SCOPE). */
  private compile(body: string): BlockFn {
    const outer = new Function(...BLOCK_SCOPE, `return function block(p, room) {\n${body}\n};`);
    return outer(...this.scope) as BlockFn;
  }

  /**
   * A store to RAM byte offset `off` whose page has a decoded-instruction
   * cache: drops the page's blocks when the word is code. True when it did
   * (a block running there must stop after this store).
   */
  written(off: number): boolean {
    const page = off >>> 12;
    const code = this.pages[page];
    if (code === undefined) return false;
    const w = (off & 0xfff) >>> 2;
    if ((code.covered[w >>> 5] & (1 << (w & 31))) === 0) return false;
    this.dropPage(page);
    return true;
  }

  /** Forget the translated code of one page (its RAM changed behind the hart's back). */
  dropPage(page: number): void {
    const code = this.pages[page];
    if (code === undefined) return;
    this.drops++;
    this.stats.blocksDropped += code.blocks;
    this.live -= code.blocks;
    this.pages[page] = undefined;
  }

  /** Forget all translated code. */
  dropAll(): void {
    this.drops++;
    this.stats.blocksDropped += this.live;
    this.live = 0;
    this.pages.fill(undefined);
  }
}
