/**
 * A bare-metal test image for the H extension, written with our assembler,
 * that runs on this machine and on `qemu-system-riscv32 -machine virt -bios
 * none -cpu rv32,h=true` and prints one `name value` line per observation:
 * CSR write/read behaviour, two-stage translation, guest-page and VS-stage
 * page faults, the virtual-instruction exception, delegation to VS
 * (medeleg + hedeleg) and to HS (medeleg alone, with htval and hstatus), and
 * hfence.gvma / hfence.vvma after the tables change. It prints only what the
 * spec pins down (QEMU 7.2 keeps WPRI bits of hstatus and hgatp as written,
 * so those reads are masked to the defined fields, and writes only legal
 * values to WARL fields).
 */
import { Assembler } from "../../src/asm/index.ts";
import type { Reg } from "../../src/asm/operands.ts";
import type { Image } from "../../src/image.ts";

const UART = 0x1000_0000;
const TEST_DEVICE = 0x0010_0000;
/** Guest code sits at machine address CODE_MA, guest-physical CODE_GPA, guest-virtual CODE_VA. */
const CODE_MA = 0x8050_0000;
const CODE_GPA = 0x8020_0000;
const CODE_VA = 0x1000_0000;
const DATA_VA = CODE_VA + 0x1000;
const BAD_G_VA = CODE_VA + 0x2000; // VS maps it to a guest-physical page the G-stage lacks
const UNMAPPED_VA = CODE_VA + 0x3000; // not in the VS table
const G_ROOT = 0x8010_0000; // 16 KiB aligned
const G_L0 = 0x8010_4000;
const VS_ROOT_GPA = CODE_GPA + 0x2000;
const VS_L0_GPA = CODE_GPA + 0x3000;
const V = 1;
const RWX_AD = 2 | 4 | 8 | 64 | 128;
const U = 16;

const pte = (pa: number, flags: number): number => ((Math.floor(pa / 4096) << 10) | flags) >>> 0;
/** G-stage map of the 4 MiB window 0x8000_0000..: guest page -> machine page. */
const G_PAGES: readonly [number, number][] = [
  [CODE_GPA, CODE_MA],
  [CODE_GPA + 0x1000, 0x8051_0000], // data A
  [VS_ROOT_GPA, 0x8052_0000],
  [VS_L0_GPA, 0x8053_0000],
  [CODE_GPA + 0x4000, 0x8054_0000], // data B
];
const GPA_TO_MA = new Map(G_PAGES);
const ma = (gpa: number): number => (GPA_TO_MA.get((gpa & ~0xfff) >>> 0) ?? 0) + (gpa & 0xfff);

