/**
 * A random guest as an image: the boot stub (M-mode, run natively and on
 * QEMU; the hypervisor starts at `supervisor_entry` and plays its part), a
 * prologue, the operations, a reporting trap handler, and a final dump that
 * prints everything the guest can observe: its registers, its traps (a
 * running hash of scause, stval and sepc), the counters it read, and a hash
 * of its data and page-table memory. Then it powers off.
 */
import { Assembler, type Image } from "@shadowlab/emu-core";
import type { FuzzProgram, Op } from "./generate.ts";
import { POOL } from "./generate.ts";
import {
  ALIAS_DELTA,
  ARENA,
  ARENA_PAGES,
  HASHED_BYTES,
  MEGA_WINDOW,
  PT_BASE,
  RAM_BASE,
  rootIndexAddr,
  SPARE,
  STATE,
  TEST_DEVICE,
  TEXT,
  tablePages,
  UART,
  USER_ALIAS,
  WINDOW,
} from "./layout.ts";

/** Traps after which the handler stops the guest and dumps (a guest stuck in a fault loop still ends). */
export const TRAP_LIMIT = 64;
/** Instructions of the boot stub from _start through its mret (the native run skips them in its counters). */
export const STUB_LABEL_END = "stub_end";

/** The state area (gp) layout in bytes. */
const ST = { t0: 0, t1: 4, t2: 8, count: 12, hash: 16, instret: 20, cycle: 24, time: 28 };

/** Static state while rendering: the guest's pretend mode and whether it translates. */
interface RenderState {
  user: boolean;
  space: number; // -1 bare
}

/** The assembly text of the guest (for reproducers) and its image. */
export function assembleGuest(p: FuzzProgram): { image: Image; source: string } {
  const src: string[] = [];
  bootStub(src);
  src.push(".align 4", "supervisor_entry:");
  prologue(p, src);
  const st: RenderState = { user: false, space: -1 };
  if (p.startSpace >= 0) src.push(render(p, { kind: "satp", space: p.startSpace }, st, -1));
  p.ops.forEach((op, i) => {
    const text = render(p, op, st, i);
    if (text) src.push(`# op ${i}`, text);
  });
  if (st.user) src.push("ecall");
  src.push("j dump");
  handler(p, src);
  dump(p, src);
  const source = src.join("\n");
  const a = new Assembler({ text: TEXT, data: STATE, rodata: ARENA });
  a.asm(source);
  a.section(".data");
  a.label("state").space(0x1000);
  const words = tableWords(p);
  for (const w of words) a.word(w);
  a.section(".rodata");
  for (const w of p.arena) a.word(w);
  a.section(".text");
  return { image: a.assemble(), source };
}

function tableWords(p: FuzzProgram): number[] {
  const pages = tablePages(p.spaces);
  const end = Math.max(...pages) + 0x1000;
  const out: number[] = [];
  for (let at = PT_BASE; at < end; at += 4) out.push(p.tables.get(at) ?? 0);
  return out;
}

function bootStub(src: string[]): void {
  src.push(
    "_start:",
    "la t0, machine_trap",
    "csrw mtvec, t0",
    "li t0, -1",
    "csrw 0x3b0, t0", // pmpaddr0: everything
    "li t0, 0x1f",
    "csrw 0x3a0, t0", // pmpcfg0: NAPOT RWX
    "li t0, 0xb1ff",
    "csrw medeleg, t0", // every exception but ecalls from S and M
    "li t0, 0x222",
    "csrw mideleg, t0",
    "li t0, 0x80000000",
    "csrw menvcfgh, t0", // Sstc
    "li t0, 7",
    "csrw mcounteren, t0",
    "li t0, 0x1800",
    "csrc mstatus, t0",
    "li t0, 0x800",
    "csrs mstatus, t0", // MPP = S
    "la t0, supervisor_entry",
    "csrw mepc, t0",
    "mret",
    `${STUB_LABEL_END}:`,
    ".align 4",
    "machine_trap:",
    // An ecall from S gets the hypervisor's answer (an SBI that implements nothing); anything else fails.
    "csrr t0, mcause",
    "li t1, 9",
    "bne t0, t1, machine_trap_fail",
    "csrr t0, mepc",
    "addi t0, t0, 4",
    "csrw mepc, t0",
    "li a0, -2",
    "li a1, 0",
    "mret",
    "machine_trap_fail:",
    `li t0, ${TEST_DEVICE}`,
    `li t1, ${((0x4d << 16) | 0x3333) >>> 0}`,
    "sw t1, 0(t0)",
    "machine_trap_hang:",
    "j machine_trap_hang",
  );
}

