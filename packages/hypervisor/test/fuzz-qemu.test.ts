/**
 * The machine checked beyond our own beliefs: portable random guests (the
 * generator leaves out what this board and QEMU's virt do differently, each
 * allowed by the spec; see generate.ts) print the same console on
 * qemu-system-riscv32 as natively here. Skipped with a message where QEMU is
 * not installed. Longer runs: `npm run fuzz -- --qemu --count N`.
 */
import { describe, expect, it } from "vitest";
import { runNative } from "../src/fuzz/differential.ts";
import { generate } from "../src/fuzz/generate.ts";
import { assembleGuest } from "../src/fuzz/image.ts";
import { QEMU, qemuVersion, runOnQemu } from "../src/fuzz/qemu.ts";

const version = qemuVersion();
if (!version)
  console.warn(`skipping the QEMU comparison: ${QEMU} is not installed (apt-get install qemu-system-misc)`);

describe.skipIf(!version)(`random guests on ${version ?? QEMU}`, () => {
  it.each(Array.from({ length: 10 }, (_, i) => i + 1))(
    "portable guest %i: the same console as native",
    (seed) => {
      const p = generate(seed, { portable: true });
      const { image } = assembleGuest(p);
      const native = runNative(p, image);
      expect(native.state).toBe("exited");
      expect(runOnQemu(image).output).toBe(native.output);
    },
    60_000,
  );
});
