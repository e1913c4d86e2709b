/**
 * The H-extension test image (support/h-qemu-image.ts) prints what the spec
 * pins down; this machine must print it, and QEMU, the reference, must print
 * the same lines (skipped where qemu-system-riscv32 is absent).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeElf } from "../src/elf.ts";
import { Machine } from "../src/machine.ts";
import { hQemuImage } from "./support/h-qemu-image.ts";

const QEMU = "qemu-system-riscv32";
const haveQemu = spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
const CPU = "rv32,c=false,f=false,d=false,h=true,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false";
const work = mkdtempSync(join(tmpdir(), "shadowlab-hext-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runHere(): { output: string; reason: string } {
  const m = new Machine({ hExtension: true });
  m.load(hQemuImage());
  const r = m.run({ maxInstructions: 1_000_000 });
  return { output: m.output, reason: r.reason };
}

describe("the H-extension test image", () => {
  it("prints what the spec says on this machine", () => {
    const { output, reason } = runHere();
    expect(reason).toBe("exit");
    const lines = output.trim().split("\n");
    // CSR behaviour: WARL masks of hedeleg/hideleg/hvip, VS bits of mideleg read-only one.
    expect(lines.slice(0, 11)).toEqual([
      "misa.h 00000080",
      "hstatus 007003c0",
      "hedeleg 0000b1ff",
      "hideleg 00000444",
      "hvip 00000444",
      "mip.vs 00000444",
      "hip 00000444",
      "mideleg.vs 00000444",
      "vsscratch 12345678",
      "vstvec 80000101",
      "hgeip 00000000",
    ]);
    const text = lines.join("\n");
    // A load through both stages, then the guest-page fault: mtval = GVA, mtval2 = GPA >> 2, MPV and GVA.
    expect(text).toContain("mcause 0000000a\na0 11111111");
    expect(text).toContain("mcause 00000015\nmtval 10002004\nmtval2 201c0001\nmstatush 000000c0");
    // The virtual-instruction exception: mtval holds the instruction.
    expect(text).toContain("mcause 00000016\nmtval 60002573");
    // Delegated to VS: scause 13 and stval read through vscause/vstval.
    expect(text).toContain("a0 0000000d\na1 10003000");
    // Delegated to HS: htval = GPA >> 2, hstatus SPV, SPVP and GVA set.
    expect(text).toContain("scause 00000015\nstval 10002004\nhtval 201c0001\nhstatus.trap 000001c0");
    // hfence.gvma, then hfence.vvma, after the G-stage and then the guest's table moved the page.
    expect(text).toContain("a0 33333333");
    expect(text).toContain("a0 22222222");
  });

  it.skipIf(!haveQemu)("prints the same lines on qemu-system-riscv32 -cpu rv32,h=true (needs QEMU)", () => {
    const path = join(work, "h.elf");
    writeFileSync(path, writeElf(hQemuImage()));
    const args = [
      "-machine",
      "virt",
      "-bios",
      "none",
      "-nographic",
      "-monitor",
      "none",
      "-cpu",
      CPU,
      "-kernel",
      path,
    ];
    const q = spawnSync(QEMU, args, { timeout: 60_000, encoding: "utf8" });
    expect(q.status).toBe(0);
    expect(q.stdout).toBe(runHere().output);
  });
});
