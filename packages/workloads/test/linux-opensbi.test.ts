/**
 * OpenSBI's generic rv32 fw_jump runs on shadowlab unchanged in place of our
 * firmware and boots the same Linux to power-off; the kernel's log differs
 * from the one under our firmware only in the SBI version and implementation
 * lines and the memory line (OpenSBI moves the DTB to its FW_JUMP_FDT_ADDR
 * and reserves itself in it). Skipped, saying why, where fw_jump.bin
 * (`npm run opensbi:build`) or the image is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import { bootMachine, Machine } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { linuxBootFiles } from "../src/linux/boot.ts";
import { findLinuxImage, openSbiFwJump } from "../src/linux/image.ts";

const RAM = 128 * 2 ** 20;
const fwJump = openSbiFwJump();
const found = findLinuxImage();
const skip = !existsSync(fwJump)
  ? `no OpenSBI fw_jump at ${fwJump} (npm run opensbi:build)`
  : "missing" in found
    ? found.missing
    : undefined;

function boot(bios: "default" | Uint8Array): string {
  if ("missing" in found) return "";
  const m = new Machine({ ramSize: RAM });
  bootMachine(m, { ...linuxBootFiles(found, [], { ramSize: RAM }), bios });
  const r = m.run({ maxInstructions: 400_000_000 });
  expect(r.reason).toBe("exit");
  return m.output;
}

describe.skipIf(skip)(`OpenSBI fw_jump on shadowlab${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("boots the same Linux to power-off with the same log but for SBI and memory lines", {
    timeout: 600_000,
  }, () => {
    const ours = boot("default").split("\n");
    const theirs = boot(readFileSync(fwJump)).split("\n");
    expect(theirs.some((l) => l.startsWith("OpenSBI v"))).toBe(true);
    const kernel = theirs.slice(theirs.findIndex((l) => l.startsWith("Linux version")));
    expect(kernel).toHaveLength(ours.length);
    const differing = kernel.flatMap((l, i) => (l === ours[i] ? [] : [l.split(" ")[0]]));
    expect(differing).toEqual(["SBI", "SBI", "Memory:"]);
    expect(kernel.at(-2)).toBe("reboot: Power down\r");
  });
});
