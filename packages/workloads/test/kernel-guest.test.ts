/**
 * The guest kernel on emu-core: boot, syscalls, scheduling, paging,
 * isolation, leaks, ASIDs and internal errors. Expected console output is
 * spelled out (the report through checksumOf), so any change in behaviour
 * or format fails here.
 */
import { csrWrite, Machine } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { DEFAULT_KERNEL, SYS, USER } from "../src/kernel/abi.ts";
import { buildGuestImage, KERNEL_ERROR } from "../src/kernel/index.ts";
import {
  build,
  churn,
  cpuBound,
  cpuBoundCodes,
  forkWait,
  forkWaitCodes,
  heapAndStack,
  hello,
  isolation,
  mapUnmap,
  type Program,
  report,
  run,
  spinThenPrint,
  sys,
  yieldRing,
} from "./kernel-programs.ts";

const KILLED = (cause: number) => (0xdead0000 | cause) >>> 0;

describe("kernel: boot and console", () => {
  it("boots, prints hello through the UART and reports pid 1's exit code 7", () => {
    const r = run(hello);
    expect(r.output).toBe(`hello\n${report([7])}`);
    expect(r.result.reason).toBe("exit");
    expect(r.result.exitCode).toBe(0);
    // only the stub runs in M-mode, and nothing ever traps into M
    expect(r.result.stats.instructions.machine).toBeLessThan(30);
    expect(r.result.stats.traps.toM).toBe(0);
    expect(r.freePages).toBe(r.freePagesBoot);
    expect(r.freePagesBoot).toBeGreaterThan(8000);
    for (const s of ["supervisor_entry", "kernel_free_pages", "kernel_free_pages_boot"]) {
      expect(r.image.symbols[s], s).toBeTypeOf("number");
    }
  });

  it("starts at supervisor_entry in S-mode with only the stub's CSR state (as a hypervisor does)", () => {
    const image = build(hello);
    const m = new Machine();
    m.load(image);
    const h = m.hart;
    csrWrite(h, 0x3b0, -1); // pmpaddr0
    csrWrite(h, 0x3a0, 0x1f); // pmpcfg0
    csrWrite(h, 0x302, 0xb1ff); // medeleg
    csrWrite(h, 0x303, 0x222); // mideleg
    csrWrite(h, 0x31a, 0x8000_0000); // menvcfgh.STCE
    csrWrite(h, 0x306, 7); // mcounteren
    for (let i = 1; i < 32; i++) h.x[i] = 0x5a5a5a5a ^ i; // registers the kernel must not rely on
    h.setPriv(1);
    h.pc = image.symbols.supervisor_entry;
    const result = m.run({ maxInstructions: 1_000_000 });
    expect(m.output).toBe(`hello\n${report([7])}`);
    expect(result.exitCode).toBe(0);
    expect(result.stats.instructions.machine).toBe(0);
  });
});

describe("kernel: processes", () => {
  it("fork/wait: children's exit codes reach the parent and the report lists every pid in order", () => {
    const r = run(forkWait(4));
    expect(r.output).toBe(report(forkWaitCodes(4)));
    expect(r.result.exitCode).toBe(0);
  });

  it("yield passes the CPU round robin through a ring of processes", () => {
    const r = run(yieldRing(3, 5));
    expect(r.output).toBe(`${"ABC".repeat(5)}${report([100, 101, 102])}`);
  });

  it("timer preemption: CPU-bound processes that never yield all finish, deterministically", () => {
    const program = cpuBound(3, 50_000);
    const first = run(program, { quantum: 1000 });
    const second = run(program, { quantum: 1000 });
    expect(first.output).toBe(report(cpuBoundCodes(3, 50_000)));
    expect(first.result.stats.traps.interrupts.supervisor_timer).toBeGreaterThan(30);
    expect(second.output).toBe(first.output);
    expect(second.result.instructions).toBe(first.result.instructions);
  });

  it("timer preemption lets a child run while its parent spins (and only the timer does)", () => {
    expect(run(spinThenPrint(200_000), { quantum: 1000 }).output).toBe(`BA${report([0, 0])}`);
    expect(run(spinThenPrint(200_000), { quantum: 0x7fff_ffff }).output).toBe(`AB${report([0, 0])}`);
  });
});

