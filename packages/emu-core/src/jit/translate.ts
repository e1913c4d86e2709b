/**
 * The block translator's code generator: a run of straight-line guest
 * instructions becomes the source of one JavaScript function, generated from
 * the ISA table's semantics (isa/semantics.ts), so it computes what the
 * interpreter computes, and keeps every counter the interpreter keeps.
 *
 * A block starts where the dispatcher found it (hart.ts run loop, after the
 * fetch of its first instruction went through the fetch memo) and ends after
 * a jump or branch, before an instruction only the interpreter runs, or at
 * the end of its page (the next fetch needs a translation of its own). Each
 * instruction after the first is a fetch through the same memo, so the
 * block counts one I-TLB lookup and hit for it when translation is on, and
 * keeps the entry's LRU position as the interpreter's fetch does (after any
 * data access that may have reordered a unified TLB).
 *
 * Loads and stores take the hart's data memos inline, exactly like the
 * interpreter; anything else (a memo miss, a device, a misaligned access, a
 * fault) calls the interpreter's slow path with pc and instret exact, and
 * ends the block there: a trap leaves pc where the trap put it, the
 * registers written so far in place, and no later instruction run. A store
 * that rewrites translated code drops that code and ends the block too.
 *
 * The generated function takes the block's virtual pc (blocks are cached by
 * physical address; pc-relative results use the pc the block runs at) and
 * returns how many instructions it attempted (a faulting one included), the
 * run loop's budget unit.
 */
import { CAUSE } from "../csr.ts";
import { decode } from "../isa/decode.ts";
import { immediateOf } from "../isa/fields.ts";
import { SEMANTICS, SEMANTICS_HELPERS, type Semantics } from "../isa/semantics.ts";
import { OP_ILLEGAL } from "../isa/table.ts";

/** Longest block: the run loop needs this many instructions of budget and event slack to enter it. */
export const MAX_BLOCK = 64;

/** One instruction of a block, decoded from its word. */
export interface BlockInsn {
  sem: Semantics;
  rd: number;
  rs1: number;
  rs2: number;
  imm: number;
}

/**
 * The instructions a block starting at word `first` of a page holds, read
 * from `words` (the page's 1,024 instruction words): empty when the first
 * one is not translatable.
 */
export function scanBlock(words: (i: number) => number, first: number): BlockInsn[] {
  const out: BlockInsn[] = [];
  for (let i = first; i < 1024 && out.length < MAX_BLOCK; i++) {
    const word = words(i);
    const spec = decode(word);
    const sem = spec === undefined ? undefined : SEMANTICS[spec.op];
    if (spec === undefined || sem === undefined) break;
    out.push({
      sem,
      // As in the interpreter's decoded cache, x0's writes go to the sink x[32], so the register
      // file is the same array, word for word, under both engines.
      rd: (word >>> 7) & 31 || 32,
      rs1: (word >>> 15) & 31,
      rs2: (word >>> 20) & 31,
      imm: immediateOf(spec.args, word),
    });
    // A forward branch's fall-through continues the block (its taken path leaves it); a jump, or
    // a branch backwards (a loop), ends it.
    if (sem.kind === "jal" || sem.kind === "jalr") break;
    if (sem.kind === "branch" && out[out.length - 1].imm <= 0) break;
  }
  return out;
}

/**
 * By op id: 1 when an instruction ends a block (a jump or branch, or a row
 * only the interpreter runs), so the next one starts one. The run loop looks
 * for translated code only after these.
 */
export const ENDS_BLOCK: Uint8Array = (() => {
  const ends = new Uint8Array(OP_ILLEGAL + 1).fill(1);
  for (let op = 1; op < OP_ILLEGAL; op++) {
    const kind = SEMANTICS[op]?.kind;
    if (kind === "alu" || kind === "load" || kind === "store" || kind === "nop") ends[op] = 0;
  }
  return ends;
})();

/** Names the generated source uses, bound once per hart when the function is built (blocks.ts). */
export const BLOCK_SCOPE = [
  "h",
  "x",
  "ram8",
  "ramU8",
  "ram16",
  "ramU16",
  "ram32",
  "decoded",
  "itlb",
  "dtlb",
  "ic",
  "dc",
  "jit",
  ...SEMANTICS_HELPERS,
] as const;

