/**
 * The guest's clock at its S-mode entry. Natively an image starts in M-mode
 * at its entry point and its boot stub retires instructions before it mrets
 * into `supervisor_entry`; time is mtime = instret / instructionsPerTick, so
 * those instructions set the phase of every timer deadline the guest arms
 * later. The hypervisor plays the stub's part without running it on the
 * guest's hart, so it must start the guest's clock where the stub leaves it:
 * otherwise every timer interrupt strikes a few guest instructions early or
 * late and the guest's instruction stream differs from the native one.
 */
import { type Image, Machine, RAM_BASE } from "@shadowlab/emu-core";

/** More than any boot stub needs; a stub that does not reach its S entry within it gets no offset. */
const STUB_LIMIT = 100_000;
const PAGE = 4096;

/**
 * How many instructions the image retires natively, from its entry to the
 * first instruction at `supervisor_entry` in S-mode (0 when it starts there,
 * or when the stub never gets there on its own). Measured by running the stub
 * on a scratch machine just large enough for the image: its count is a
 * property of the image, not of the hypervisor.
 */
export function nativeBootInstructions(image: Image, ramSize: number): number {
  const entry = image.symbols.supervisor_entry;
  if (entry === undefined || entry >>> 0 === image.entry >>> 0) return 0;
  let end = RAM_BASE + PAGE;
  for (const s of image.sections) end = Math.max(end, s.addr + (s.memSize ?? s.bytes.length));
  const size = Math.min(ramSize, Math.ceil((end - RAM_BASE) / PAGE) * PAGE);
  const m = new Machine({ ramSize: size });
  try {
    m.load(image);
  } catch {
    return 0; // the guest's own loader reports what is wrong with the image
  }
  const h = m.hart;
  for (let n = 0; n < STUB_LIMIT; n++) {
    if (h.pc === entry >>> 0 && h.priv === 1) return h.instret;
    if (h.run(1) !== "budget") return 0;
  }
  return 0;
}
