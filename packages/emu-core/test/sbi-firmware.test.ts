import { describe, expect, it } from "vitest";
import { Assembler } from "../src/asm/index.ts";
import { bootMachine } from "../src/boot.ts";
import { FDT_MAGIC } from "../src/fdt.ts";
import { FIRMWARE_MEDELEG, FIRMWARE_MIDELEG } from "../src/firmware.ts";
import { Machine } from "../src/machine.ts";
import { SBI_IMPL_ID, SbiExt } from "../src/sbi.ts";

const KERNEL = 0x8040_0000;
const RESULTS = 0x8050_0000;

interface Call {
  ext: number;
  fid: number;
  args?: number[];
}

/**
 * An S-mode "kernel" that records its boot registers, then makes each call
 * and stores (a0, a1) after it, then powers off through SRST.
 */
function kernel(calls: Call[], end: Call = { ext: SbiExt.srst, fid: 0, args: [0, 0] }): Uint8Array {
  const a = new Assembler({ text: KERNEL });
  a.asm(`
_start:
    li    s0, ${RESULTS}
    sw    a0, 0(s0)
    sw    a1, 4(s0)
    csrr  t0, satp
    sw    t0, 8(s0)
    la    t0, s_trap
    csrw  stvec, t0
    csrr  t0, mstatus          # illegal in S-mode: redirected to s_trap by the firmware
    addi  s0, s0, 16
`);
  for (const c of calls) {
    (c.args ?? []).forEach((v, i) => {
      a.li(`a${i}` as "a0", v | 0);
    });
    a.li("a6", c.fid).li("a7", c.ext | 0);
    a.asm(`
    ecall
    sw    a0, 0(s0)
    sw    a1, 4(s0)
    addi  s0, s0, 8
`);
  }
  (end.args ?? []).forEach((v, i) => {
    a.li(`a${i}` as "a0", v | 0);
  });
  a.li("a6", end.fid).li("a7", end.ext | 0);
  a.asm(`
    ecall
hang:
    j     hang
s_trap:                        # record scause, sepc and stval, skip the instruction
    li    t1, ${RESULTS}
    csrr  t0, scause
    sw    t0, 12(t1)
    csrr  t0, sepc
    addi  t0, t0, 4
    csrw  sepc, t0
    sret
message:
    .ascii "dbcn says hi"
`);
  const img = a.assemble();
  const s = img.sections[0];
  return elfOf(s.addr, s.bytes);
}

function elfOf(addr: number, code: Uint8Array): Uint8Array {
  // ELF32 header + one PT_LOAD, the smallest loadable file.
  const out = new Uint8Array(52 + 32 + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 243, true); // EM_RISCV
  v.setUint32(20, 1, true);
  v.setUint32(24, addr, true); // entry
  v.setUint32(28, 52, true); // phoff
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint16(46, 40, true);
  v.setUint32(52, 1, true); // PT_LOAD
  v.setUint32(56, 84, true);
  v.setUint32(60, addr, true);
  v.setUint32(64, addr, true);
  v.setUint32(68, code.length, true);
  v.setUint32(72, code.length, true);
  v.setUint32(76, 5, true);
  v.setUint32(80, 4, true);
  out.set(code, 84);
  return out;
}

function boot(calls: Call[], end?: Call) {
  const m = new Machine({ ramSize: 64 * 2 ** 20 });
  const layout = bootMachine(m, { kernel: kernel(calls, end), bios: "default", ramSize: 64 * 2 ** 20 });
  const result = m.run({ maxInstructions: 1e6 });
  const word = (off: number) => (m.hart.readPhys(RESULTS + off, 4) ?? 0) | 0;
  const call = (i: number): [number, number] => [word(16 + 8 * i), word(20 + 8 * i)];
  return { m, layout, result, word, call };
}