/**
 * The body of a function of `p` (the block's pc, as int32) for these
 * instructions. Guest registers live in locals r0..r32 for the length of the
 * block (int32 values, as the register file holds them) and are written back
 * to `x` before anything else can look at them: a slow path (a trap handler
 * reads and writes `x`), and every exit. Other locals: i0 = instret on entry,
 * fh = the fetch memo's hit increment (0 with translation off), va/o/v scratch.
 */
export function blockSource(insns: readonly BlockInsn[]): string {
  return new BlockWriter(insns).source();
}

class BlockWriter {
  private readonly lines: string[] = [];
  /** Registers assigned so far (in program order): what an exit writes back. */
  private readonly dirty = new Set<number>();
  /** Fetches of instructions 1..n-1 not yet added to the I-TLB counters on the main path. */
  private fetches = 0;
  /** Whether the next fetch must re-check the memo entry's LRU position (a data access may have moved it). */
  private recency = true;
  /**
   * The block ends with a jump or branch back to its own start: it runs as a
   * loop while the room it is given (the run loop's budget and event slack)
   * holds another pass, with registers kept in locals across passes. `done`
   * counts the instructions of the passes completed.
   */
  private readonly loops: boolean;

  constructor(private readonly insns: readonly BlockInsn[]) {
    const n = insns.length;
    const last = insns[n - 1];
    const back = -4 * (n - 1);
    this.loops = (last.sem.kind === "jal" || last.sem.kind === "branch") && last.imm === back;
  }

  /** Instructions attempted up to and including instruction k of this pass. */
  private count(k: number): string {
    return this.loops ? `done + ${k + 1}` : `${k + 1}`;
  }

  source(): string {
    // The registers the block reads or writes, loaded once: a written one too, since an exit
    // writes back every register assigned so far (in a loop, in an earlier pass perhaps).
    const used = new Set<number>();
    for (const ins of this.insns) {
      for (const r of regsRead(ins)) used.add(r);
      const w = regWritten(ins);
      if (w !== undefined) used.add(w);
    }
    const regs = [...used].sort((a, b) => a - b);
    this.lines.push(
      "const i0 = h.instret;",
      "const vp = p >>> 12;",
      "const d0 = jit.drops;",
      "const fh = h.fHit;",
      "let va = 0, o = 0, v = 0;",
    );
    if (regs.length > 0) this.lines.push(`let ${regs.map((r) => `r${r} = x[${r}]`).join(", ")};`);
    const n = this.insns.length;
    // In a loop, any exit may follow a pass that wrote every register the block writes.
    if (this.loops) {
      for (const ins of this.insns) {
        const w = regWritten(ins);
        if (w !== undefined) this.dirty.add(w);
      }
    }
    if (this.loops) this.lines.push("let done = 0;", "for (;;) {");
    for (let k = 0; k < n; k++) this.instruction(k);
    if (this.loops) this.lines.push("}");
    const last = this.insns[n - 1].sem.kind;
    if (last !== "jal" && last !== "jalr" && last !== "branch") {
      // The block stopped before an instruction it does not translate, or at the page end.
      this.flushFetches();
      this.lines.push(this.leave(n - 1, `(p + ${4 * n})`));
    }
    return this.lines.join("\n");
  }

