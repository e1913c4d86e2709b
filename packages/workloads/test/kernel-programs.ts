/**
 * User programs for the kernel tests, written against abi.ts, and a helper
 * that runs a guest image on emu-core. Each program that checks things
 * itself collects failures as bits in s11 and exits with s11, so a failed
 * check shows up as a non-zero exit code in the report.
 */
import { type Assembler, type Image, Machine, type MachineConfig, type RunResult } from "@shadowlab/emu-core";
import { checksumOf, DEFAULT_KERNEL, type KernelOptions, SYS, USER } from "../src/kernel/abi.ts";
import { buildGuestImage } from "../src/kernel/index.ts";

export const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** `li a7, <number>; ecall`. */
export const sys = (name: keyof typeof SYS): string => `    li    a7, ${SYS[name]}\n    ecall`;

/** The final report the kernel prints for these exit codes (pids 1..n). */
export function report(codes: readonly number[]): string {
  const lines = codes.map((c, i) => `pid ${i + 1} exit 0x${hex8(c)}\n`);
  return `${lines.join("")}checksum=0x${hex8(checksumOf(codes))}\n`;
}

export interface Program {
  user: (a: Assembler) => void;
  userData?: (a: Assembler) => void;
}

export interface GuestRun {
  image: Image;
  result: RunResult;
  output: string;
  machine: Machine;
  freePages: number;
  freePagesBoot: number;
}

export function build(program: Program, kernel: Partial<KernelOptions> = {}): Image {
  return buildGuestImage({ kernel: { ...DEFAULT_KERNEL, ...kernel }, ...program });
}

export function runImage(image: Image, config: Partial<MachineConfig> = {}, maxInstructions = 50_000_000) {
  const machine = new Machine(config);
  machine.load(image);
  const result = machine.run({ maxInstructions });
  const word = (name: string) => (machine.hart.readPhys(image.symbols[name], 4) ?? -1) >>> 0;
  return {
    image,
    result,
    output: machine.output,
    machine,
    freePages: word("kernel_free_pages"),
    freePagesBoot: word("kernel_free_pages_boot"),
  } satisfies GuestRun;
}

export function run(
  program: Program,
  kernel: Partial<KernelOptions> = {},
  config: Partial<MachineConfig> = {},
) {
  return runImage(build(program, kernel), config);
}

// ---- programs ------------------------------------------------------------------------------------

/** Writes "hello\n" and exits 7. */
export const hello: Program = {
  user: (a) =>
    a.asm(`
    la    a0, msg
    li    a1, 6
${sys("write")}
    li    a0, 7
${sys("exit")}`),
  userData: (a) => a.label("msg").asciz("hello\n"),
};

/**
 * Forks `children` children (child i exits 10 + i), waits for all of them
 * and for one more (must be -1), and exits with sum(pid * 256 + code) of
 * what wait returned, + 1 if the last wait said -1.
 */
export function forkWait(children: number): Program {
  return {
    user: (a) =>
      a.asm(`
    li    s1, 0
    li    s2, ${children}
fork_loop:
${sys("fork")}
    beqz  a0, child
    addi  s1, s1, 1
    blt   s1, s2, fork_loop
    li    s3, 0
    li    s4, ${children}
wait_loop:
${sys("wait")}
    slli  t0, a0, 8
    add   s3, s3, t0
    add   s3, s3, a1
    addi  s4, s4, -1
    bnez  s4, wait_loop
${sys("wait")}
    li    t0, -1
    bne   a0, t0, done
    addi  s3, s3, 1
done:
    mv    a0, s3
${sys("exit")}
child:
    addi  a0, s1, 10
${sys("exit")}`),
  };
}

export function forkWaitCodes(children: number): number[] {
  const kids = Array.from({ length: children }, (_, i) => 10 + i);
  const parent = kids.reduce((acc, code, i) => acc + (i + 2) * 256 + code, 0) + 1;
  return [parent, ...kids];
}

/**
 * A ring of `procs` processes (process 0 forks the others); each writes its
 * letter and yields, `rounds` times; process i exits 100 + i after the
 * parent has waited for the rest.
 */
