/**
 * The trap-mode side of SBI calls: a guest whose kernel runs in real U-mode
 * believing it is a supervisor. Effects land on its vCPU, its paging strategy,
 * its guest-physical memory and its own devices, exactly where the M-mode
 * firmware's effects land natively.
 */
import { COMPARATOR_HIGH_MAX, type Hart, IRQ } from "@shadowlab/emu-core";
import type { Guest } from "./guest.ts";
import type { SbiPort } from "./sbi.ts";

const TWO32 = 2 ** 32;
const UART_LSR = 5;
const LSR_DATA_READY = 1;

export function trapModeSbiPort(g: Guest, hart: Hart, waitForInterrupt: (g: Guest) => void): SbiPort {
  return {
    ramBase: g.memory.base,
    ramSize: g.memory.size,
    setTimer(low, high) {
      // As a guest stimecmph/stimecmp write: the high half saturates (COMPARATOR_HIGH_MAX).
      g.vcpu.stimecmp = Math.min(high, COMPARATOR_HIGH_MAX) * TWO32 + low;
    },
    sendSoftwareInterrupt() {
      g.vcpu.sipSw |= 1 << IRQ.SSI;
    },
    sfenceVma(asid) {
      g.strategy.onSfence(undefined, asid);
    },
    readByte: (gpa) => hart.readPhys(g.memory.machineAddr(gpa), 1) ?? 0,
    writeByte(gpa, value) {
      hart.writePhys(g.memory.machineAddr(gpa), 1, value);
    },
    putChar(byte) {
      g.uart.store(0, 1, byte);
    },
    getChar: () => (g.uart.load(UART_LSR, 1) & LSR_DATA_READY ? g.uart.load(0, 1) : -1),
    finish(status) {
      g.test.store(0, 4, status);
    },
    stop() {
      g.state = "wfi";
    },
    suspend() {
      waitForInterrupt(g);
    },
  };
}
