/**
 * Booting shadowlab's Linux: the kernel command line and the boot files for
 * a run of /init's workloads, and the result lines /init prints. The same
 * files boot natively (our SBI firmware by default) and under the hypervisor.
 */
import { readFileSync } from "node:fs";
import type { BootFiles } from "@shadowlab/emu-core";
import type { LinuxImage } from "./image.ts";

/**
 * The console on the UART at 115200 baud: the 8250 driver, which has no
 * interrupt line on this board, polls it from a timer every
 * max(timeout / 2 - 2, 1) jiffies, and at 115200 baud that is every jiffy.
 */
export const LINUX_CONSOLE_ARGS = "console=ttyS0,115200 earlycon";

/** One /init job: a workload name and its parameters (see linux/init/init.c). */
export interface LinuxJob {
  name: "lat_ctx" | "forkwait" | "mmap" | "pagefault";
  params: Record<string, number>;
}

/** The kernel command line: the console, then /init's arguments after "--" (no jobs: all at small sizes). */
export function linuxBootargs(jobs: readonly LinuxJob[] = []): string {
  const init = jobs.map((j) => [j.name, ...Object.entries(j.params).map(([k, v]) => `${k}=${v}`)].join(" "));
  return init.length === 0 ? LINUX_CONSOLE_ARGS : `${LINUX_CONSOLE_ARGS} -- ${init.join(" ")}`;
}

export function linuxBootFiles(
  image: LinuxImage,
  jobs: readonly LinuxJob[] = [],
  opts: { ramSize?: number; bios?: BootFiles["bios"] } = {},
): BootFiles {
  return {
    kernel: readFileSync(image.image),
    kernelName: image.image,
    append: linuxBootargs(jobs),
    bios: opts.bios ?? "default",
    ramSize: opts.ramSize ?? 128 * 2 ** 20,
  };
}

export interface LinuxResult {
  name: string;
  params: Record<string, number>;
  ops: number;
  checksum: string;
}

/** The result lines of /init (`lat_ctx procs=4 ws=0 rounds=10 ops=40 checksum=0x...`). */
export function linuxResults(output: string): LinuxResult[] {
  const out: LinuxResult[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /^(lat_ctx|forkwait|mmap|pagefault)((?: \w+=\d+)*) checksum=(0x[0-9a-f]{8})$/.exec(line);
    if (!m) continue;
    const params: Record<string, number> = {};
    for (const kv of m[2].trim().split(" ")) {
      const [k, v] = kv.split("=");
      params[k] = Number(v);
    }
    const { ops, ...rest } = params;
    out.push({ name: m[1], params: rest, ops, checksum: m[3] });
  }
  return out;
}