export function yieldRing(procs: number, rounds: number): Program {
  return {
    user: (a) =>
      a.asm(`
    li    s1, 0
    li    s3, 1
spawn:
    li    t0, ${procs}
    bge   s3, t0, ring
${sys("fork")}
    bnez  a0, spawn_next
    mv    s1, s3
    j     ring
spawn_next:
    addi  s3, s3, 1
    j     spawn
ring:
    li    s4, ${rounds}
ring_turn:
    la    a0, letters
    add   a0, a0, s1
    li    a1, 1
${sys("write")}
${sys("yield")}
    addi  s4, s4, -1
    bnez  s4, ring_turn
    bnez  s1, ring_exit
    li    s5, ${procs - 1}
ring_wait:
    beqz  s5, ring_exit
${sys("wait")}
    addi  s5, s5, -1
    j     ring_wait
ring_exit:
    addi  a0, s1, 100
${sys("exit")}`),
    userData: (a) => a.label("letters").ascii("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
  };
}

/**
 * CPU-bound processes that never yield: process i runs an LCG from seed i
 * for `iterations` steps and exits with the result (the parent, process 0,
 * then waits for the others).
 */
export function cpuBound(procs: number, iterations: number): Program {
  return {
    user: (a) =>
      a.asm(`
    li    s1, 0
    li    s3, 1
spawn:
    li    t0, ${procs}
    bge   s3, t0, work
${sys("fork")}
    bnez  a0, spawn_next
    mv    s1, s3
    j     work
spawn_next:
    addi  s3, s3, 1
    j     spawn
work:
    mv    s2, s1
    li    s4, ${iterations}
    li    t1, 1664525
    li    t2, 1013904223
work_loop:
    mul   s2, s2, t1
    add   s2, s2, t2
    addi  s4, s4, -1
    bnez  s4, work_loop
    bnez  s1, work_exit
    li    s5, ${procs - 1}
work_wait:
    beqz  s5, work_exit
${sys("wait")}
    addi  s5, s5, -1
    j     work_wait
work_exit:
    mv    a0, s2
${sys("exit")}`),
  };
}

export function cpuBoundCodes(procs: number, iterations: number): number[] {
  return Array.from({ length: procs }, (_, seed) => {
    let x = seed;
    for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1664525) + 1013904223) | 0;
    return x >>> 0;
  });
}

/**
 * Preemption made visible: the child writes "B" and exits at once; the
 * parent first spins `spins` iterations (no syscall), then writes "A" and
 * waits. Only a timer interrupt lets the child run first ("BA").
 */
export function spinThenPrint(spins: number): Program {
  return {
    user: (a) =>
      a.asm(`
${sys("fork")}
    beqz  a0, child
    li    t0, ${spins}
spin:
    addi  t0, t0, -1
    bnez  t0, spin
    la    a0, letter_a
    li    a1, 1
${sys("write")}
${sys("wait")}
    li    a0, 0
${sys("exit")}
child:
    la    a0, letter_b
    li    a1, 1
${sys("write")}
    li    a0, 0
${sys("exit")}`),
    userData: (a) => a.label("letter_a").ascii("A").label("letter_b").ascii("B"),
  };
}

/** Fails with `bit` in s11 unless the branch skips: `expect(a0 == value)`. */
const expectEq = (reg: string, value: number, bit: number, label: string): string => `
    li    t6, ${hex(value)}
    beq   ${reg}, t6, ${label}
    ori   s11, s11, ${hex(bit)}
${label}:`;

/**
 * The heap (sbrk, demand-zero) and stack growth: every new page reads 0,
 * written values read back, write() takes a buffer from a heap page never
 * touched by the process (the kernel faults it in), and a shrunk heap
 * gives its pages back (checked by the leak test's free count).
 */