describe("kernel: memory", () => {
  it("sbrk heap and stack pages are demand-zero; write() faults in an untouched buffer", () => {
    const r = run(heapAndStack);
    expect(r.output).toBe(`\0\0\0ok\n${report([0])}`);
    const ex = r.result.stats.traps.exceptions;
    expect(ex.load_page_fault + ex.store_page_fault).toBeGreaterThanOrEqual(3 + 16);
    expect(r.freePages).toBe(r.freePagesBoot);
  });

  it("map/unmap: zeroed pages, refusals, and a child touching an unmapped page is killed", () => {
    const r = run(mapUnmap);
    expect(r.output).toBe(`killed pid 2: load page fault at 0x10000000\n${report([0, KILLED(13)])}`);
  });

  it("isolation: bad accesses kill only the offender; the rest (and the parent's data) are untouched", () => {
    const r = run(isolation);
    const pc = /illegal instruction at 0x(000[0-9a-f]{5})/.exec(r.output)?.[1];
    expect(Number.parseInt(pc ?? "0", 16)).toBeGreaterThanOrEqual(USER.text);
    expect(r.output).toBe(
      [
        "killed pid 2: load page fault at 0x80000000",
        "killed pid 3: store/AMO page fault at 0x00010000",
        "killed pid 4: load page fault at 0x30000000",
        "killed pid 5: instruction page fault at 0x80000000",
        `killed pid 6: illegal instruction at 0x${pc}`,
        "",
      ].join("\n") + report([0, KILLED(13), KILLED(15), KILLED(13), KILLED(12), KILLED(2), 0, 5]),
    );
    expect(r.machine.hart.readPhys(r.image.symbols.kernel_ebreaks, 4)).toBe(3);
    expect(r.result.exitCode).toBe(0);
  });

  it("no leaks: after 50 fork/exit and 50 map/unmap cycles every page is back", () => {
    const image = build(churn(50, 50));
    const m = new Machine();
    m.load(image);
    const free = () => m.hart.readPhys(image.symbols.kernel_free_pages, 4) ?? -1;
    const boot = () => m.hart.readPhys(image.symbols.kernel_free_pages_boot, 4) ?? -1;
    m.run({ maxInstructions: 400_000 });
    expect(free()).toBeLessThan(boot()); // mid-run: processes hold pages
    const r = m.run({ maxInstructions: 20_000_000 });
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
    expect(m.output).toBe(report([0, ...Array(50).fill(3)]));
    expect(free()).toBe(boot());
  });
});

describe("kernel: ASIDs", () => {
  const programs: [string, Program, number][] = [
    ["forkwait", forkWait(4), DEFAULT_KERNEL.quantum],
    ["ring", yieldRing(4, 6), DEFAULT_KERNEL.quantum],
    ["preempt", cpuBound(3, 20_000), 1000],
    ["isolation", isolation, DEFAULT_KERNEL.quantum],
    ["heap", heapAndStack, DEFAULT_KERNEL.quantum],
  ];
  it.each(programs)("%s: identical console output with and without ASIDs", (_, program, quantum) => {
    const plain = run(program, { asid: false, quantum });
    const tagged = run(program, { asid: true, quantum });
    expect(tagged.output).toBe(plain.output);
    expect(tagged.result.exitCode).toBe(0);
    const [p, t] = [plain.result.stats.tlb.tlb, tagged.result.stats.tlb.tlb];
    // without ASIDs every switch flushes everything; with them only boot does
    expect(t.flushAll).toBe(1);
    expect(p.flushAll).toBeGreaterThan(2);
    expect(t.misses).toBeLessThan(p.misses);
  });

  it("refuses to run with ASIDs when satp implements too few ASID bits", () => {
    const r = run(hello, { asid: true, maxProcs: 64 }, { asidBits: 4 });
    expect(r.output).toBe("kernel: satp has too few ASID bits for maxProcs\n");
    expect(r.result.exitCode).toBe(KERNEL_ERROR.asidBits);
  });
});

describe("kernel: internal errors power off with a non-zero code", () => {
  it("out of process slots", () => {
    const r = run(forkWait(4), { maxProcs: 3 });
    expect(r.output).toBe("kernel: out of process slots\n");
    expect(r.result.exitCode).toBe(KERNEL_ERROR.outOfProcs);
  });

  it("out of memory", () => {
    const r = run({
      user: (a) =>
        a.asm(`
    li    s1, ${USER.mapBase}
more:
    mv    a0, s1
${sys("map")}
    li    t0, 4096
    add   s1, s1, t0
    j     more`),
    });
    expect(r.output).toBe("kernel: out of memory\n");
    expect(r.result.exitCode).toBe(KERNEL_ERROR.outOfMemory);
  });

  it("a trap inside the kernel is a panic line, not a hang", () => {
    const image = build({ user: (a) => a.asm(sys("getpid")) });
    const m = new Machine();
    m.load(image);
    // a corrupted syscall table sends the kernel to an unmapped address in S-mode
    m.hart.writePhys(image.symbols.syscall_table + 4 * SYS.getpid, 4, 0x4);
    const r = m.run({ maxInstructions: 1_000_000 });
    expect(m.output).toBe(
      "kernel panic: scause=0x0000000c sepc=0x00000004 stval=0x00000004\nkernel: trap in supervisor mode\n",
    );
    expect(r.exitCode).toBe(KERNEL_ERROR.kernelTrap);
  });

  it("rejects bad options and empty programs at build time", () => {
    const user = hello.user;
    expect(() => buildGuestImage({ kernel: { ...DEFAULT_KERNEL, quantum: 0 }, user })).toThrow(/quantum/);
    expect(() => buildGuestImage({ kernel: { ...DEFAULT_KERNEL, maxProcs: 512 }, user })).toThrow(/maxProcs/);
    expect(() => buildGuestImage({ kernel: DEFAULT_KERNEL, user: () => {} })).toThrow(/no code/);
  });
});
