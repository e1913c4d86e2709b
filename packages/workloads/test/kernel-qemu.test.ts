/**
 * The same kernel images as ELF files on QEMU (`-machine virt -bios none`):
 * console output must be byte-identical to emu-core's. QEMU's timer runs
 * on wall-clock time, so programs whose output depends on the order of
 * yields run with a quantum long enough that no preemption happens there,
 * and the spin-then-print program (whose output shows where the timer hit)
 * is left out.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeElf } from "@shadowlab/emu-core";
import { afterAll, describe, expect, it } from "vitest";
import type { KernelOptions } from "../src/kernel/abi.ts";
import {
  build,
  churn,
  cpuBound,
  forkWait,
  heapAndStack,
  hello,
  isolation,
  mapUnmap,
  type Program,
  runImage,
  yieldRing,
} from "./kernel-programs.ts";

const QEMU = "qemu-system-riscv32";
const hasQemu = spawnSync(QEMU, ["--version"]).status === 0;
const NO_PREEMPTION = 10_000_000; // 1 s of QEMU's 10 MHz timebase

const programs: [string, Program, Partial<KernelOptions>][] = [
  ["hello", hello, {}],
  ["forkwait", forkWait(4), {}],
  ["ring", yieldRing(3, 5), { quantum: NO_PREEMPTION }],
  ["preempt", cpuBound(3, 50_000), { quantum: 1000 }],
  ["heap", heapAndStack, {}],
  ["map", mapUnmap, {}],
  ["isolation", isolation, {}],
  ["churn", churn(20, 20), {}],
];

const title = hasQemu ? "kernel on QEMU" : `kernel on QEMU (skipped: ${QEMU} is not on PATH)`;

describe.skipIf(!hasQemu)(title, () => {
  const dir = mkdtempSync(join(tmpdir(), "shadowlab-kernel-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(programs.flatMap(([name, p, k]) => [false, true].map((asid) => [name, asid, p, k] as const)))(
    "%s (asid %s) boots with -bios none and prints byte-identical output",
    (name, asid, program, kernel) => {
      const image = build(program, { ...kernel, asid });
      const emu = runImage(image);
      const file = join(dir, `${name}-${asid}.elf`);
      writeFileSync(file, writeElf(image));
      const q = spawnSync(QEMU, ["-machine", "virt", "-bios", "none", "-nographic", "-kernel", file], {
        timeout: 120_000,
      });
      expect(q.error).toBeUndefined();
      expect(q.status).toBe(0); // the test device's pass
      expect(q.stdout.toString("utf8")).toBe(emu.output);
    },
  );
});
