/**
 * Where shadowlab's Linux image lives. The kernel is built outside the
 * repository (`npm run linux:build`, packages/workloads/linux/build.ts) into
 * a cache directory named by a hash of every input: the kernel source
 * package, the cross compiler, the config fragment, the /init sources and the
 * build script (linux/build.ts, linux/tiny-rv32.config, linux/init/). Tests and the bench find it here and skip, saying why, when
 * it is absent.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory with the config fragment, /init sources and build script. */
export const LINUX_INPUTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../linux");
export const LINUX_SOURCE_TARBALL = "/usr/src/linux-source-6.1.tar.xz";
export const CROSS_COMPILE = "riscv64-linux-gnu-";

/** The cache root: $SHADOWLAB_CACHE, else $XDG_CACHE_HOME/shadowlab, else ~/.cache/shadowlab. */
export function cacheRoot(): string {
  if (process.env.SHADOWLAB_CACHE) return process.env.SHADOWLAB_CACHE;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), ".cache"), "shadowlab");
}

/** The Debian package version of the kernel source, or undefined when it is not installed. */
export function linuxSourceVersion(): string | undefined {
  try {
    const v = execFileSync("dpkg-query", ["-W", "-f=$" + "{Version}", "linux-source-6.1"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (v.length > 0 && existsSync(LINUX_SOURCE_TARBALL)) return v;
  } catch {
    // not a Debian system, or the package is absent
  }
  return undefined;
}

/** The cross compiler's version line, or undefined when it is absent. */
export function crossCompilerVersion(): string | undefined {
  try {
    return execFileSync(`${CROSS_COMPILE}gcc`, ["--version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).split("\n")[0];
  } catch {
    return undefined;
  }
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

export interface LinuxInputs {
  sourceVersion: string;
  compiler: string;
  /** Hash of what the kernel build tree depends on (source, compiler, config). */
  kernelHash: string;
  /** Hash of every input, the initramfs included: names the output directory. */
  fullHash: string;
}

function hashOf(parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest("hex").slice(0, 16);
}

/** Every input of the build, or the reason it cannot be built here. */
export function linuxInputs(): LinuxInputs | { missing: string } {
  const sourceVersion = linuxSourceVersion();
  if (!sourceVersion)
    return { missing: "linux-source-6.1 is not installed (apt-get install linux-source-6.1)" };
  const compiler = crossCompilerVersion();
  if (!compiler)
    return { missing: `${CROSS_COMPILE}gcc is not installed (apt-get install gcc-riscv64-linux-gnu)` };
  const config = readFileSync(join(LINUX_INPUTS_DIR, "tiny-rv32.config"), "utf8");
  const kernelHash = hashOf([sourceVersion, compiler, config, KERNEL_BUILD_REVISION]);
  const inputs = [
    "build.ts",
    "tiny-rv32.config",
    ...filesUnder(join(LINUX_INPUTS_DIR, "init")).map((p) => p.slice(LINUX_INPUTS_DIR.length + 1)),
  ];
  const sources = inputs.map((p) => `${p}\n${readFileSync(join(LINUX_INPUTS_DIR, p), "utf8")}`);
  const fullHash = hashOf([kernelHash, ...sources]);
  return { sourceVersion, compiler, kernelHash, fullHash };
}

/**
 * Bumped when the way the kernel tree is configured or built changes in a way
 * the hashed files do not show (the build script is hashed with the rest of
 * LINUX_INPUTS_DIR for the final image).
 */
const KERNEL_BUILD_REVISION = "1";

export interface LinuxImage {
  dir: string;
  /** The RISC-V Image (arch/riscv/boot/Image) with the initramfs built in. */
  image: string;
  vmlinux: string;
  /** The same initramfs as a separate cpio, for --initrd. */
  initramfs: string;
}

export function linuxOutputDir(inputs: LinuxInputs): string {
  return join(cacheRoot(), `linux-${inputs.fullHash}`);
}

export function linuxBuildDir(inputs: LinuxInputs): string {
  return join(cacheRoot(), `linux-build-${inputs.kernelHash}`);
}

export function linuxSourceDir(inputs: LinuxInputs): string {
  return join(cacheRoot(), `linux-source-${inputs.sourceVersion}`);
}

/**
 * The built image for the current inputs, or why there is none.
 * $SHADOWLAB_LINUX_IMAGE names an Image to use instead (its directory must
 * hold the same files).
 */
export function findLinuxImage(): LinuxImage | { missing: string } {
  const override = process.env.SHADOWLAB_LINUX_IMAGE;
  let dir: string;
  if (override) dir = dirname(override);
  else {
    const inputs = linuxInputs();
    if ("missing" in inputs) return inputs;
    dir = linuxOutputDir(inputs);
  }
  const image = override ?? join(dir, "Image");
  if (!existsSync(image))
    return { missing: `no Linux image at ${image}: run \`npm run linux:build\` (about 11 minutes cold)` };
  return { dir, image, vmlinux: join(dir, "vmlinux"), initramfs: join(dir, "initramfs.cpio") };
}

/** The OpenSBI commit the cross-check builds (`npm run opensbi:build`). */
export const OPENSBI_COMMIT = "4e79fd7d";

/** Where `npm run opensbi:build` leaves fw_jump.bin ($SHADOWLAB_OPENSBI overrides). */
export function openSbiFwJump(): string {
  return process.env.SHADOWLAB_OPENSBI ?? join(cacheRoot(), "opensbi", "fw_jump.bin");
}
