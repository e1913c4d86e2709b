/**
 * `npm run opensbi:build`: builds OpenSBI's generic rv32 fw_jump (the
 * firmware QEMU uses; Debian ships no rv32 build) for the cross-check tests
 * that run it on shadowlab in place of our own firmware. Clones the pinned
 * commit into the cache, builds without compressed instructions (the machine
 * has no C extension) and prints the path of fw_jump.bin.
 *
 *   make PLATFORM=generic PLATFORM_RISCV_XLEN=32 PLATFORM_RISCV_ISA=rv32ima_zicsr_zifencei \
 *        CROSS_COMPILE=riscv64-linux-gnu-
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CROSS_COMPILE, cacheRoot, OPENSBI_COMMIT, openSbiFwJump } from "../src/linux/image.ts";

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd });
  if (r.status !== 0) {
    process.stderr.write(`opensbi:build: ${cmd} ${args.join(" ")} failed\n`);
    process.exit(1);
  }
}

const out = openSbiFwJump();
if (existsSync(out)) {
  process.stdout.write(`${out}\n`);
  process.exit(0);
}
const src = join(cacheRoot(), "opensbi-src");
if (!existsSync(join(src, "Makefile"))) {
  run("git", ["clone", "--quiet", "https://github.com/riscv-software-src/opensbi", src]);
  run("git", ["checkout", "--quiet", OPENSBI_COMMIT], src);
}
run(
  "nice",
  [
    "make",
    "PLATFORM=generic",
    "PLATFORM_RISCV_XLEN=32",
    "PLATFORM_RISCV_ISA=rv32ima_zicsr_zifencei",
    `CROSS_COMPILE=${CROSS_COMPILE}`,
    "-j2",
  ],
  src,
);
mkdirSync(join(cacheRoot(), "opensbi"), { recursive: true });
copyFileSync(join(src, "build/platform/generic/firmware/fw_jump.bin"), out);
process.stdout.write(`${out}\n`);
