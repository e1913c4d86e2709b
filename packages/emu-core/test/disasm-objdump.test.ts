import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { Disassembler, disasm, disasmRange } from "../src/isa/disasm.ts";

/**
 * Expectations are binutils 2.40 `riscv64-unknown-elf-objdump -d` output for
 * objects assembled with `-march=rv32ima_zicsr_zifencei` (symbol suffixes
 * `<...>` removed). [word, pc, text]
 */
const OBJDUMP: readonly (readonly [number, number, string])[] = [
  [0x80000537, 0x0, "lui\ta0,0x80000"],
  [0x00000597, 0x8, "auipc\ta1,0x0"],
  [0x0086a603, 0x18, "lw\ta2,8(a3)"],
  [0x00001297, 0x1c, "auipc\tt0,0x1"],
  [0x00500513, 0x2c, "li\ta0,5"],
  [0x00500013, 0x34, "li\tzero,5"],
  [0x00050013, 0x38, "mv\tzero,a0"],
  [0x00450067, 0x3c, "jr\t4(a0)"],
  [0x000500e7, 0x40, "jalr\ta0"],
  [0x00050067, 0x44, "jr\ta0"],
  [0x000505e7, 0x48, "jalr\ta1,a0"],
  [0x004500e7, 0x4c, "jalr\t4(a0)"],
  [0xfb1ff0ef, 0x50, "jal\t0"],
  [0xfadff06f, 0x54, "j\t0"],
  [0xfa9ff5ef, 0x58, "jal\ta1,0"],
  [0xfaa5c2e3, 0x5c, "blt\ta1,a0,0"],
  [0xfaa5d0e3, 0x60, "bge\ta1,a0,0"],
  [0xf8a04ee3, 0x64, "bgtz\ta0,0"],
  [0xf8a05ce3, 0x68, "blez\ta0,0"],
  [0xf8054ae3, 0x6c, "bltz\ta0,0"],
  [0xf80558e3, 0x70, "bgez\ta0,0"],
  [0xf8a066e3, 0x74, "bltu\tzero,a0,0"],
  [0xf80574e3, 0x78, "bgeu\ta0,zero,0"],
  [0xf80502e3, 0x7c, "beqz\ta0,0"],
  [0xf8a000e3, 0x80, "beq\tzero,a0,0"],
  [0xf6a01ee3, 0x84, "bne\tzero,a0,0"],
  [0x0ff0000f, 0x88, "fence"],
  [0x0330000f, 0x8c, "fence\trw,rw"],
  [0x0000100f, 0xa0, "fence.i"],
  [0x12000073, 0xa4, "sfence.vma"],
  [0x12050073, 0xa8, "sfence.vma\ta0"],
  [0x12b00073, 0xac, "sfence.vma\tzero,a1"],
  [0x12b50073, 0xb0, "sfence.vma\ta0,a1"],
  [0x06b6252f, 0xb4, "amoadd.w.aqrl\ta0,a1,(a2)"],
  [0x04b6252f, 0xb8, "amoadd.w.aq\ta0,a1,(a2)"],
  [0x1005a52f, 0xbc, "lr.w\ta0,(a1)"],
  [0x1205a52f, 0xc0, "lr.w.rl\ta0,(a1)"],
  [0x18b6252f, 0xc4, "sc.w\ta0,a1,(a2)"],
  [0x30002573, 0xc8, "csrr\ta0,mstatus"],
  [0x30529073, 0xcc, "csrw\tmtvec,t0"],
  [0x30529573, 0xd0, "csrrw\ta0,mtvec,t0"],
  [0x30502073, 0xd4, "csrr\tzero,mtvec"],
  [0x3042e073, 0xd8, "csrs\tmie,5"],
  [0x3042e573, 0xdc, "csrrs\ta0,mie,5"],
  [0x3042d073, 0xe0, "csrw\tmie,5"],
  [0x3042f073, 0xe4, "csrc\tmie,5"],
  [0x30453073, 0xe8, "csrc\tmie,a0"],
  [0x30452073, 0xec, "csrs\tmie,a0"],
  [0xc0002573, 0xf0, "rdcycle\ta0"],
  [0xc8002573, 0xf4, "rdcycleh\ta0"],
  [0xc0102573, 0xf8, "rdtime\ta0"],
  [0xc8202573, 0xfc, "rdinstreth\ta0"],
  [0x5ff02573, 0x114, "csrr\ta0,0x5ff"],
  [0xc0001073, 0x118, "unimp"],
  [0xfff5c513, 0x11c, "not\ta0,a1"],
  [0x40b00533, 0x120, "neg\ta0,a1"],
  [0x0015b513, 0x124, "seqz\ta0,a1"],
  [0x00b03533, 0x128, "snez\ta0,a1"],
  [0x0005a533, 0x12c, "sltz\ta0,a1"],
  [0x00b02533, 0x130, "sgtz\ta0,a1"],
  [0x00351513, 0x134, "sll\ta0,a0,0x3"],
  [0x41f55513, 0x138, "sra\ta0,a0,0x1f"],
  [0x0ff57513, 0x13c, "zext.b\ta0,a0"],
  [0x00000073, 0x140, "ecall"],
  [0x00100073, 0x144, "ebreak"],
  [0x30200073, 0x148, "mret"],
  [0x10200073, 0x14c, "sret"],
  [0x10500073, 0x150, "wfi"],
  [0xfeb12e23, 0x168, "sw\ta1,-4(sp)"],
  [0x7eb18fa3, 0x16c, "sb\ta1,2047(gp)"],
  [0x00000537, 0x170, "lui\ta0,0x0"],
  [0xfffff537, 0x174, "lui\ta0,0xfffff"],
  [0xfffff517, 0x178, "auipc\ta0,0xfffff"],
  [0xffb58513, 0x0, "add\ta0,a1,-5"],
  [0x0055a513, 0x4, "slti\ta0,a1,5"],
  [0x0055b513, 0x8, "sltiu\ta0,a1,5"],
  [0x0055c513, 0xc, "xor\ta0,a1,5"],
  [0x0055e513, 0x10, "or\ta0,a1,5"],
  [0x0055f513, 0x14, "and\ta0,a1,5"],
  [0x0ff5f513, 0x18, "zext.b\ta0,a1"],
  [0x00559513, 0x1c, "sll\ta0,a1,0x5"],
  [0x0055d513, 0x20, "srl\ta0,a1,0x5"],
  [0x4055d513, 0x24, "sra\ta0,a1,0x5"],
  [0x00006013, 0x28, "or\tzero,zero,0"],
  [0x00050513, 0x2c, "mv\ta0,a0"],
  [0xff010113, 0x30, "add\tsp,sp,-16"],
  [0x00008067, 0x34, "ret"],
  [0x00408067, 0x38, "jr\t4(ra)"],
  [0x000080e7, 0x3c, "jalr\tra"],
  [0xffc500e7, 0x40, "jalr\t-4(a0)"],
  [0x00103513, 0x48, "seqz\ta0,zero"],
  [0x00003533, 0x4c, "snez\ta0,zero"],
  [0x40000533, 0x50, "neg\ta0,zero"],
  [0x40a00033, 0x54, "neg\tzero,a0"],
  [0xfff04013, 0x58, "not\tzero,zero"],
  [0x12345537, 0x5c, "lui\ta0,0x12345"],
  [0x00001537, 0x64, "lui\ta0,0x1"],
  [0xfff00513, 0x78, "li\ta0,-1"],
  [0x7ff00513, 0x7c, "li\ta0,2047"],
  [0x7ffff537, 0x94, "lui\ta0,0x7ffff"],
  [0x8330000f, 0x0, "fence.tso"],
  [0x0100000f, 0x4, "fence\tw,unknown"],
  [0x0000000f, 0x8, "fence\tunknown,unknown"],
  [0x0ff0050f, 0xc, ".4byte\t0xff0050f"],
  [0x0ff5000f, 0x10, ".4byte\t0xff5000f"],
  [0x0010100f, 0x14, ".4byte\t0x10100f"],
  [0x0000150f, 0x18, ".4byte\t0x150f"],
  [0x00000873, 0x1c, ".4byte\t0x873"],
  [0x3042d573, 0x20, "csrrw\ta0,mie,5"],
  [0x30406073, 0x24, "csrs\tmie,0"],
  [0x30402073, 0x28, "csrr\tzero,mie"],
  [0x30403573, 0x2c, "csrrc\ta0,mie,zero"],
  [0xc8102573, 0x30, "rdtimeh\ta0"],
  [0xc0202573, 0x34, "rdinstret\ta0"],
  [0xc005a573, 0x38, "csrrs\ta0,cycle,a1"],
  [0xc0001573, 0x3c, "csrrw\ta0,cycle,zero"],
  [0x1805202f, 0x44, "sc.w\tzero,zero,(a0)"],
  [0x0a05202f, 0x48, "amoswap.w.rl\tzero,zero,(a0)"],
  [0x1025a52f, 0x4c, ".4byte\t0x1025a52f"],
  [0x02b50533, 0x50, "mul\ta0,a0,a1"],
  [0x00052003, 0x54, "lw\tzero,0(a0)"],
  [0x40058533, 0x58, "sub\ta0,a1,zero"],
  [0x00000063, 0x5c, "beqz\tzero,5c"],
  [0x00005063, 0x60, "blez\tzero,60"],
  [0x00004063, 0x64, "bltz\tzero,64"],
  [0x00001063, 0x68, "bnez\tzero,68"],
  [0xffdff0ef, 0x6c, "jal\t68"],
  [0x0000006f, 0x70, "j\t70"],
  [0x800000ef, 0x74, "jal\tfff00074"],
  [0x7ffff06f, 0x78, "j\t100076"],
  [0x80000063, 0x7c, "beqz\tzero,fffff07c"],
  [0x7e000fe3, 0x80, "beqz\tzero,107e"],
  [0x00000013, 0x84, "nop"],
  [0x00000093, 0x88, "li\tra,0"],
  [0x80000013, 0x8c, "li\tzero,-2048"],
  [0xfff00013, 0x90, "li\tzero,-1"],
  [0x0005a503, 0xa4, "lw\ta0,0(a1)"],
  [0x8005a503, 0xa8, "lw\ta0,-2048(a1)"],
  [0x30001073, 0xac, "csrw\tmstatus,zero"],
  [0x30005073, 0xb0, "csrw\tmstatus,0"],
  [0x3000d073, 0xb4, "csrw\tmstatus,1"],
  [0x3007d073, 0xb8, "csrw\tmstatus,15"],
  [0x3007e073, 0xbc, "csrs\tmstatus,15"],
  [0x3007f073, 0xc0, "csrc\tmstatus,15"],
  [0x3007e573, 0xc4, "csrrs\ta0,mstatus,15"],
  [0x30007573, 0xc8, "csrrc\ta0,mstatus,0"],
  [0xfff00017, 0xd0, "auipc\tzero,0xfff00"],
  [0x00000037, 0xd4, "lui\tzero,0x0"],
  [0x0000c513, 0xd8, "xor\ta0,ra,0"],
  [0xfff54513, 0xdc, "not\ta0,a0"],
  [0x0ff57013, 0xe0, "zext.b\tzero,a0"],
  [0x40000033, 0xe4, "neg\tzero,zero"],
  [0x00003033, 0xe8, "snez\tzero,zero"],
  [0x00002033, 0xec, "sltz\tzero,zero"],
  [0x00103013, 0xf0, "seqz\tzero,zero"],
  [0x00001033, 0xf4, "sll\tzero,zero,zero"],
];

