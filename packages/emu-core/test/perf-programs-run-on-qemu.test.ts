/**
 * The perf programs' ELF files run to their power-off on QEMU (`virt`,
 * `-bios none`, this machine's ISA) as they do here: the same checksum, and
 * the same number of instructions up to the end. QEMU runs with
 * `-icount shift=0,align=off,sleep=off`, which makes its minstret count
 * instructions; the programs print minstret at their final ecall. QEMU's
 * count is larger by the same few instructions on every program and size
 * (8 with QEMU 7.2): its reset vector at 0x1000 (six instructions,
 * hw/riscv/boot.c), the final ecall, which does not retire here (privileged
 * spec 3.3.1: "As ECALL and EBREAK cause synchronous exceptions, they are not
 * considered to retire, and should not increment the minstret CSR") but which
 * icount counts as executed, and the reading csrr itself, already counted.
 * Also checks that a program that powers off with "fail" is reported as an
 * error, not timed. Skips where qemu-system-riscv32 is absent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PERF_PROGRAMS } from "../perf/programs.ts";
import { QEMU, QemuRunError, qemuVersion, runOnQemu } from "../perf/qemu.ts";
import { parseEnd } from "../perf/run-to-exit.ts";
import { Assembler } from "../src/asm/index.ts";
import { readElf, writeElf } from "../src/elf.ts";
import type { Image } from "../src/image.ts";
import { Machine } from "../src/machine.ts";

const present = qemuVersion() !== undefined;
if (!present) console.warn(`perf-programs-run-on-qemu: skipped, ${QEMU} not found`);

const dir = present ? mkdtempSync(join(tmpdir(), "shadowlab-perf-programs-")) : "";
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ICOUNT = ["-icount", "shift=0,align=off,sleep=off"];

function writeTemp(name: string, image: Image): string {
  const path = join(dir, `${name}.elf`);
  writeFileSync(path, writeElf(image));
  return path;
}

/** This machine on the ELF file itself, to its power-off. */
function onMachine(elf: string) {
  const m = new Machine({ engine: "interp" });
  m.load(readElf(readFileSync(elf), elf));
  const r = m.run({ maxInstructions: 50_000_000 });
  expect(r.reason).toBe("exit");
  expect(r.exitCode).toBe(0);
  const end = parseEnd(m.output);
  expect(end).toBeDefined();
  return end!;
}

describe.skipIf(!present)("perf programs on QEMU", () => {
  const offsets: number[] = [];

  describe.each(PERF_PROGRAMS.map((p) => [p.id, p] as const))("%s", (_id, p) => {
    const sizes = p.id === "tlb-miss-sv32" ? [1, 37] : [1, 5_000];
    it.each(sizes)("%i iterations: power-off, checksum and instruction count as here", (n) => {
      const elf = writeTemp(`${p.id}-${n}`, p.build(n));
      const ours = onMachine(elf);
      const qemu = runOnQemu(elf, { extraArgs: ICOUNT, timeoutMs: 120_000 });
      expect(qemu.checksum).toBe(ours.checksum);
      offsets.push(qemu.instret - ours.instret);
    });
  });

  it("counts the same instructions as this machine on every program and size, up to QEMU's reset vector", () => {
    expect(offsets).toHaveLength(PERF_PROGRAMS.length * 2);
    expect(new Set(offsets).size).toBe(1);
    expect(offsets[0]).toBeGreaterThan(0);
    expect(offsets[0]).toBeLessThan(16);
  });

  it("reports a program that powers off with fail as an error naming the status", () => {
    const a = new Assembler({ text: 0x8000_0000 });
    a.asm(`
_start:
    li  t0, 0x100000
    li  t1, ${(5 << 16) | 0x3333}
    sw  t1, 0(t0)
spin:
    j   spin
`);
    const elf = writeTemp("fail", a.assemble());
    expect(() => runOnQemu(elf, { timeoutMs: 60_000 })).toThrow(QemuRunError);
    expect(() => runOnQemu(elf, { timeoutMs: 60_000 })).toThrow(
      /exit status 5 instead of the program's power-off/,
    );
  });
});
