/**
 * The typed face of the instruction methods. The methods themselves are
 * generated from the ISA table and the alias table (see assembler.ts); this
 * interface only gives them operand types. test/assembler.test.ts checks that
 * every table row and alias has its method.
 *
 * Operands are in assembler order; a memory operand `off(base)` is two
 * arguments, offset then base: `lw("a0", 8, "sp")`, `sw("a1", 8, "sp")`.
 */
import type { Csr, FenceSet, Imm, Ordering, Reg, Target } from "./operands.ts";

type RRR<S> = (rd: Reg, rs1: Reg, rs2: Reg) => S;
type RRI<S> = (rd: Reg, rs1: Reg, imm: Imm) => S;
type RR<S> = (rd: Reg, rs: Reg) => S;
type Mem<S> = (reg: Reg, offset: Imm, base: Reg) => S;
type Branch<S> = (rs1: Reg, rs2: Reg, target: Target) => S;
type BranchZ<S> = (rs: Reg, target: Target) => S;
type Upper<S> = (rd: Reg, imm20: Imm) => S;
type Csrr<S> = (rd: Reg, csr: Csr, rs1: Reg) => S;
type Csri<S> = (rd: Reg, csr: Csr, zimm: number) => S;
/** csrw/csrs/csrc take a register or (as objdump prints them) a 5-bit immediate. */
type CsrSet<S> = (csr: Csr, value: Reg | number) => S;
type CsrImm<S> = (csr: Csr, zimm: number) => S;
type Amo<S> = (rd: Reg, rs2: Reg, rs1: Reg, order?: Ordering) => S;
type NoArgs<S> = () => S;
type ReadCounter<S> = (rd: Reg) => S;

/** One method per base instruction (dots become underscores). */
export interface BaseInstructions<S> {
  lui: Upper<S>;
  auipc: Upper<S>;
  /** `jal(target)` links ra; `jal(rd, target)`. */
  jal: { (target: Target): S; (rd: Reg, target: Target): S };
  /** `jalr(rs)` links ra; `jalr(rd, rs)`; `jalr(offset, base)` links ra; `jalr(rd, offset, base)`. */
  jalr: {
    (rs: Reg): S;
    (rd: Reg, rs: Reg): S;
    (offset: Imm, base: Reg): S;
    (rd: Reg, offset: Imm, base: Reg): S;
  };
  beq: Branch<S>;
  bne: Branch<S>;
  blt: Branch<S>;
  bge: Branch<S>;
  bltu: Branch<S>;
  bgeu: Branch<S>;
  lb: Mem<S>;
  lh: Mem<S>;
  lw: Mem<S>;
  lbu: Mem<S>;
  lhu: Mem<S>;
  sb: Mem<S>;
  sh: Mem<S>;
  sw: Mem<S>;
  addi: RRI<S>;
  slti: RRI<S>;
  sltiu: RRI<S>;
  xori: RRI<S>;
  ori: RRI<S>;
  andi: RRI<S>;
  slli: RRI<S>;
  srli: RRI<S>;
  srai: RRI<S>;
  add: RRR<S>;
  sub: RRR<S>;
  sll: RRR<S>;
  slt: RRR<S>;
  sltu: RRR<S>;
  xor: RRR<S>;
  srl: RRR<S>;
  sra: RRR<S>;
  or: RRR<S>;
  and: RRR<S>;
  /** `fence()` is `fence iorw,iorw`. */
  fence: { (): S; (pred: FenceSet, succ: FenceSet): S };
  fence_i: NoArgs<S>;
  ecall: NoArgs<S>;
  ebreak: NoArgs<S>;
  sret: NoArgs<S>;
  mret: NoArgs<S>;
  wfi: NoArgs<S>;
  /** `sfence_vma()` flushes everything; `sfence_vma(vaddr)`; `sfence_vma(vaddr, asid)`. */
  sfence_vma: { (): S; (rs1: Reg): S; (rs1: Reg, rs2: Reg): S };
  csrrw: Csrr<S> & Csri<S>;
  csrrs: Csrr<S> & Csri<S>;
  csrrc: Csrr<S> & Csri<S>;
  csrrwi: Csri<S>;
  csrrsi: Csri<S>;
  csrrci: Csri<S>;
  mul: RRR<S>;
  mulh: RRR<S>;
  mulhsu: RRR<S>;
  mulhu: RRR<S>;
  div: RRR<S>;
  divu: RRR<S>;
  rem: RRR<S>;
  remu: RRR<S>;
  lr_w: (rd: Reg, rs1: Reg, order?: Ordering) => S;
  sc_w: Amo<S>;
  amoswap_w: Amo<S>;
  amoadd_w: Amo<S>;
  amoxor_w: Amo<S>;
  amoand_w: Amo<S>;
  amoor_w: Amo<S>;
  amomin_w: Amo<S>;
  amomax_w: Amo<S>;
  amominu_w: Amo<S>;
  amomaxu_w: Amo<S>;
  hfence_vvma: { (): S; (rs1: Reg): S; (rs1: Reg, rs2: Reg): S };
  hfence_gvma: { (): S; (rs1: Reg): S; (rs1: Reg, rs2: Reg): S };
  /** Hypervisor loads: `hlv_w(rd, addr)` reads guest-virtual `addr` as the guest would (H extension). */
  hlv_b: RR<S>;
  hlv_bu: RR<S>;
  hlv_h: RR<S>;
  hlv_hu: RR<S>;
  hlvx_hu: RR<S>;
  hlv_w: RR<S>;
  hlvx_wu: RR<S>;
  /** Hypervisor stores: `hsv_w(value, addr)`. */
  hsv_b: RR<S>;
  hsv_h: RR<S>;
  hsv_w: RR<S>;
  /** The ROI HINTs by their table names; `roiBegin()`/`roiEnd(opsReg)` say the same. */
  roi_begin: NoArgs<S>;
  roi_end: (opsReg: Reg) => S;
}