describe("disasm matches objdump", () => {
  it.each(OBJDUMP.map(([w, pc, text]) => [w.toString(16).padStart(8, "0"), pc, text, w] as const))(
    "%s @%s -> %s",
    (_, pc, text, word) => {
      expect(disasm(word, pc)).toBe(text);
    },
  );

  it("prints addi & co. with their i-names when immediateRegForms is off (newer binutils)", () => {
    expect(disasm(0x00150513, 0, { immediateRegForms: false })).toBe("addi\ta0,a0,1");
    expect(disasm(0x00559513, 0, { immediateRegForms: false })).toBe("slli\ta0,a1,0x5");
    expect(disasm(0x00150513)).toBe("add\ta0,a0,1");
  });

  it("annotates lui/auipc-based addresses across instructions as objdump does", () => {
    // [word, objdump text] at pc 0, 4, 8, ...
    const seq: [number, string][] = [
      [0x00001517, "auipc\ta0,0x1"],
      [0x00500513, "li\ta0,5"],
      [0x00450593, "add\ta1,a0,4 # 1004"],
      [0x00001517, "auipc\ta0,0x1"],
      [0x00052583, "lw\ta1,0(a0) # 100c"],
      [0x00052583, "lw\ta1,0(a0)"],
      [0x12345637, "lui\ta2,0x12345"],
      [0x00b62423, "sw\ta1,8(a2) # 12345008"],
      [0x123456b7, "lui\ta3,0x12345"],
      [0x000680e7, "jalr\ta3 # 12345000"],
      [0x00001737, "lui\ta4,0x1"],
      [0x008707e7, "jalr\ta5,8(a4) # 1008"],
      [0x00000017, "auipc\tzero,0x0"],
      [0x00b02423, "sw\ta1,8(zero) # 8"],
      [0x000012b7, "lui\tt0,0x1"],
      [0x0042a283, "lw\tt0,4(t0) # 1004"],
      [0x00428593, "add\ta1,t0,4"],
      [0x00002337, "lui\tt1,0x2"],
      [0x1003252f, "lr.w\ta0,(t1)"],
      [0x00002337, "lui\tt1,0x2"],
      [0x00630533, "add\ta0,t1,t1"],
      [0x00130513, "add\ta0,t1,1 # 2001"],
      [0x0ff0008f, ".4byte\t0xff0008f"],
      [0x00001073, "csrw\t0x0,zero"],
      [0xc0001073, "unimp"],
      [0x12000073, "sfence.vma"],
      [0x1205a02f, "lr.w.rl\tzero,(a1)"],
      [0x1005202f, "lr.w\tzero,(a0)"],
    ];
    const d = new Disassembler();
    expect(seq.map(([w], i) => d.insn(w, i * 4))).toEqual(seq.map(([, text]) => text));
  });
});