  private instruction(k: number): void {
    const ins = this.insns[k];
    const lines = this.lines;
    const pc = `(p + ${4 * k})`;
    if (k > 0) {
      this.fetches++;
      if (this.recency) {
        lines.push(`if (fh !== 0) { ${FETCH_TOUCH} }`);
        this.recency = false;
      }
    }
    const sem = ins.sem;
    const rd = `r${ins.rd}`;
    switch (sem.kind) {
      case "alu":
        lines.push(`${rd} = (${this.operands(sem.expr, ins, pc)}) | 0;`);
        this.dirty.add(ins.rd);
        break;
      case "nop":
        break;
      case "load": {
        const w = sem.width;
        this.flushFetches();
        lines.push(`va = (r${ins.rs1} + ${ins.imm}) | 0;`);
        lines.push(`if (va >>> 12 === h.lVpn${w > 1 ? ` && (va & ${w - 1}) === 0` : ""}) {`);
        lines.push(`  if (h.lHit !== 0) { ${dataHit("h.lIdx")} }`);
        lines.push(`  o = h.lOff + (va & 0xfff); ${rd} = ${sem.view}[${index(w)}];`);
        lines.push("} else {");
        lines.push(`  ${this.sync(k)}`);
        lines.push(`  v = h.loadSlow(va, ${w}, ${sem.signed});`);
        lines.push(`  if (h.trapped) { h.trapped = false; return ${this.count(k)}; }`);
        lines.push(`  ${rd} = v;`);
        this.dirty.add(ins.rd);
        lines.push(`  if (${MUST_LEAVE}) { ${this.leave(k, `(${pc} + 4)`)} }`);
        lines.push("}");
        this.dirty.add(ins.rd);
        this.recency = true;
        break;
      }
      case "store": {
        const w = sem.width;
        this.flushFetches();
        lines.push(`va = (r${ins.rs1} + ${ins.imm}) | 0;`);
        lines.push(`if (va >>> 12 === h.sVpn${w > 1 ? ` && (va & ${w - 1}) === 0` : ""}) {`);
        lines.push(`  if (h.sHit !== 0) { ${dataHit("h.sIdx")} }`);
        lines.push(`  o = h.sOff + (va & 0xfff); ${sem.view}[${index(w)}] = r${ins.rs2};`);
        // Keep the decoded cache and translated code coherent with the store (as the interpreter does).
        lines.push("  const c = decoded[o >>> 12];");
        lines.push("  if (c !== null) {");
        lines.push("    c[(o & 0xffc) >>> 1] = 0;");
        lines.push(`    if (jit.written(o)) { ${this.leave(k, `(${pc} + 4)`)} }`);
        lines.push("  }");
        lines.push("} else {");
        lines.push(`  ${this.sync(k)}`);
        lines.push(`  h.storeSlow(va, ${w}, r${ins.rs2});`);
        lines.push(`  if (h.trapped) { h.trapped = false; return ${this.count(k)}; }`);
        lines.push(`  if (${MUST_LEAVE}) { ${this.leave(k, `(${pc} + 4)`)} }`);
        lines.push("}");
        this.recency = true;
        break;
      }
      case "jal":
        this.flushFetches();
        if ((ins.imm & 3) !== 0) {
          lines.push(this.misalignedJump(k, `(${pc} + ${ins.imm}) | 0`));
        } else {
          lines.push(`${rd} = (${pc} + 4) | 0;`);
          this.dirty.add(ins.rd);
          lines.push(this.loops ? this.backEdge(k) : this.leave(k, `(${pc} + ${ins.imm})`));
        }
        break;
      case "jalr":
        this.flushFetches();
        lines.push(`va = (r${ins.rs1} + ${ins.imm}) & ~1;`);
        lines.push(`if ((va & 3) !== 0) { ${this.misalignedJump(k, "va")} }`);
        lines.push(`${rd} = (${pc} + 4) | 0;`);
        this.dirty.add(ins.rd);
        lines.push(this.leave(k, "va"));
        break;
      case "branch": {
        this.flushFetches();
        const target = `(${pc} + ${ins.imm})`;
        const taken =
          (ins.imm & 3) !== 0
            ? this.misalignedJump(k, `${target} | 0`)
            : this.loops && ins.imm === -4 * k
              ? this.backEdge(k)
              : this.leave(k, target);
        lines.push(`if (${this.operands(sem.cond, ins, pc)}) { ${taken} }`);
        // Not taken: the block goes on, unless this is its last instruction.
        if (k === this.insns.length - 1) lines.push(this.leave(k, `(${pc} + 4)`));
        break;
      }
    }
  }

  /**
   * The jump back to the block's start: another pass when the room holds it
   * (the run loop's check for the next instruction, then room for the rest
   * of the pass), counting the fetch of instruction 0 as the run loop would.
   */
  private backEdge(k: number): string {
    const n = this.insns.length;
    return (
      `done += ${k + 1}; ` +
      `if (room - done < ${n - 1}) { ${this.writeBack()}h.instret = i0 + done; h.pc = p >>> 0; return done; } ` +
      "if (fh !== 0) { ic.lookups++; ic.hits++; " +
      FETCH_TOUCH +
      " } continue;"
    );
  }

