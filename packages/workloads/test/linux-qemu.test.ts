/**
 * shadowlab's Linux prints the same kernel log and /init output on our
 * machine as on QEMU's virt board, both under our SBI firmware and with our
 * devicetree (QEMU's own tree has a PLIC, which this kernel has no driver
 * for). The CPU is cut down to what we implement. Skipped, saying why, where
 * QEMU or the image is absent.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootMachine, buildFirmware, Machine, machineDtb } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { linuxBootFiles, linuxResults } from "../src/linux/boot.ts";
import { findLinuxImage } from "../src/linux/image.ts";

const QEMU = process.env.SHADOWLAB_QEMU ?? "qemu-system-riscv32";
const RAM = 128 * 2 ** 20;
const CPU = "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false";

const hasQemu = spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
const found = findLinuxImage();
const skip = !hasQemu
  ? `${QEMU} is not installed (apt-get install qemu-system-misc)`
  : "missing" in found
    ? found.missing
    : undefined;

describe.skipIf(skip)(`Linux on QEMU and on shadowlab${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("prints byte-identical output under our firmware", { timeout: 600_000 }, () => {
    if ("missing" in found) return;
    const files = linuxBootFiles(found, [{ name: "forkwait", params: { n: 4, pages: 2 } }], { ramSize: RAM });
    const m = new Machine({ ramSize: RAM });
    bootMachine(m, files);
    const r = m.run({ maxInstructions: 400_000_000 });
    expect(r.reason).toBe("exit");

    const dir = mkdtempSync(join(tmpdir(), "shadowlab-linux-qemu-"));
    try {
      writeFileSync(join(dir, "fw.bin"), buildFirmware({ ramSize: RAM }).sections[0].bytes);
      writeFileSync(join(dir, "virt.dtb"), machineDtb({ ramSize: RAM }));
      const q = spawnSync(
        QEMU,
        [
          ...[
            "-machine",
            "virt",
            "-m",
            "128M",
            "-cpu",
            CPU,
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "stdio",
          ],
          ...["-bios", join(dir, "fw.bin"), "-kernel", found.image, "-dtb", join(dir, "virt.dtb")],
          ...["-append", files.append ?? ""],
        ],
        { encoding: "latin1", timeout: 300_000 },
      );
      expect(q.status).toBe(0);
      expect(q.stdout).toBe(Buffer.from(m.output, "utf8").toString("latin1"));
      expect(linuxResults(m.output).map((x) => x.name)).toEqual(["forkwait"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