export function hQemuImage(): Image {
  const a = new Assembler({ text: 0x8000_0000, rodata: CODE_MA, data: 0x8002_0000 });
  const store = (addr: number, value: number) => a.li("t0", addr).li("t1", value).sw("t1", 0, "t0");
  const kv = (name: string, reg: Reg) => a.la("a0", `s_${name}`).mv("a1", reg).call("kv");
  const names = new Set<string>();
  const say = (name: string, reg: Reg) => {
    names.add(name);
    kv(name, reg);
  };
  const enter = (label: string, next: string) => {
    a.la("s11", next);
    a.li("t0", CODE_VA).la("t1", label).add("t0", "t0", "t1").la("t1", "guest_base").sub("t0", "t0", "t1");
    a.csrw("mepc", "t0");
    a.li("t0", 3 << 11)
      .csrc("mstatus", "t0")
      .li("t0", 1 << 11)
      .csrs("mstatus", "t0");
    a.li("t0", 1 << 7).csrs("mstatush", "t0");
    a.mret();
  };

  a.label("_start");
  a.li("sp", 0x8003_0000);
  a.la("t0", "mtrap").csrw("mtvec", "t0");
  // PMP: let S, U, VS and VU reach all memory (QEMU implements PMP; with no entry they could reach nothing).
  a.li("t0", -1).csrw(0x3b0, "t0").li("t0", 0x1f).csrw(0x3a0, "t0");
  // CSR behaviour
  a.li("t0", 1 << 7)
    .csrr("t1", "misa")
    .and("s1", "t1", "t0");
  say("misa.h", "s1");
  a.li("t0", -1).csrw("hstatus", "t0").csrr("t1", "hstatus").li("t0", 0x7003c0).and("s1", "t1", "t0");
  say("hstatus", "s1");
  a.csrw("hstatus", "zero");
  a.li("t0", -1).csrw("hedeleg", "t0").csrr("s1", "hedeleg");
  say("hedeleg", "s1");
  a.li("t0", -1).csrw("hideleg", "t0").csrr("s1", "hideleg");
  say("hideleg", "s1");
  a.li("t0", -1).csrw("hvip", "t0").csrr("s1", "hvip");
  say("hvip", "s1");
  a.csrr("t1", "mip").li("t0", 0x444).and("s1", "t1", "t0");
  say("mip.vs", "s1");
  a.csrr("t1", "hip").and("s1", "t1", "t0");
  say("hip", "s1");
  a.csrw("hvip", "zero").csrw("hideleg", "zero").csrw("hedeleg", "zero");
  // VS bits of mideleg read as one (QEMU 7.2 shows them only once mideleg has been written).
  a.csrw("mideleg", "zero").csrr("t1", "mideleg").li("t0", 0x444).and("s1", "t1", "t0");
  say("mideleg.vs", "s1");
  a.li("t0", 0x1234_5678).csrw("vsscratch", "t0").csrr("s1", "vsscratch");
  say("vsscratch", "s1");
  a.li("t0", 0x8000_0101).csrw("vstvec", "t0").csrr("s1", "vstvec");
  say("vstvec", "s1");
  a.csrr("s1", "hgeip");
  say("hgeip", "s1");
  // Tables: the G-stage (Sv32x4) and the guest's own (Sv32), A and D preset.
  store(G_ROOT + (0x8000_0000 >>> 22) * 4, pte(G_L0, V));
  for (const [gpa, m] of G_PAGES) store(G_L0 + ((gpa >>> 12) & 0x3ff) * 4, pte(m, V | RWX_AD | U));
  store(ma(VS_ROOT_GPA + (CODE_VA >>> 22) * 4), pte(VS_L0_GPA, V));
  const vsl0 = (va: number) => ma(VS_L0_GPA + ((va >>> 12) & 0x3ff) * 4);
  store(vsl0(CODE_VA), pte(CODE_GPA, V | RWX_AD));
  store(vsl0(DATA_VA), pte(CODE_GPA + 0x1000, V | RWX_AD));
  store(vsl0(BAD_G_VA), pte(0x8070_0000, V | RWX_AD));
  store(0x8051_0000, 0x1111_1111);
  store(0x8054_0000, 0x2222_2222);
  store(0x8055_0000, 0x3333_3333);
  a.li("t0", (0x8000_0000 | (1 << 22) | (G_ROOT / 4096)) >>> 0).csrw("hgatp", "t0");
  a.li("t0", (0x8000_0000 | (VS_ROOT_GPA / 4096)) >>> 0).csrw("vsatp", "t0");
  // 1. a load through both stages
  enter("g_load", "step2");
  // 2. guest-page fault (to M)
  a.label("step2");
  enter("g_gpf", "step3");
  // 3. VS-stage page fault (not delegated: to M)
  a.label("step3");
  enter("g_vspf", "step4");
  // 4. virtual instruction
  a.label("step4");
  enter("g_vi", "step5");
  // 5. a VS-stage page fault delegated to VS through medeleg and hedeleg. (Not an illegal
  // instruction: QEMU 7.2 rewrites causes 2, 6 and 10 delegated to VS as if they were VS interrupts.)
  a.label("step5");
  a.li("t0", 1 << 13)
    .csrw("medeleg", "t0")
    .csrw("hedeleg", "t0");
  enter("g_deleg", "step6");
  // 6. a guest-page fault delegated to HS through medeleg: htval, hstatus.SPV/SPVP/GVA
  a.label("step6");
  a.csrw("hedeleg", "zero")
    .li("t0", 1 << 21)
    .csrw("medeleg", "t0");
  a.la("t0", "hstrap").csrw("stvec", "t0");
  enter("g_gpf", "step7");
  // 7. the G-stage moves the data page; hfence.gvma makes the guest see it
  a.label("step7");
  a.csrw("medeleg", "zero");
  store(G_L0 + (((CODE_GPA + 0x1000) >>> 12) & 0x3ff) * 4, pte(0x8055_0000, V | RWX_AD | U));
  a.hfence_gvma();
  enter("g_load", "step8");
  // 8. the guest's table moves the data page; hfence.vvma makes the guest see it
  a.label("step8");
  store(vsl0(DATA_VA), pte(CODE_GPA + 0x4000, V | RWX_AD));
  a.hfence_vvma();
  enter("g_load", "done");
  a.label("done");
  a.li("t0", TEST_DEVICE).li("t1", 0x5555).sw("t1", 0, "t0");
  a.label("hang").j("hang");

  // M trap handler: print the trap, then continue at s11 (M-mode, bare).
  a.label("mtrap");
  a.mv("s3", "a0").mv("s4", "a1").mv("s5", "a2");
  a.csrr("s6", "mcause");
  say("mcause", "s6");
  a.li("t0", 10).beq("s6", "t0", "mtrap_ecall");
  a.li("t0", 9).beq("s6", "t0", "mtrap_next"); // the HS handler's ecall
  a.csrr("s1", "mtval");
  say("mtval", "s1");
  a.csrr("s1", "mtval2");
  say("mtval2", "s1");
  // GVA after a virtual-instruction trap: 0 by the spec (mtval holds the instruction), 1 on QEMU 7.2; not printed.
  a.li("t0", 22).beq("s6", "t0", "mtrap_next");
  a.csrr("t1", "mstatush").andi("s1", "t1", 0xc0);
  say("mstatush", "s1");
  a.j("mtrap_next");
  a.label("mtrap_ecall");
  say("a0", "s3");
  say("a1", "s4");
  say("a2", "s5");
  a.label("mtrap_next");
  a.jr("s11");

  // HS trap handler (V=0, S-mode, bare): print what HS sees, then ecall to M.
  a.label("hstrap");
  a.csrr("s1", "scause");
  say("scause", "s1");
  a.csrr("s1", "stval");
  say("stval", "s1");
  a.csrr("s1", "htval");
  say("htval", "s1");
  a.csrr("t1", "hstatus").andi("s1", "t1", 0x1c0);
  say("hstatus.trap", "s1");
  a.ecall();

  // kv(a0 = name, a1 = value): "name value\n"
  a.label("kv");
  a.mv("s2", "ra").mv("a2", "a0");
  a.label("kv_s").lbu("a0", 0, "a2").beqz("a0", "kv_h").call("putc").addi("a2", "a2", 1).j("kv_s");
  a.label("kv_h").li("a0", 32).call("putc").li("t3", 28);
  a.label("kv_d").srl("t4", "a1", "t3").andi("t4", "t4", 15).addi("a0", "t4", 48);
  a.li("t2", 58).blt("a0", "t2", "kv_p").addi("a0", "a0", 39);
  a.label("kv_p").call("putc").addi("t3", "t3", -4).bgez("t3", "kv_d");
  a.li("a0", 10).call("putc").mv("ra", "s2").ret();
  a.label("putc");
  a.li("t6", UART);
  a.label("putc_w").lbu("t5", 5, "t6").andi("t5", "t5", 0x20).beqz("t5", "putc_w");
  a.sb("a0", 0, "t6").ret();

  // Guest code (VS-mode), position-independent, at CODE_MA = guest-virtual CODE_VA.
  a.section(".rodata");
  a.label("guest_base");
  a.label("g_load").li("a1", DATA_VA).lw("a0", 0, "a1").li("a1", 0).li("a2", 0).ecall();
  a.label("g_gpf").li("a1", BAD_G_VA).lw("a0", 4, "a1").ecall();
  a.label("g_vspf").li("a1", UNMAPPED_VA).lw("a0", 0, "a1").ecall();
  a.label("g_vi").csrr("a0", "hstatus").ecall();
  a.label("g_deleg").la("t0", "g_vstrap").csrw("stvec", "t0").li("a1", UNMAPPED_VA).lw("a0", 0, "a1").ecall();
  a.label("g_vstrap").csrr("a0", "scause").csrr("a1", "stval").csrr("a2", "sepc");
  a.la("t0", "g_deleg").sub("a2", "a2", "t0").ecall(); // a2: sepc relative to g_deleg

  a.section(".data");
  for (const n of names) a.label(`s_${n}`).string(n);
  return a.assemble();
}