describe("the SBI firmware", () => {
  it("enters the kernel in S-mode with a0 = hart id, a1 = DTB, satp = 0, delegating as OpenSBI does", () => {
    const { m, layout, result, word } = boot([]);
    expect(result.reason).toBe("exit");
    expect(result.exitCode).toBe(0);
    expect(word(0)).toBe(0);
    expect(word(4) >>> 0).toBe(layout.dtb.start);
    const magic = [0, 1, 2, 3].map((i) => m.hart.readPhys(layout.dtb.start + i, 1) ?? 0);
    expect(((magic[0] << 24) | (magic[1] << 16) | (magic[2] << 8) | magic[3]) >>> 0).toBe(FDT_MAGIC);
    expect(word(8)).toBe(0);
    expect(word(12)).toBe(2); // the illegal csrr mstatus arrived at stvec as an illegal instruction
    expect(m.hart.medeleg).toBe(FIRMWARE_MEDELEG);
    expect(m.hart.mideleg).toBe(FIRMWARE_MIDELEG);
  });

  it("answers BASE: spec 2.0, its implementation, exact probes, and -2 for what it lacks", () => {
    const exts = [SbiExt.time, SbiExt.ipi, SbiExt.rfence, SbiExt.hsm, SbiExt.srst, SbiExt.dbcn, SbiExt.base];
    const { call } = boot([
      { ext: SbiExt.base, fid: 0 },
      { ext: SbiExt.base, fid: 1 },
      ...exts.map((e) => ({ ext: SbiExt.base, fid: 3, args: [e] })),
      { ext: SbiExt.base, fid: 3, args: [0x4e41_434c] }, // NACL: not implemented
      { ext: SbiExt.base, fid: 3, args: [SbiExt.legacyConsolePutchar] },
      { ext: SbiExt.base, fid: 3, args: [SbiExt.legacySetTimer] },
      { ext: SbiExt.base, fid: 7 },
      { ext: 0x0a00_0000, fid: 0 },
    ]);
    expect(call(0)).toEqual([0, 0x0200_0000]);
    expect(call(1)).toEqual([0, SBI_IMPL_ID]);
    for (let i = 0; i < exts.length; i++) expect(call(2 + i)).toEqual([0, 1]);
    expect(call(9)).toEqual([0, 0]);
    expect(call(10)).toEqual([0, 1]);
    expect(call(11)).toEqual([0, 0]);
    expect(call(12)).toEqual([-2, 0]);
    expect(call(13)).toEqual([-2, 0]);
  });

  it("sets the supervisor timer through stimecmp", () => {
    const { m, call } = boot([{ ext: SbiExt.time, fid: 0, args: [0x1234_5678, 0x9] }]);
    expect(call(0)).toEqual([0, 0]);
    expect(m.hart.stimecmp).toBe(0x9_1234_5678);
  });

  it("sends an IPI to hart 0 as SSIP and rejects harts that do not exist", () => {
    const { m, call } = boot([
      { ext: SbiExt.ipi, fid: 0, args: [2, 0] },
      { ext: SbiExt.ipi, fid: 0, args: [1, 1] },
      { ext: SbiExt.ipi, fid: 0, args: [1, 0] },
      { ext: SbiExt.rfence, fid: 1, args: [0, -1, 0, 0x1000] },
      { ext: SbiExt.rfence, fid: 3, args: [1, 0, 0, 0] },
    ]);
    expect(call(0)).toEqual([-3, 0]);
    expect(call(1)).toEqual([-3, 0]);
    expect(call(2)).toEqual([0, 0]);
    expect(call(3)).toEqual([0, 0]);
    expect(call(4)).toEqual([-2, 0]); // hypervisor fences need the H extension
    expect(m.hart.mipSw & 2).toBe(2);
  });

  it("reports one started hart through HSM", () => {
    const { call } = boot([
      { ext: SbiExt.hsm, fid: 2, args: [0] },
      { ext: SbiExt.hsm, fid: 2, args: [1] },
      { ext: SbiExt.hsm, fid: 0, args: [0, KERNEL, 0] },
      { ext: SbiExt.hsm, fid: 3, args: [0x8000_0000, 0, 0] },
      { ext: SbiExt.hsm, fid: 3, args: [5, 0, 0] },
    ]);
    expect(call(0)).toEqual([0, 0]);
    expect(call(1)).toEqual([-3, 0]);
    expect(call(2)).toEqual([-6, 0]);
    expect(call(3)).toEqual([-2, 0]);
    expect(call(4)).toEqual([-3, 0]);
  });

  it("writes the console through DBCN and the legacy putchar, and rejects buffers outside RAM", () => {
    const msg = KERNEL; // any RAM address with known bytes would do; the code itself is there
    const { m, call } = boot([
      { ext: SbiExt.legacyConsolePutchar, fid: 0, args: [0x3e] },
      { ext: SbiExt.dbcn, fid: 2, args: [0x0a] },
      { ext: SbiExt.dbcn, fid: 0, args: [4, msg, 0] },
      { ext: SbiExt.dbcn, fid: 0, args: [4, 0x1000, 0] },
      { ext: SbiExt.dbcn, fid: 0, args: [4, msg, 1] },
    ]);
    expect(call(0)[0]).toBe(0);
    expect(call(2)).toEqual([0, 4]);
    expect(call(3)).toEqual([-3, 0]);
    expect(call(4)).toEqual([-3, 0]);
    const out = Buffer.from(m.output, "latin1");
    expect(out.subarray(0, 2).toString()).toBe(">\n");
    expect(out.length).toBe(6);
  });

  it("ends the run through SRST: shutdown passes, a system failure fails with 1, bad types are refused", () => {
    expect(boot([], { ext: SbiExt.srst, fid: 0, args: [0, 1] }).result.exitCode).toBe(1);
    const bad = boot([
      { ext: SbiExt.srst, fid: 0, args: [7, 0] },
      { ext: SbiExt.srst, fid: 0, args: [0, 9] },
    ]);
    expect(bad.call(0)).toEqual([-3, 0]);
    expect(bad.call(1)).toEqual([-3, 0]);
    expect(bad.result.exitCode).toBe(0);
  });
});