/** Single-instruction pseudo-instructions (the alias table read backwards). */
export interface PseudoInstructions<S> {
  nop: NoArgs<S>;
  mv: RR<S>;
  not: RR<S>;
  neg: RR<S>;
  seqz: RR<S>;
  snez: RR<S>;
  sltz: RR<S>;
  sgtz: RR<S>;
  sgt: RRR<S>;
  sgtu: RRR<S>;
  zext_b: RR<S>;
  j: (target: Target) => S;
  /** `jr(rs)` or `jr(offset, base)`. */
  jr: { (rs: Reg): S; (offset: Imm, base: Reg): S };
  ret: NoArgs<S>;
  beqz: BranchZ<S>;
  bnez: BranchZ<S>;
  blez: BranchZ<S>;
  bgez: BranchZ<S>;
  bltz: BranchZ<S>;
  bgtz: BranchZ<S>;
  bgt: Branch<S>;
  ble: Branch<S>;
  bgtu: Branch<S>;
  bleu: Branch<S>;
  fence_tso: NoArgs<S>;
  unimp: NoArgs<S>;
  csrr: (rd: Reg, csr: Csr) => S;
  csrw: CsrSet<S>;
  csrs: CsrSet<S>;
  csrc: CsrSet<S>;
  csrwi: CsrImm<S>;
  csrsi: CsrImm<S>;
  csrci: CsrImm<S>;
  rdcycle: ReadCounter<S>;
  rdcycleh: ReadCounter<S>;
  rdtime: ReadCounter<S>;
  rdtimeh: ReadCounter<S>;
  rdinstret: ReadCounter<S>;
  rdinstreth: ReadCounter<S>;
}

export interface InsnMethods<S> extends BaseInstructions<S>, PseudoInstructions<S> {}

/** Method name of a mnemonic: `amoadd.w` -> `amoadd_w`. */
export const methodName = (mnemonic: string): string => mnemonic.replaceAll(".", "_");