export const heapAndStack: Program = {
  user: (a) =>
    a.asm(`
    li    s11, 0
    li    a0, ${3 * 4096}
${sys("sbrk")}
${expectEq("a0", USER.heap, 0x1, "heap_old_break")}
    li    a0, 0
${sys("sbrk")}
${expectEq("a0", USER.heap + 3 * 4096, 0x2, "heap_new_break")}
    li    s1, ${hex(USER.heap)}
    li    s2, 3
heap_page:
    lw    t0, 0(s1)
    beqz  t0, heap_zero
    ori   s11, s11, 0x4
heap_zero:
    lw    t0, 2044(s1)
    beqz  t0, heap_zero_end
    ori   s11, s11, 0x4
heap_zero_end:
    sw    s1, 0(s1)
    sw    s2, 2044(s1)
    li    t0, 4096
    add   s1, s1, t0
    addi  s2, s2, -1
    bnez  s2, heap_page
    li    s1, ${hex(USER.heap)}
    lw    t0, 0(s1)
${expectEq("t0", USER.heap, 0x8, "heap_readback0")}
    li    t1, ${2 * 4096}
    add   t1, s1, t1
    lw    t0, 2044(t1)
${expectEq("t0", 1, 0x8, "heap_readback2")}
    # stack: 16 pages below the initial sp, each first touched by a store
    li    s2, 16
    mv    s3, sp
stack_page:
    li    t0, 4096
    sub   s3, s3, t0
    lw    t1, 0(s3)
    beqz  t1, stack_zero
    ori   s11, s11, 0x10
stack_zero:
    sw    s2, 0(s3)
    addi  s2, s2, -1
    bnez  s2, stack_page
    lw    t0, 0(s3)
${expectEq("t0", 1, 0x20, "stack_readback")}
    # write() from a heap page the process never touched: the kernel faults it in (3 NUL bytes out)
    li    a0, 4096
${sys("sbrk")}
    mv    s4, a0
    li    a1, 3
${sys("write")}
${expectEq("a0", 3, 0x40, "write_untouched")}
    # write() of kernel memory and of an address outside every region: -1
    li    a0, 0x80000000
    li    a1, 4
${sys("write")}
${expectEq("a0", -1, 0x80, "write_kernel")}
    li    a0, 0x30000000
    li    a1, 4
${sys("write")}
${expectEq("a0", -1, 0x100, "write_unmapped")}
    # shrink by two pages: old break returned, the pages go back to the kernel
    li    a0, ${-2 * 4096}
${sys("sbrk")}
${expectEq("a0", USER.heap + 4 * 4096, 0x200, "shrink_old")}
    li    a0, ${-(1 << 24)}
${sys("sbrk")}
${expectEq("a0", -1, 0x400, "shrink_below_heap")}
    la    a0, ok_msg
    li    a1, 3
${sys("write")}
    mv    a0, s11
${sys("exit")}`),
  userData: (a) => a.label("ok_msg").ascii("ok\n"),
};

/** map/unmap semantics; a child touching an unmapped map-region page is killed. */
export const mapUnmap: Program = {
  user: (a) =>
    a.asm(`
    li    s11, 0
    li    s1, ${hex(USER.mapBase)}
    mv    a0, s1
${sys("map")}
${expectEq("a0", 0, 0x1, "map_ok")}
    lw    t0, 0(s1)
${expectEq("t0", 0, 0x2, "map_zero")}
    li    t0, 0xabc
    sw    t0, 4(s1)
    lw    t0, 4(s1)
${expectEq("t0", 0xabc, 0x4, "map_rw")}
    mv    a0, s1
${sys("map")}
${expectEq("a0", -1, 0x8, "map_twice")}
    addi  a0, s1, 4
${sys("map")}
${expectEq("a0", -1, 0x10, "map_misaligned")}
    li    a0, ${hex(USER.mapEnd)}
${sys("map")}
${expectEq("a0", -1, 0x20, "map_outside")}
    mv    a0, s1
${sys("unmap")}
${expectEq("a0", 0, 0x40, "unmap_ok")}
    mv    a0, s1
${sys("unmap")}
${expectEq("a0", -1, 0x80, "unmap_twice")}
    mv    a0, s1
${sys("map")}
    lw    t0, 4(s1)
${expectEq("t0", 0, 0x100, "remap_zero")}
    mv    a0, s1
${sys("unmap")}
${sys("fork")}
    beqz  a0, child
${sys("wait")}
    mv    t0, a1
${expectEq("t0", 0xdead000d, 0x200, "child_killed")}
    mv    a0, s11
${sys("exit")}
child:
    lw    t0, 0(s1)
    li    a0, 1
${sys("exit")}`),
};