function findObjdump(): string | undefined {
  try {
    execFileSync("riscv64-unknown-elf-objdump", ["--version"], { stdio: "ignore" });
    return "riscv64-unknown-elf-objdump";
  } catch {
    return undefined;
  }
}
const OBJDUMP_BIN = findObjdump();

/** Every base instruction and every pseudo-instruction form, as GNU-style text. */
const PROGRAM = `
_start:
  lui a0, 0x80000
  auipc a1, 0x1
  jal ra, far
  jal a1, far
  jalr a0, 4(a1)
  beq a0, a1, _start
  bne a0, a1, _start
  blt a0, a1, _start
  bge a0, a1, _start
  bltu a0, a1, _start
  bgeu a0, a1, _start
  lb a0, -1(sp)
  lh a0, 2(sp)
  lw a0, 2047(sp)
  lbu a0, -2048(sp)
  lhu a0, 0(sp)
  sb a1, -1(sp)
  sh a1, 2(sp)
  sw a1, 2047(s0)
  addi a0, a1, -5
  slti a0, a1, 5
  sltiu a0, a1, 5
  xori a0, a1, 5
  ori a0, a1, 5
  andi a0, a1, 5
  slli a0, a1, 31
  srli a0, a1, 1
  srai a0, a1, 7
  add a0, a1, a2
  sub a0, a1, a2
  sll a0, a1, a2
  slt a0, a1, a2
  sltu a0, a1, a2
  xor a0, a1, a2
  srl a0, a1, a2
  sra a0, a1, a2
  or a0, a1, a2
  and a0, a1, a2
  fence rw, w
  fence.i
  ecall
  ebreak
  sret
  mret
  wfi
  sfence.vma a0, a1
  csrrw a0, mscratch, a1
  csrrs a0, mip, a1
  csrrc a0, sie, a1
  csrrwi a0, satp, 1
  csrrsi a0, sstatus, 2
  csrrci a0, mepc, 31
  mul a0, a1, a2
  mulh a0, a1, a2
  mulhsu a0, a1, a2
  mulhu a0, a1, a2
  div a0, a1, a2
  divu a0, a1, a2
  rem a0, a1, a2
  remu a0, a1, a2
  lr.w a0, (a1)
  lr.w.aqrl a0, (a1)
  sc.w a0, a2, (a1)
  sc.w.rl a0, a2, (a1)
  amoswap.w a0, a2, (a1)
  amoadd.w.aq a0, a2, (a1)
  amoxor.w a0, a2, (a1)
  amoand.w a0, a2, (a1)
  amoor.w a0, a2, (a1)
  amomin.w a0, a2, (a1)
  amomax.w a0, a2, (a1)
  amominu.w a0, a2, (a1)
  amomaxu.w.aqrl a0, a2, (a1)
pseudo:
  nop
  li a0, 42
  li a0, 0x12345678
  li a1, -2049
  la a2, far
  mv a0, a1
  not a0, a1
  neg a0, a1
  seqz a0, a1
  snez a0, a1
  sltz a0, a1
  sgtz a0, a1
  sgt a0, a1, a2
  sgtu a0, a1, a2
  zext.b a0, a1
  j pseudo
  jal far
  jr a0
  jr 8(a0)
  jalr a0
  jalr 8(a0)
  jalr a1, a0
  ret
  call far
  tail far
  beqz a0, pseudo
  bnez a0, pseudo
  blez a0, pseudo
  bgez a0, pseudo
  bltz a0, pseudo
  bgtz a0, pseudo
  bgt a0, a1, pseudo
  ble a0, a1, pseudo
  bgtu a0, a1, pseudo
  bleu a0, a1, pseudo
  fence
  fence.tso
  sfence.vma
  sfence.vma a0
  unimp
  csrr a0, mstatus
  csrw mtvec, t0
  csrs mie, a0
  csrc mie, a0
  csrwi mie, 5
  csrsi mie, 5
  csrci mie, 5
  rdcycle a0
  rdcycleh a0
  rdtime a0
  rdtimeh a0
  rdinstret a0
  rdinstreth a0
  lw a0, 8(zero)
  lui t0, 0x10000
  sw a0, 4(t0)
far:
  ret
`;