function prologue(p: FuzzProgram, src: string[]): void {
  src.push("la gp, state", "la t0, trap_handler", "csrw stvec, t0");
  if (!p.portable) src.push("li t0, -1", "csrw stimecmp, t0", "csrw stimecmph, t0");
  POOL.forEach((r, i) => {
    src.push(`li ${r}, ${p.regs[i] | 0}`);
  });
  if (!p.portable) {
    src.push("csrr t0, instret", `sw t0, ${ST.instret}(gp)`);
    src.push("csrr t0, cycle", `sw t0, ${ST.cycle}(gp)`);
    src.push("csrr t0, time", `sw t0, ${ST.time}(gp)`);
  }
}

function render(p: FuzzProgram, op: Op, st: RenderState, index: number): string {
  switch (op.kind) {
    case "asm":
      if (op.where === "S" && st.user) return "";
      if (op.where === "unpaged-or-S" && st.user && st.space >= 0) return "";
      return op.asm;
    case "satp": {
      if (st.user) return "";
      st.space = op.space;
      if (op.space < 0) return "csrw satp, zero";
      const s = p.spaces[op.space];
      const asid = p.asids[op.space];
      const satp = (0x8000_0000 | (asid << 22) | (s.root >>> 12)) >>> 0;
      // Reusing ASID 0 for another address space requires a fence before it is used.
      return `li t0, ${satp}\ncsrw satp, t0${asid === 0 ? "\nsfence.vma" : ""}`;
    }
    case "enter-user": {
      if (st.user) return "";
      st.user = true;
      const label = `user_${index}`;
      const alias = st.space >= 0 ? `\nli t1, ${ALIAS_DELTA}\nsub t0, t0, t1` : "";
      return `li t0, 0x100\ncsrc sstatus, t0\nla t0, ${label}${alias}\ncsrw sepc, t0\nsret\n${label}:`;
    }
    case "leave-user":
      if (!st.user) return "";
      st.user = false;
      return "ecall";
  }
}

function handler(p: FuzzProgram, src: string[]): void {
  const mix = (reg: string) => [`slli t2, t1, 5`, "sub t1, t2, t1", `add t1, t1, ${reg}`];
  src.push(
    ".align 4",
    "trap_handler:",
    `sw t0, ${ST.t0}(gp)`,
    `sw t1, ${ST.t1}(gp)`,
    `sw t2, ${ST.t2}(gp)`,
    `lw t0, ${ST.count}(gp)`,
    "addi t0, t0, 1",
    `sw t0, ${ST.count}(gp)`,
    `li t1, ${TRAP_LIMIT}`,
    "bge t0, t1, dump",
    `lw t1, ${ST.hash}(gp)`,
    "csrr t0, scause",
    ...mix("t0"),
    "csrr t0, stval",
    ...mix("t0"),
    "csrr t0, sepc",
    ...mix("t0"),
    `sw t1, ${ST.hash}(gp)`,
    "csrr t0, scause",
    "bltz t0, trap_interrupt",
    "li t1, 8",
    "bne t0, t1, trap_skip",
    // An ecall from user mode: back to S after it (at its kernel address when it ran from the alias).
    "csrr t0, sepc",
    `li t1, ${USER_ALIAS}`,
    "bltu t0, t1, trap_ecall_kernel",
    `li t1, ${USER_ALIAS + 0x40_0000}`,
    "bgeu t0, t1, trap_ecall_kernel",
    `li t1, ${ALIAS_DELTA}`,
    "add t0, t0, t1",
    "trap_ecall_kernel:",
    "addi t0, t0, 4",
    "csrw sepc, t0",
    "li t0, 0x100",
    "csrs sstatus, t0",
    "j trap_out",
    "trap_skip:",
    "csrr t0, sepc",
    "addi t0, t0, 4",
    "csrw sepc, t0",
    "j trap_out",
    "trap_interrupt:",
    "li t0, 2",
    "csrc sip, t0",
    ...(p.portable ? [] : ["li t0, -1", "csrw stimecmp, t0", "csrw stimecmph, t0"]),
    "trap_out:",
    `lw t0, ${ST.t0}(gp)`,
    `lw t1, ${ST.t1}(gp)`,
    `lw t2, ${ST.t2}(gp)`,
    "sret",
  );
}

