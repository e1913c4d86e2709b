/**
 * An unmodified Linux (npm run linux:build) boots to power-off natively under
 * our SBI firmware and under every paging strategy, and prints byte-identical
 * kernel and /init output. Skipped, saying why, where the image is absent
 * (CI does not build Linux).
 */
import { bootMachine, Machine } from "@shadowlab/emu-core";
import { findLinuxImage, linuxBootFiles, linuxResults } from "@shadowlab/workloads";
import { describe, expect, it } from "vitest";
import { Hypervisor } from "../src/monitor.ts";
import { strategyNames } from "../src/paging/registry.ts";

const found = findLinuxImage();
const skip = "missing" in found ? found.missing : undefined;
/** About 30 M instructions to power-off; the budget only guards against a hang. */
const BUDGET = 400_000_000;
const RAM = 128 * 2 ** 20;

describe.skipIf(skip)(`Linux as a guest${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const image = "missing" in found ? undefined : found;
  let native: { output: string; reason: string; exitCode: number } | undefined;

  function nativeRun() {
    if (!native && image) {
      const m = new Machine({ ramSize: RAM });
      bootMachine(m, linuxBootFiles(image, [], { ramSize: RAM }));
      const r = m.run({ maxInstructions: BUDGET });
      native = { output: m.output, reason: r.reason, exitCode: r.exitCode };
    }
    if (!native) throw new Error("no image");
    return native;
  }

  it("boots natively under the SBI firmware, runs /init's workloads and powers off", {
    timeout: 600_000,
  }, () => {
    const n = nativeRun();
    expect(n.reason).toBe("exit");
    expect(n.exitCode).toBe(0);
    expect(n.output).toContain("SBI specification v2.0 detected");
    expect(n.output).toContain("Timer interrupt in S-mode is available via sstc extension");
    expect(n.output).toContain("ttyS0 at MMIO 0x10000000 (irq = 0, base_baud = 230400) is a 16550A");
    expect(linuxResults(n.output).map((r) => r.name)).toEqual(["lat_ctx", "forkwait", "mmap", "pagefault"]);
    expect(n.output).toContain("init: done\r\n"); // the tty maps NL to CR-NL
    expect(n.output).toContain("reboot: Power down");
  });

  it.each(strategyNames())(
    "under %s prints byte-identical output and powers off",
    { timeout: 600_000 },
    (strategy) => {
      if (!image) return;
      const hv = new Hypervisor({ guestRamSize: RAM });
      hv.addGuest(linuxBootFiles(image, [], { ramSize: RAM }), strategy, "linux");
      const r = hv.run({ maxInstructions: BUDGET });
      const g = r.guests[0];
      expect(g.error).toBe("");
      expect(g.state).toBe("exited");
      expect(g.output).toBe(nativeRun().output);
      // Linux asks BASE for the version, the implementation and four probes; it powers off through SRST.
      expect(r.stats.extra["hv.sbi.base.get_spec_version"]).toBe(1);
      expect(r.stats.extra["hv.sbi.base.probe_extension"]).toBeGreaterThanOrEqual(4);
      expect(r.stats.extra["hv.sbi.srst.system_reset"]).toBe(1);
    },
  );
});
