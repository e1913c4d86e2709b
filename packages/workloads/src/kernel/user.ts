/**
 * The user program: assembled by its own Assembler at its virtual addresses
 * (.text at USER.text, .data at USER.data) and linked into the kernel image
 * as bytes plus a segment table that proc_init_first copies into process
 * 1's pages.
 */
import { Assembler, type Image } from "@shadowlab/emu-core";
import { USER } from "./abi.ts";
import { type KernelContext, PAGE, PTE_USER_R, PTE_USER_RW, PTE_USER_RX } from "./layout.ts";

export type UserEmitter = (a: Assembler) => void;

const FLAGS = { rx: PTE_USER_RX, r: PTE_USER_R, rw: PTE_USER_RW } as const;

export function assembleUser(user: UserEmitter, userData?: UserEmitter): Image {
  const u = new Assembler({ text: USER.text, data: USER.data });
  user(u);
  if (userData) {
    u.section(".data");
    userData(u);
  }
  const image = u.assemble();
  const text = image.sections.find((s) => s.name === ".text");
  if (!text || text.bytes.length === 0)
    throw new Error("user program: no code (the user callback emitted nothing)");
  for (const s of image.sections) {
    const end = s.addr + (s.memSize ?? s.bytes.length);
    if (s.addr % PAGE !== 0 || s.addr < USER.text || end > USER.heap) {
      throw new Error(
        `user program: section ${s.name} at 0x${s.addr.toString(16)}..0x${end.toString(16)} ` +
          `must be page-aligned inside [0x${USER.text.toString(16)}, 0x${USER.heap.toString(16)})`,
      );
    }
  }
  return image;
}

/** The segment table (`user_segments`: count, then va, pages, flags, source, bytes) and the blobs. */
export function emitUserImage({ a }: KernelContext, image: Image): void {
  a.section(".rodata");
  a.align(4);
  a.label("user_segments");
  a.word(image.sections.length);
  image.sections.forEach((s, i) => {
    const size = s.memSize ?? s.bytes.length;
    a.word(s.addr, Math.ceil(size / PAGE), FLAGS[s.flags], `user_blob_${i}`, align4(s.bytes.length));
  });
  image.sections.forEach((s, i) => {
    a.align(4);
    a.label(`user_blob_${i}`);
    a.bytes(s.bytes);
    a.space(align4(s.bytes.length) - s.bytes.length);
  });
  a.section(".text");
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;
