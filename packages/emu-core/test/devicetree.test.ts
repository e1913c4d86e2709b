import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { machineDtb, RISCV_ISA_STRING, TIMEBASE_FREQUENCY } from "../src/devicetree.ts";
import { FDT_MAGIC, FdtError, fdtFind, fdtNode, parseFdt, prop, read, writeFdt } from "../src/fdt.ts";

const hasDtc = spawnSync("dtc", ["--version"], { stdio: "ignore" }).status === 0;

function header(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: 10 }, (_, i) => v.getUint32(i * 4));
}

describe("flattened devicetree writer and reader", () => {
  const tree = fdtNode("", { "#address-cells": prop.u32(2), model: prop.str("m") }, [
    fdtNode("a@1", { list: prop.strs("x", "yz"), flag: prop.empty(), n: prop.u64(0x1_0000_0002n) }),
    fdtNode("b", { model: prop.str("shared name") }, [fdtNode("c")]),
  ]);

  it("writes a version 17 header with the blocks in order and aligned", () => {
    const dtb = writeFdt({
      root: tree,
      reservations: [{ address: 0x8000_0000n, size: 0x1000n }],
      bootCpuid: 3,
    });
    const [magic, total, offStruct, offStrings, offRsvmap, version, lastComp, cpu, sizeStrings, sizeStruct] =
      header(dtb);
    expect(magic).toBe(FDT_MAGIC);
    expect(total).toBe(dtb.length);
    expect(version).toBe(17);
    expect(lastComp).toBe(16);
    expect(cpu).toBe(3);
    expect(offRsvmap % 8).toBe(0);
    expect(offStruct).toBe(offRsvmap + 32); // one reservation plus the terminating pair
    expect(offStruct % 4).toBe(0);
    expect(offStrings).toBe(offStruct + sizeStruct);
    expect(total).toBe(offStrings + sizeStrings);
    // "model" is stored once in the strings block though two nodes use it.
    const strings = new TextDecoder().decode(dtb.subarray(offStrings, offStrings + sizeStrings));
    expect(strings.split("\0").filter((s) => s === "model")).toHaveLength(1);
  });

  it("reads back what it wrote: nodes, properties in order, values, reservations", () => {
    const back = parseFdt(writeFdt({ root: tree, reservations: [{ address: 5n, size: 6n }], bootCpuid: 0 }));
    expect(back.reservations).toEqual([{ address: 5n, size: 6n }]);
    expect(back.root.children.map((c) => c.name)).toEqual(["a@1", "b"]);
    const a = fdtFind(back.root, "/a@1");
    expect([...(a?.props.keys() ?? [])]).toEqual(["list", "flag", "n"]);
    expect(read.strs(a?.props.get("list") ?? new Uint8Array())).toEqual(["x", "yz"]);
    expect(a?.props.get("flag")?.length).toBe(0);
    expect(read.number(a?.props.get("n") ?? new Uint8Array())).toBe(0x1_0000_0002n);
    expect(fdtFind(back.root, "/b/c")).toBeDefined();
    expect(fdtFind(back.root, "/a")).toBe(a); // a path may omit the unit address
  });

  it("rejects malformed blobs and names with a clear error", () => {
    expect(() => parseFdt(new Uint8Array(8))).toThrow(FdtError);
    const dtb = writeFdt({ root: tree, reservations: [], bootCpuid: 0 });
    const bad = dtb.slice();
    bad[0] = 0;
    expect(() => parseFdt(bad)).toThrow(/magic/);
    expect(() => parseFdt(dtb.subarray(0, dtb.length - 8))).toThrow(FdtError);
    expect(() =>
      writeFdt({ root: fdtNode("", {}, [fdtNode("bad name")]), reservations: [], bootCpuid: 0 }),
    ).toThrow(/invalid node name/);
  });
});

describe("the machine's generated devicetree", () => {
  const dtb = machineDtb({
    ramSize: 64 * 2 ** 20,
    bootargs: "console=ttyS0 earlycon",
    initrd: { start: 0x83e0_0000, end: 0x83f0_0000 },
  });
  const { root } = parseFdt(dtb);
  const get = (path: string, name: string): Uint8Array => {
    const v = fdtFind(root, path)?.props.get(name);
    if (!v) throw new Error(`${path}:${name} missing`);
    return v;
  };

  it("describes RAM at 0x8000_0000 with the configured size", () => {
    expect(read.str(get("/memory@80000000", "device_type"))).toBe("memory");
    expect(read.cells(get("/memory@80000000", "reg"))).toEqual([0, 0x8000_0000, 0, 64 * 2 ** 20]);
  });

  it("describes one Sv32 hart with its ISA, timebase and interrupt controller", () => {
    expect(read.u32(get("/cpus", "timebase-frequency"))).toBe(TIMEBASE_FREQUENCY);
    expect(read.str(get("/cpus/cpu@0", "riscv,isa"))).toBe(RISCV_ISA_STRING);
    expect(RISCV_ISA_STRING).toMatch(/^rv32ima_.*sstc/);
    expect(read.str(get("/cpus/cpu@0", "mmu-type"))).toBe("riscv,sv32");
    expect(read.str(get("/cpus/cpu@0/interrupt-controller", "compatible"))).toBe("riscv,cpu-intc");
  });

  it("puts bootargs, stdout-path and the initrd in /chosen", () => {
    expect(read.str(get("/chosen", "bootargs"))).toBe("console=ttyS0 earlycon");
    expect(read.str(get("/chosen", "stdout-path"))).toBe("/soc/serial@10000000");
    expect(read.number(get("/chosen", "linux,initrd-start"))).toBe(0x83e0_0000n);
    expect(read.number(get("/chosen", "linux,initrd-end"))).toBe(0x83f0_0000n);
  });

  it("declares the NS16550A with a clock and no interrupts, and no PLIC", () => {
    const serial = fdtFind(root, "/soc/serial@10000000");
    expect(read.str(get("/soc/serial@10000000", "compatible"))).toBe("ns16550a");
    expect(read.u32(get("/soc/serial@10000000", "clock-frequency"))).toBe(3_686_400);
    expect(serial?.props.has("interrupts")).toBe(false);
    expect(fdtFind(root, "/soc/plic")).toBeUndefined();
  });

  it("powers off and reboots through syscon on the test device", () => {
    const test = fdtFind(root, "/soc/test@100000");
    expect(read.strs(get("/soc/test@100000", "compatible"))).toContain("syscon");
    const phandle = read.u32(get("/soc/test@100000", "phandle"));
    expect(test).toBeDefined();
    expect(read.u32(get("/poweroff", "regmap"))).toBe(phandle);
    expect(read.u32(get("/poweroff", "value"))).toBe(0x5555);
    expect(read.u32(get("/reboot", "value"))).toBe(0x7777);
  });

  const dtcNote = hasDtc ? "" : " (skipped: dtc is not installed; apt-get install device-tree-compiler)";
  it.skipIf(!hasDtc)(`is a valid devicetree for dtc${dtcNote}`, () => {
    const r = spawnSync("dtc", ["-I", "dtb", "-O", "dts", "-"], { input: dtb, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('riscv,isa = "rv32ima_zicsr_zifencei_sstc";');
    expect(r.stdout).toContain('bootargs = "console=ttyS0 earlycon";');
    // And dtc's own compile of that source is byte-identical to ours.
    const again = spawnSync("dtc", ["-I", "dts", "-O", "dtb", "-"], { input: r.stdout });
    expect(again.status).toBe(0);
    expect(Buffer.from(again.stdout).equals(Buffer.from(dtb))).toBe(true);
  });
});
