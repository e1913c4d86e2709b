/**
 * The hypervisor's SBI answers exactly what the native firmware answers: one
 * S-mode program makes a series of calls, records (a0, a1) after each, and
 * powers off through SRST; natively (our firmware) and under every strategy
 * the records, the console and the exit are the same, and every call is
 * counted by extension and function.
 */
import { Assembler, type BootFiles, bootMachine, Machine, SbiExt } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";
import { sbiCallName } from "../src/sbi.ts";

const KERNEL = 0x8040_0000;
const RESULTS = 0x8050_0000;
const RAM = 32 * 2 ** 20;

const CALLS: Array<[number, number, number[]]> = [
  [SbiExt.base, 0, []],
  [SbiExt.base, 1, []],
  [SbiExt.base, 2, []],
  [SbiExt.base, 3, [SbiExt.time]],
  [SbiExt.base, 3, [SbiExt.dbcn]],
  [SbiExt.base, 3, [0x4e41_434c]],
  [SbiExt.base, 3, [SbiExt.legacyConsoleGetchar]],
  [SbiExt.base, 4, []],
  [SbiExt.base, 9, []],
  [SbiExt.time, 0, [0x20_0000, 0]],
  [SbiExt.ipi, 0, [1, 0]],
  [SbiExt.ipi, 0, [4, 0]],
  [SbiExt.rfence, 0, [0, -1]],
  [SbiExt.rfence, 2, [1, 0, 0, 0x1000, 3]],
  [SbiExt.rfence, 4, [1, 0]],
  [SbiExt.hsm, 2, [0]],
  [SbiExt.hsm, 0, [0, KERNEL, 0]],
  [SbiExt.hsm, 3, [0x8000_0000, 0, 0]],
  [SbiExt.dbcn, 0, [5, KERNEL + 0x400, 0]],
  [SbiExt.dbcn, 0, [5, 0x1000, 0]],
  [SbiExt.dbcn, 2, [0x21]],
  [SbiExt.dbcn, 1, [4, RESULTS + 0x800, 0]],
  [SbiExt.legacyConsolePutchar, 0, [0x0a]],
  [SbiExt.legacyConsoleGetchar, 0, []],
  [SbiExt.legacySetTimer, 0, [0]],
  [0x0a00_0000, 0, []],
  [SbiExt.srst, 0, [3, 0]],
];

/** The S-mode program as a RISC-V Image: flat code behind the 64-byte header, loaded at KERNEL. */
function files(): BootFiles {
  const a = new Assembler({ text: KERNEL + 64 });
  a.li("s0", RESULTS);
  a.asm("sw a0, 0(s0)\nsw a1, 4(s0)\naddi s0, s0, 8");
  for (const [ext, fid, args] of CALLS) {
    args.forEach((v, i) => {
      a.li(`a${i}` as "a0", v | 0);
    });
    a.li("a6", fid).li("a7", ext | 0);
    a.asm("ecall\nsw a0, 0(s0)\nsw a1, 4(s0)\naddi s0, s0, 8");
  }
  a.asm("li a0, 0\nli a1, 0\nli a6, 0\nli a7, 0x53525354\necall\nhang:\nj hang");
  a.space(KERNEL + 0x400 - a.here());
  a.ascii("hello");
  const img = a.assemble();
  const s = img.sections[0];
  const code = new Uint8Array(64 + s.bytes.length);
  // A RISC-V Image header (boot-image-header.rst) in front: code0 jumps over it.
  const v = new DataView(code.buffer);
  v.setUint32(0, 0x0400_006f, true);
  v.setBigUint64(8, 0x40_0000n, true);
  v.setBigUint64(16, BigInt(code.length), true);
  code.set(new TextEncoder().encode("RSC\x05"), 56);
  code.set(s.bytes, 64);
  return { kernel: code, bios: "default", ramSize: RAM };
}

const WORDS = 2 * (CALLS.length + 1);

function native() {
  const m = new Machine({ ramSize: RAM });
  m.uart.pushInput("in");
  bootMachine(m, files());
  const r = m.run({ maxInstructions: 1e6 });
  const words = Array.from({ length: WORDS }, (_, i) => (m.hart.readPhys(RESULTS + 4 * i, 4) ?? 0) | 0);
  return { exit: [r.reason, r.exitCode], out: m.output, words };
}

function virtualized(strategy: string) {
  const hv = new Hypervisor({ machine: { ramSize: 128 * 2 ** 20 }, guestRamSize: RAM });
  const g = hv.addGuest(files(), strategy);
  g.uart.pushInput("in");
  const r = hv.run({ maxInstructions: 1e6 });
  const words = Array.from({ length: WORDS }, (_, i) => g.memory.read32(RESULTS + 4 * i) | 0);
  return { exit: [r.guests[0].state, r.guests[0].exitCode], out: r.guests[0].output, words, stats: r.stats };
}

describe("SBI served by the hypervisor", () => {
  const reference = native();

  it("natively, the firmware answers as the specification says", () => {
    expect(reference.exit).toEqual(["exit", 0]);
    expect(reference.words[0]).toBe(0); // a0 = hart id
    expect(reference.words.slice(2, 4)).toEqual([0, 0x0200_0000]);
    expect(reference.out.startsWith("hello!")).toBe(true);
  });

  it.each(strategyNames())("under %s gives the guest exactly what the firmware gives", (strategy) => {
    const r = virtualized(strategy);
    expect(r.words).toEqual(reference.words);
    expect(r.out).toBe(reference.out);
    expect(r.exit).toEqual(["exited", 0]);
    const extra = r.stats.extra;
    expect(extra["hv.sbi.base.probe_extension"]).toBe(4);
    expect(extra["hv.sbi.dbcn.console_write"]).toBe(2);
    expect(extra["hv.sbi.srst.system_reset"]).toBe(2);
    expect(extra["hv.sbi.legacy_console_putchar"]).toBe(1);
    expect(extra["hv.exit.sbi"]).toBe(CALLS.length + 1);
  });

  it("names counters by extension and function", () => {
    expect(sbiCallName(SbiExt.rfence, 2)).toBe("sbi.rfence.remote_sfence_vma_asid");
    expect(sbiCallName(SbiExt.legacyConsolePutchar, 0)).toBe("sbi.legacy_console_putchar");
    expect(sbiCallName(0x1234_5678, 3)).toBe("sbi.0x12345678.fid3");
  });
});