/** objdump -b binary has no symbols, so it writes targets as 0x...; disasm writes them bare like -d on an ELF. */
function normalizeBinaryListing(line: string): string {
  return line.replace(/(\t(?:j|jal|b[a-z]+)\t(?:[a-z0-9]+,)*)0x([0-9a-f]+)$/, "$1$2").replace(/ # 0x/, " # ");
}

describe.skipIf(!OBJDUMP_BIN)(
  "objdump cross-check (skipped when riscv64-unknown-elf-objdump is not on PATH)",
  () => {
    it("a program with every instruction and pseudo form lists exactly as objdump lists it", () => {
      const a = new Assembler({ text: 0x80000000 });
      a.asm(PROGRAM);
      const text = a.assemble().sections[0];
      const dir = mkdtempSync(join(tmpdir(), "emu-objdump-"));
      const file = join(dir, "prog.bin");
      writeFileSync(file, text.bytes);
      const out = execFileSync(
        OBJDUMP_BIN!,
        ["-D", "-b", "binary", "-m", "riscv:rv32", `--adjust-vma=0x${text.addr.toString(16)}`, file],
        { encoding: "utf8" },
      );
      const expected = out
        .split("\n")
        .filter((l) => /^\s*[0-9a-f]+:\t/.test(l))
        .map(normalizeBinaryListing);
      expect(disasmRange(text.bytes, text.addr)).toEqual(expected);
    });
  },
);
