/**
 * Random guests on QEMU: the machine checked beyond our own beliefs. The
 * guest's ELF boots on `qemu-system-riscv32 -machine virt -bios none` with
 * the CPU cut down to RV32IMA (plus Zicsr, Zifencei and what QEMU cannot
 * switch off), and its console must equal our native run's. Portable
 * guests leave out what differs by design (counters, timers, misaligned
 * accesses). Where QEMU is not installed the caller skips with a message.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Image, writeElf } from "@shadowlab/emu-core";

/** QEMU puts its device tree at the top of RAM: give it room above the guest's 4 MiB, which the guests never reach. */
const QEMU_RAM_MIB = 16;

export const QEMU = "qemu-system-riscv32";
const CPU = "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false";

/** QEMU's version line, or undefined when it is not installed. */
export function qemuVersion(): string | undefined {
  const r = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0] : undefined;
}

/** The guest's console on QEMU (killed after `timeoutMs`, which only guards against a hang). */
export function runOnQemu(image: Image, timeoutMs = 20_000): { output: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), "shadowlab-fuzz-"));
  try {
    const elf = join(dir, "guest.elf");
    writeFileSync(elf, writeElf(image));
    const r = spawnSync(
      QEMU,
      [
        "-machine",
        "virt",
        "-bios",
        "none",
        "-cpu",
        CPU,
        "-m",
        `${QEMU_RAM_MIB}M`,
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-kernel",
        elf,
      ],
      { encoding: "latin1", timeout: timeoutMs },
    );
    return { output: r.stdout ?? "", status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