function dump(p: FuzzProgram, src: string[]): void {
  src.push(".align 4", "dump:", "csrci sstatus, 2");
  if (!p.portable) {
    src.push("csrr t0, instret", `lw t1, ${ST.instret}(gp)`, "sub t0, t0, t1", `sw t0, ${ST.instret}(gp)`);
    src.push("csrr t0, cycle", `lw t1, ${ST.cycle}(gp)`, "sub t0, t0, t1", `sw t0, ${ST.cycle}(gp)`);
    src.push("csrr t0, time", `lw t1, ${ST.time}(gp)`, "sub t0, t0, t1", `sw t0, ${ST.time}(gp)`);
  }
  src.push("csrw satp, zero", "sfence.vma");
  for (const r of POOL) src.push(`mv t0, ${r}`, "jal puthex");
  src.push("jal newline");
  const words = p.portable ? [ST.count, ST.hash] : [ST.count, ST.hash, ST.instret, ST.cycle, ST.time];
  for (const off of words) src.push(`lw t0, ${off}(gp)`, "jal puthex");
  src.push("jal newline");
  // A hash of the arena and the page tables: what the guest wrote, and the A/D bits the walkers set.
  const pages = [
    ...Array.from({ length: ARENA_PAGES }, (_, i) => ARENA + i * 0x1000),
    ...tablePages(p.spaces),
  ];
  src.push("li t0, 0");
  for (const page of pages) {
    const loop = `hash_${page.toString(16)}`;
    src.push(`li t3, ${page}`, `li t4, ${page + HASHED_BYTES}`, `${loop}:`, "lw t5, 0(t3)");
    src.push("slli t6, t0, 5", "sub t0, t6, t0", "add t0, t0, t5", "addi t3, t3, 4", `bltu t3, t4, ${loop}`);
  }
  // The root entries past the hashed bytes that edits name.
  for (const s of p.spaces) {
    for (const va of [WINDOW, MEGA_WINDOW, SPARE, RAM_BASE, USER_ALIAS]) {
      src.push(
        `li t3, ${rootIndexAddr(s.root, va)}`,
        "lw t5, 0(t3)",
        "slli t6, t0, 5",
        "sub t0, t6, t0",
        "add t0, t0, t5",
      );
    }
  }
  src.push("jal puthex");
  src.push(
    "jal newline",
    `li t0, ${TEST_DEVICE}`,
    "li t1, 0x5555",
    "sw t1, 0(t0)",
    "dump_hang:",
    "j dump_hang",
  );
  src.push(
    "puthex:",
    `li t1, ${UART}`,
    "li t2, 28",
    "puthex_loop:",
    "srl tp, t0, t2",
    "andi tp, tp, 15",
    "addi tp, tp, 48",
    "li a0, 58",
    "blt tp, a0, puthex_digit",
    "addi tp, tp, 39",
    "puthex_digit:",
    "sb tp, 0(t1)",
    "addi t2, t2, -4",
    "bgez t2, puthex_loop",
    "li tp, 32",
    "sb tp, 0(t1)",
    "ret",
    "newline:",
    `li t1, ${UART}`,
    "li tp, 10",
    "sb tp, 0(t1)",
    "ret",
  );
}