/**
 * Isolation: children that read kernel memory, write their own text, read
 * an unmapped address, jump into the kernel, execute a privileged
 * instruction; one that scribbles on its copy of the parent's data; one
 * that hits ebreak three times. The parent checks its data is untouched.
 */
export const isolation: Program = {
  user: (a) =>
    a.asm(`
    li    s11, 0
    la    s1, cases
    li    s2, 7
next_case:
${sys("fork")}
    beqz  a0, run_case
${sys("wait")}
    addi  s1, s1, 4
    addi  s2, s2, -1
    bnez  s2, next_case
    la    t0, shared
    lw    t0, 0(t0)
${expectEq("t0", 0x600d, 0x1, "parent_data")}
    mv    a0, s11
${sys("exit")}
run_case:
    lw    t0, 0(s1)
    jr    t0
case_read_kernel:
    li    t0, 0x80000000
    lw    t1, 0(t0)
    j     survived
case_write_text:
    li    t0, ${hex(USER.text)}
    sw    zero, 0(t0)
    j     survived
case_read_unmapped:
    li    t0, 0x30000000
    lw    t1, 0(t0)
    j     survived
case_jump_kernel:
    li    t0, 0x80000000
    jalr  t0
    j     survived
case_privileged:
    csrr  t0, sstatus
    j     survived
case_scribble:
    la    t0, shared
    li    t1, 0xbad
    sw    t1, 0(t0)
    li    a0, 0
${sys("exit")}
case_ebreak:
    ebreak
    ebreak
    ebreak
    li    a0, 5
${sys("exit")}
survived:
    li    a0, 0x5a5a
${sys("exit")}`),
  userData: (a) => {
    a.label("shared").word(0x600d);
    a.label("cases");
    a.word(
      "case_read_kernel",
      "case_write_text",
      "case_read_unmapped",
      "case_jump_kernel",
      "case_privileged",
      "case_scribble",
      "case_ebreak",
    );
  },
};

/**
 * Churn for the leak test: `forks` times fork a child that grows its heap,
 * touches it, maps two pages and exits without cleaning up; then `maps`
 * rounds of map/touch/unmap of three pages and a heap grow/shrink.
 */
export function churn(forks: number, maps: number): Program {
  return {
    user: (a) =>
      a.asm(`
    li    s1, ${forks}
fork_round:
${sys("fork")}
    beqz  a0, child
${sys("wait")}
    addi  s1, s1, -1
    bnez  s1, fork_round
    li    s1, ${maps}
map_round:
    li    s2, ${hex(USER.mapBase + 0x40_0000)}
    li    s3, 3
map_page:
    mv    a0, s2
${sys("map")}
    sw    s3, 0(s2)
    li    t0, 4096
    add   s2, s2, t0
    addi  s3, s3, -1
    bnez  s3, map_page
    li    s3, 3
unmap_page:
    li    t0, 4096
    sub   s2, s2, t0
    mv    a0, s2
${sys("unmap")}
    addi  s3, s3, -1
    bnez  s3, unmap_page
    li    a0, 8192
${sys("sbrk")}
    sw    a0, 0(a0)
    li    a0, -8192
${sys("sbrk")}
    addi  s1, s1, -1
    bnez  s1, map_round
    li    a0, 0
${sys("exit")}
child:
    li    a0, 8192
${sys("sbrk")}
    sw    a0, 0(a0)
    li    t0, 4096
    add   t0, a0, t0
    sw    a0, 0(t0)
    li    a0, ${hex(USER.mapBase)}
${sys("map")}
    li    a0, ${hex(USER.mapBase + 4096)}
${sys("map")}
    li    t0, ${hex(USER.mapBase)}
    sw    t0, 0(t0)
    li    a0, 3
${sys("exit")}`),
  };
}
