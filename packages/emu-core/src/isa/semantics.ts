/**
 * What each straight-line instruction of the ISA table does, written once as
 * JavaScript over the operands `x[rs1]`, `x[rs2]`, `imm` and `pc`.
 *
 * The block translator (../jit/translate.ts) generates its code from these
 * rows; the interpreter's dispatch switch (hart.ts) spells the same text in
 * its cases, and test/isa-semantics.test.ts checks that the two agree, so the
 * engines cannot drift apart. Rows absent here (system instructions, CSRs,
 * atomics, ROI marks, the H extension, anything illegal) are never
 * translated: the translator ends its block before them and the interpreter
 * runs them, one at a time, as the reference does.
 */
import { specByName } from "./table.ts";

export type Semantics =
  /** x[rd] = expr */
  | { readonly kind: "alu"; readonly expr: string }
  /** pc += imm when cond holds */
  | { readonly kind: "branch"; readonly cond: string }
  /** x[rd] = pc + 4; pc += imm */
  | { readonly kind: "jal" }
  /** x[rd] = pc + 4; pc = (x[rs1] + imm) & ~1 */
  | { readonly kind: "jalr" }
  /** x[rd] = view[(x[rs1] + imm) / width] */
  | { readonly kind: "load"; readonly width: 1 | 2 | 4; readonly view: RamView; readonly signed: boolean }
  /** view[(x[rs1] + imm) / width] = x[rs2] */
  | { readonly kind: "store"; readonly width: 1 | 2 | 4; readonly view: RamView }
  /** Retires with no effect on this machine: one hart, in-order memory, code kept coherent with stores. */
  | { readonly kind: "nop" };

/** The hart's typed views of RAM, by the names hart.ts gives them in its run loop. */
export type RamView = "ram8" | "ramU8" | "ram16" | "ramU16" | "ram32";

const alu = (expr: string): Semantics => ({ kind: "alu", expr });
const branch = (cond: string): Semantics => ({ kind: "branch", cond });
const load = (width: 1 | 2 | 4, view: RamView, signed: boolean): Semantics => ({
  kind: "load",
  width,
  view,
  signed,
});
const store = (width: 1 | 2 | 4, view: RamView): Semantics => ({ kind: "store", width, view });

const ROWS: Readonly<Record<string, Semantics>> = {
  lui: alu("imm"),
  auipc: alu("pc + imm"),
  jal: { kind: "jal" },
  jalr: { kind: "jalr" },
  beq: branch("x[rs1] === x[rs2]"),
  bne: branch("x[rs1] !== x[rs2]"),
  blt: branch("x[rs1] < x[rs2]"),
  bge: branch("x[rs1] >= x[rs2]"),
  bltu: branch("x[rs1] >>> 0 < x[rs2] >>> 0"),
  bgeu: branch("x[rs1] >>> 0 >= x[rs2] >>> 0"),
  lb: load(1, "ram8", true),
  lh: load(2, "ram16", true),
  lw: load(4, "ram32", true),
  lbu: load(1, "ramU8", false),
  lhu: load(2, "ramU16", false),
  sb: store(1, "ramU8"),
  sh: store(2, "ramU16"),
  sw: store(4, "ram32"),
  addi: alu("x[rs1] + imm"),
  slti: alu("x[rs1] < imm ? 1 : 0"),
  sltiu: alu("x[rs1] >>> 0 < imm >>> 0 ? 1 : 0"),
  xori: alu("x[rs1] ^ imm"),
  ori: alu("x[rs1] | imm"),
  andi: alu("x[rs1] & imm"),
  slli: alu("x[rs1] << imm"),
  srli: alu("x[rs1] >>> imm"),
  srai: alu("x[rs1] >> imm"),
  add: alu("x[rs1] + x[rs2]"),
  sub: alu("x[rs1] - x[rs2]"),
  sll: alu("x[rs1] << (x[rs2] & 31)"),
  slt: alu("x[rs1] < x[rs2] ? 1 : 0"),
  sltu: alu("x[rs1] >>> 0 < x[rs2] >>> 0 ? 1 : 0"),
  xor: alu("x[rs1] ^ x[rs2]"),
  srl: alu("x[rs1] >>> (x[rs2] & 31)"),
  sra: alu("x[rs1] >> (x[rs2] & 31)"),
  or: alu("x[rs1] | x[rs2]"),
  and: alu("x[rs1] & x[rs2]"),
  fence: { kind: "nop" },
  "fence.i": { kind: "nop" },
  mul: alu("Math.imul(x[rs1], x[rs2])"),
  mulh: alu("mulh(x[rs1], x[rs2])"),
  mulhsu: alu("mulhsu(x[rs1], x[rs2])"),
  mulhu: alu("mulhu(x[rs1], x[rs2])"),
  div: alu("div(x[rs1], x[rs2])"),
  divu: alu("divu(x[rs1], x[rs2])"),
  rem: alu("rem(x[rs1], x[rs2])"),
  remu: alu("remu(x[rs1], x[rs2])"),
};

/** The helper functions the expressions call (exported by hart.ts under these names). */
export const SEMANTICS_HELPERS = ["mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"] as const;

/** Semantics by op id (index = op); undefined for rows the interpreter alone runs. */
export const SEMANTICS: readonly (Semantics | undefined)[] = (() => {
  const byOp: (Semantics | undefined)[] = [];
  for (const [name, sem] of Object.entries(ROWS)) {
    const spec = specByName(name);
    if (spec === undefined) throw new Error(`isa/semantics.ts: no ISA table row named ${name}`);
    byOp[spec.op] = sem;
  }
  return byOp;
})();
