/**
 * Sdtrig (RISC-V Debug Specification 1.0, chapter 5): two address-match
 * triggers of type 2 (mcontrol) behind tselect, tdata1, tdata2, tdata3 and
 * tinfo, firing a breakpoint exception (action 0) before an instruction
 * executes at, loads from or stores to the address in tdata2.
 *
 * What is implemented, as WARL choices the spec allows: match 0 (equal)
 * only, timing 0 (before), action 0 (breakpoint exception), no chaining,
 * select 0 (address), no debug mode (dmode 0), hit not set, tdata3 zero,
 * and no tcontrol: so, as the spec requires then, a trigger does not fire
 * in M-mode while mstatus.MIE is 0 (no re-entry from the handler).
 *
 * Speed: the interpreter's fast paths never look at triggers. The hart's
 * slow paths (fetch refill, loads and stores that miss their memo) ask
 * `watches(page)` and keep no memo for a watched page, so every access to
 * it comes through a slow path where `fires` is checked.
 */

export const TSELECT = 0x7a0;
export const TDATA1 = 0x7a1;
export const TDATA2 = 0x7a2;
export const TDATA3 = 0x7a3;
export const TINFO = 0x7a4;

/** Triggers implemented. */
export const TRIGGERS = 2;

const TYPE_MCONTROL = 2;
const MCONTROL = TYPE_MCONTROL << 28;
/** The writable mcontrol bits: m (6), s (4), u (3), execute (2), store (1), load (0). */
const MCONTROL_WRITABLE = 0x5f;
const M = 1 << 6;
const S = 1 << 4;
const U = 1 << 3;

export const TRIGGER_EXECUTE = 1 << 2;
export const TRIGGER_STORE = 1 << 1;
export const TRIGGER_LOAD = 1 << 0;

export class Triggers {
  select = 0;
  /** tdata1 (mcontrol) of each trigger. */
  readonly control = new Int32Array(TRIGGERS).fill(MCONTROL);
  /** tdata2: the address each trigger matches. */
  readonly address = new Int32Array(TRIGGERS);
  /** Whether any trigger matches any access at some privilege (then the slow paths look). */
  armed = false;

  read(csr: number): number | undefined {
    switch (csr) {
      case TSELECT:
        return this.select;
      case TDATA1:
        return this.control[this.select] >>> 0;
      case TDATA2:
        return this.address[this.select] >>> 0;
      case TDATA3:
        return 0;
      case TINFO:
        return 1 << TYPE_MCONTROL; // only mcontrol (version 0)
    }
    return undefined;
  }

  /** WARL writes; returns true when what the triggers match changed (the hart drops its memos then). */
  write(csr: number, v: number): boolean {
    switch (csr) {
      case TSELECT:
        if (v >>> 0 < TRIGGERS) this.select = v >>> 0;
        return false;
      case TDATA1:
        // Any type written reads back as mcontrol: the only type there is.
        this.control[this.select] = MCONTROL | (v & MCONTROL_WRITABLE);
        break;
      case TDATA2:
        this.address[this.select] = v;
        break;
      default:
        return false; // tdata3, tinfo: read-only here
    }
    this.armed = this.control.some((c) => (c & 7) !== 0 && (c & (M | S | U)) !== 0);
    return true;
  }

  /** Whether a trigger of kind `kind` (TRIGGER_*) watches an address on this 4 KiB page. */
  watches(page: number): boolean {
    if (!this.armed) return false;
    for (let i = 0; i < TRIGGERS; i++) {
      if ((this.control[i] & 7) !== 0 && this.address[i] >>> 12 === page) return true;
    }
    return false;
  }

  /** Whether an access of `kind` at `addr` fires a trigger at privilege `priv` (with mstatus.MIE `mie`). */
  fires(kind: number, addr: number, priv: number, mie: boolean): boolean {
    if (!this.armed || (priv === 3 && !mie)) return false;
    const mode = priv === 3 ? M : priv === 1 ? S : U;
    for (let i = 0; i < TRIGGERS; i++) {
      const c = this.control[i];
      if ((c & kind) !== 0 && (c & mode) !== 0 && this.address[i] >>> 0 === addr >>> 0) return true;
    }
    return false;
  }
}
