/**
 * The devicetree of this machine, generated from its configuration, with the
 * node layout of QEMU's `virt` board (hw/riscv/virt.c) for what we model:
 * memory, one hart with its interrupt controller, the CLINT, the NS16550A and
 * the SiFive test device behind syscon power-off and reboot nodes. There is no
 * PLIC and the UART has no `interrupts` property: a PLIC node that the kernel
 * has no driver for would keep the serial port from probing.
 */
import { CLINT_BASE } from "./devices/clint.ts";
import { SIFIVE_TEST_BASE, SIFIVE_TEST_SIZE } from "./devices/sifive-test.ts";
import { UART16550_BASE, UART16550_SIZE } from "./devices/uart16550.ts";
import { type Fdt, type FdtNode, fdtNode, prop, writeFdt } from "./fdt.ts";
import { DEFAULT_HART, RAM_BASE } from "./hart.ts";

/**
 * What the hart implements, in the order and spelling the ISA manual's
 * naming chapter gives (Linux parses this to find Sstc).
 */
export const RISCV_ISA_STRING = "rv32ima_zicsr_zifencei_sstc";

/**
 * mtime ticks per second of guest time. Our mtime advances once every
 * `instructionsPerTick` retired instructions, so a guest second is
 * TIMEBASE_FREQUENCY * instructionsPerTick instructions (100 M at the default
 * 10). The value is QEMU virt's (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ, 10 MHz),
 * so the kernel's clocksource lines read as they do under QEMU.
 */
export const TIMEBASE_FREQUENCY = 10_000_000;

/** The UART's input clock as QEMU virt declares it (hw/riscv/virt.c: 3686400 Hz). */
export const UART_CLOCK_FREQUENCY = 3_686_400;

export interface DeviceTreeOptions {
  /** RAM size in bytes (default: the machine's default). */
  ramSize?: number;
  /** /chosen/bootargs. */
  bootargs?: string;
  /** Physical start and end (exclusive) of an initrd, for /chosen. */
  initrd?: { start: number; end: number };
  /** Memory the firmware keeps for itself, as a /reserved-memory node (no-map). */
  firmwareReserved?: { start: number; size: number };
}

const CPU_INTC_PHANDLE = 1;
const TEST_PHANDLE = 2;

/** Two cells each for address and size, as QEMU virt uses on rv32 too. */
function reg(base: number, size: number): Uint8Array {
  return prop.u64(base, size);
}

function cpusNode(): FdtNode {
  const intc = fdtNode("interrupt-controller", {
    "#address-cells": prop.u32(0),
    "#interrupt-cells": prop.u32(1),
    "interrupt-controller": prop.empty(),
    compatible: prop.str("riscv,cpu-intc"),
    phandle: prop.u32(CPU_INTC_PHANDLE),
  });
  const cpu = fdtNode(
    "cpu@0",
    {
      device_type: prop.str("cpu"),
      reg: prop.u32(0),
      status: prop.str("okay"),
      compatible: prop.str("riscv"),
      "riscv,isa": prop.str(RISCV_ISA_STRING),
      "mmu-type": prop.str("riscv,sv32"),
    },
    [intc],
  );
  return fdtNode(
    "cpus",
    {
      "#address-cells": prop.u32(1),
      "#size-cells": prop.u32(0),
      "timebase-frequency": prop.u32(TIMEBASE_FREQUENCY),
    },
    [cpu],
  );
}

function socNode(): FdtNode {
  const hex = (n: number) => n.toString(16);
  return fdtNode(
    "soc",
    {
      "#address-cells": prop.u32(2),
      "#size-cells": prop.u32(2),
      compatible: prop.str("simple-bus"),
      ranges: prop.empty(),
    },
    [
      fdtNode(`test@${hex(SIFIVE_TEST_BASE)}`, {
        compatible: prop.strs("sifive,test1", "sifive,test0", "syscon"),
        reg: reg(SIFIVE_TEST_BASE, SIFIVE_TEST_SIZE),
        phandle: prop.u32(TEST_PHANDLE),
      }),
      fdtNode(`serial@${hex(UART16550_BASE)}`, {
        compatible: prop.str("ns16550a"),
        reg: reg(UART16550_BASE, UART16550_SIZE),
        "clock-frequency": prop.u32(UART_CLOCK_FREQUENCY),
      }),
      fdtNode(`clint@${hex(CLINT_BASE)}`, {
        compatible: prop.strs("sifive,clint0", "riscv,clint0"),
        reg: reg(CLINT_BASE, 0x10000),
        // Machine software (3) and machine timer (7) interrupts of hart 0.
        "interrupts-extended": prop.u32(CPU_INTC_PHANDLE, 3, CPU_INTC_PHANDLE, 7),
      }),
    ],
  );
}

function chosenNode(o: DeviceTreeOptions): FdtNode {
  const props: Record<string, Uint8Array> = {};
  if (o.bootargs !== undefined) props.bootargs = prop.str(o.bootargs);
  props["stdout-path"] = prop.str(`/soc/serial@${UART16550_BASE.toString(16)}`);
  if (o.initrd) {
    props["linux,initrd-start"] = prop.u32(o.initrd.start);
    props["linux,initrd-end"] = prop.u32(o.initrd.end);
  }
  return fdtNode("chosen", props);
}

/** The tree as nodes, for callers that add to it before writing. */
export function machineDeviceTree(o: DeviceTreeOptions = {}): Fdt {
  const ramSize = o.ramSize ?? DEFAULT_HART.ramSize;
  const children: FdtNode[] = [
    chosenNode(o),
    fdtNode(`memory@${RAM_BASE.toString(16)}`, {
      device_type: prop.str("memory"),
      reg: reg(RAM_BASE, ramSize),
    }),
    cpusNode(),
    socNode(),
    fdtNode("poweroff", {
      compatible: prop.str("syscon-poweroff"),
      regmap: prop.u32(TEST_PHANDLE),
      offset: prop.u32(0),
      value: prop.u32(0x5555),
    }),
    fdtNode("reboot", {
      compatible: prop.str("syscon-reboot"),
      regmap: prop.u32(TEST_PHANDLE),
      offset: prop.u32(0),
      value: prop.u32(0x7777),
    }),
  ];
  if (o.firmwareReserved) {
    const { start, size } = o.firmwareReserved;
    children.push(
      fdtNode(
        "reserved-memory",
        { "#address-cells": prop.u32(2), "#size-cells": prop.u32(2), ranges: prop.empty() },
        [fdtNode(`firmware@${start.toString(16)}`, { reg: reg(start, size), "no-map": prop.empty() })],
      ),
    );
  }
  const root = fdtNode(
    "",
    {
      "#address-cells": prop.u32(2),
      "#size-cells": prop.u32(2),
      compatible: prop.str("riscv-virtio"),
      model: prop.str("shadowlab,virt"),
    },
    children,
  );
  return { root, reservations: [], bootCpuid: 0 };
}

/** The machine's DTB. */
export function machineDtb(o: DeviceTreeOptions = {}): Uint8Array {
  return writeFdt(machineDeviceTree(o));
}