  /** Registers assigned so far, back into the register file. */
  private writeBack(): string {
    let s = "";
    for (const r of this.dirty) s += `x[${r}] = r${r}; `;
    return s;
  }

  /**
   * Before a slow path or a trap at instruction k (the fetch counts are on the
   * counters already): registers in place, instret counting instruction k
   * (exception() takes it back), pc at it.
   */
  private sync(k: number): string {
    return `${this.writeBack()}h.instret = i0 + ${this.count(k)}; h.pc = (p + ${4 * k}) >>> 0;`;
  }

  /** Leave after instruction k retired, continuing at `next`. */
  private leave(k: number, next: string, writeBack = true): string {
    const c = this.count(k);
    return `${writeBack ? this.writeBack() : ""}h.instret = i0 + ${c}; h.pc = ${next} >>> 0; return ${c};`;
  }

  /** A taken jump or branch at instruction k to a target that is not a multiple of 4: the exception at k. */
  private misalignedJump(k: number, target: string): string {
    return `${this.sync(k)} h.exception(${CAUSE.MISALIGNED_FETCH}, ${target}); h.trapped = false; return ${this.count(k)};`;
  }

  private flushFetches(): void {
    if (this.fetches > 0) this.lines.push(owed(this.fetches));
    this.fetches = 0;
  }

  /** A semantics expression with this instruction's registers, immediate and pc in place. */
  private operands(expr: string, ins: BlockInsn, pc: string): string {
    return expr
      .replaceAll("x[rs1]", `r${ins.rs1}`)
      .replaceAll("x[rs2]", `r${ins.rs2}`)
      .replace(/\bimm\b/g, `(${ins.imm})`)
      .replace(/\bpc\b/g, pc);
  }
}

/** The registers an instruction reads (the fields its semantics name; the others hold immediate bits). */
function regsRead(ins: BlockInsn): number[] {
  const sem = ins.sem;
  switch (sem.kind) {
    case "alu":
      return [
        ...(sem.expr.includes("x[rs1]") ? [ins.rs1] : []),
        ...(sem.expr.includes("x[rs2]") ? [ins.rs2] : []),
      ];
    case "load":
    case "jalr":
      return [ins.rs1];
    case "store":
    case "branch":
      return [ins.rs1, ins.rs2];
    default:
      return [];
  }
}

/** The register an instruction writes (x0's writes go to the sink x[32]), or undefined. */
function regWritten(ins: BlockInsn): number | undefined {
  const k = ins.sem.kind;
  return k === "alu" || k === "load" || k === "jal" || k === "jalr" ? ins.rd : undefined;
}

/** Typed-array index of RAM byte offset `o` for an access of `width` bytes. */
function index(width: number): string {
  return width === 4 ? "o >>> 2" : width === 2 ? "o >>> 1" : "o";
}

/**
 * After a slow path that did not trap, the block goes on unless the run loop
 * must look: the fetch memo no longer holds the block's page, an event is due
 * (a device or CSR side effect asked for a recheck, or a stop), or translated
 * code was dropped (this block's, perhaps).
 */
const MUST_LEAVE = "h.fVpn !== vp || h.eventAt <= h.instret || jit.drops !== d0";

/** Fetch counts owed (on a side exit they are added there; the main path adds them later). */
function owed(fetches: number): string {
  return fetches > 0 ? `if (fh !== 0) { ic.lookups += ${fetches}; ic.hits += ${fetches}; } ` : "";
}

/** A data access served by a memo: the TLB hit it stands for, and the entry made most recent (hart.ts memoHit). */
function dataHit(idx: string): string {
  return `dc.lookups++; dc.hits++; const e = ${idx}; if (dtlb.stamp[e] !== dtlb.newest) { dtlb.stamp[e] = ++dtlb.newest; if (dtlb.used[e] === 0) dtlb.markUsed(e); }`;
}

/** A fetch served by the fetch memo makes its entry the most recent (Tlb.touch, inline). */
const FETCH_TOUCH =
  "const f = h.fIdx; if (itlb.stamp[f] !== itlb.newest) { itlb.stamp[f] = ++itlb.newest; if (itlb.used[f] === 0) itlb.markUsed(f); }";
