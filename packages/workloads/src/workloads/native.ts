/**
 * Running a workload natively on emu-core and reading its outcome: the
 * console, the checksum line, the kernel's free-page counters. Used by the
 * CLI, the tests and the bench.
 */
import { Machine, type MachineConfig, type RunResult } from "@shadowlab/emu-core";
import type { KernelOptions } from "../kernel/abi.ts";
import type { Params, Workload } from "./common.ts";

export interface NativeRun {
  result: RunResult;
  /** The console output, decoded as UTF-8. */
  output: string;
  /** The value of the last `checksum=0x........` line, if any. */
  checksum: number | undefined;
  /** kernel_free_pages and kernel_free_pages_boot at the end, when the image defines them. */
  freePages: number | undefined;
  freePagesBoot: number | undefined;
  machine: Machine;
}

export interface NativeOptions {
  machine?: Partial<MachineConfig>;
  kernel?: Partial<KernelOptions>;
  maxInstructions?: number;
  onOutput?: (byte: number) => void;
}

/** The value of the last `checksum=0x........` line of a console output. */
export function checksumLine(output: string): number | undefined {
  const all = [...output.matchAll(/^checksum=0x([0-9a-f]{8})$/gm)];
  return all.length ? Number.parseInt(all[all.length - 1][1], 16) : undefined;
}

export function runNative<P extends Params>(w: Workload<P>, params: P, opts: NativeOptions = {}): NativeRun {
  const image = w.build(params, opts.kernel);
  const machine = new Machine(opts.machine ?? {}, opts.onOutput);
  machine.load(image);
  const result = machine.run({ maxInstructions: opts.maxInstructions });
  const output = machine.output;
  const word = (name: string): number | undefined => {
    const addr = image.symbols[name];
    return addr === undefined ? undefined : machine.hart.readPhys(addr >>> 0, 4);
  };
  return {
    result,
    output,
    checksum: checksumLine(output),
    freePages: word("kernel_free_pages"),
    freePagesBoot: word("kernel_free_pages_boot"),
    machine,
  };
}
