/**
 * The exported ELF of every workload (small parameters) boots on
 * `qemu-system-riscv32 -machine virt -bios none -nographic` and prints
 * byte-identical console output to the native run. Skipped, and saying so in
 * its name, where qemu-system-riscv32 is not installed.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeElf } from "@shadowlab/emu-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseParams, WORKLOADS } from "../src/registry.ts";
import { runNative } from "../src/workloads/native.ts";

/** The emulator to boot; SHADOWLAB_QEMU names another binary (or a missing one, to see the skip). */
const QEMU = process.env.SHADOWLAB_QEMU ?? "qemu-system-riscv32";
const haveQemu = spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
const TIMEOUT_MS = 120_000;

/**
 * Boots an ELF; its console goes to a file. (Not to a pipe or socket read by
 * this process: QEMU writes the console one byte per write(2) and its UART
 * model drops a byte after a few EAGAINs, which a busy event loop provokes.)
 */
function qemu(elf: string): Promise<{ stdout: string; code: number | null; signal: string | null }> {
  const outFile = `${elf}.out`;
  const fd = openSync(outFile, "w");
  return new Promise((resolve) => {
    const child = spawn(QEMU, ["-machine", "virt", "-bios", "none", "-nographic", "-kernel", elf], {
      stdio: ["ignore", fd, "ignore"],
      timeout: TIMEOUT_MS,
    });
    child.on("exit", (code, signal) => {
      closeSync(fd);
      resolve({ stdout: readFileSync(outFile, "utf8"), code, signal });
    });
  });
}

const cases = WORKLOADS.flatMap((w) => w.small.map((raw) => ({ w, p: parseParams(w, raw) })));
const title = (c: (typeof cases)[number]) =>
  `${c.w.name} ${Object.entries(c.p)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}`;

describe.skipIf(!haveQemu)(`QEMU (${QEMU} found): exported images print what the native run prints`, () => {
  const dir = mkdtempSync(join(tmpdir(), "shadowlab-qemu-"));
  const boots = cases.flatMap((c, i) =>
    [false, true].map((asid) => ({
      c,
      asid,
      name: `${title(c)} asid=${asid}`,
      file: join(dir, `${c.w.name}-${i}-${asid}.elf`),
    })),
  );
  const results = new Map<string, { native: string; q: Awaited<ReturnType<typeof qemu>> }>();

  // Every image boots at once (QEMU runs outside this process); the tests below read the results.
  beforeAll(async () => {
    const running = boots.map((b) => {
      const p = { ...b.c.p, asid: b.asid };
      writeFileSync(b.file, writeElf(b.c.w.build(p)));
      const native = runNative(b.c.w, p, { maxInstructions: 50_000_000 }).output;
      return qemu(b.file).then((q) => results.set(b.name, { native, q }));
    });
    await Promise.all(running);
  }, TIMEOUT_MS + 30_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const b of boots) {
    it(`${b.name}: same console bytes, exit 0`, () => {
      const r = results.get(b.name);
      expect(r).toBeDefined();
      if (!r) return;
      expect(r.q.signal, `QEMU killed (timeout ${TIMEOUT_MS} ms?)`).toBeNull();
      expect(r.q.code).toBe(0);
      expect(r.native).toMatch(/checksum=0x[0-9a-f]{8}\n$/);
      expect(r.q.stdout).toBe(r.native);
    });
  }
});

if (!haveQemu) {
  it.skip(`QEMU: SKIPPED, ${QEMU} is not installed (apt-get install qemu-system-misc)`, () => {});
}
