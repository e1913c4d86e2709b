/**
 * `npm run linux:build`: builds shadowlab's tiny rv32 Linux from Debian
 * packages only, into a cache directory outside the repository named by a
 * hash of its inputs (see src/linux/image.ts). Prints the Image's path last.
 *
 *   1. checks the Debian packages it needs and says how to install the missing ones;
 *   2. extracts /usr/src/linux-source-6.1.tar.xz once;
 *   3. compiles /init (libc-free C, raw syscalls) and writes the initramfs list;
 *   4. configures tinyconfig + tiny-rv32.config and checks every line held;
 *   5. `make Image` (nice, -j<cores>), with KBUILD_BUILD_* pinned for a reproducible image;
 *   6. copies Image, vmlinux and a separate initramfs.cpio into the output directory.
 *
 * Flags: --jobs N (default: the host's cores), --force (rebuild even when cached).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  CROSS_COMPILE,
  LINUX_INPUTS_DIR,
  LINUX_SOURCE_TARBALL,
  type LinuxInputs,
  linuxBuildDir,
  linuxInputs,
  linuxOutputDir,
  linuxSourceDir,
} from "../src/linux/image.ts";

/** Debian packages the build needs, with a file or command that shows each is there. */
const PACKAGES: Array<{ pkg: string; present: () => boolean }> = [
  { pkg: "linux-source-6.1", present: () => existsSync(LINUX_SOURCE_TARBALL) },
  { pkg: "gcc-riscv64-linux-gnu", present: () => hasCommand(`${CROSS_COMPILE}gcc`) },
  { pkg: "gcc", present: () => hasCommand("gcc") },
  { pkg: "make", present: () => hasCommand("make") },
  { pkg: "bc", present: () => hasCommand("bc") },
  { pkg: "flex", present: () => hasCommand("flex") },
  { pkg: "bison", present: () => hasCommand("bison") },
  { pkg: "xz-utils", present: () => hasCommand("xz") },
  { pkg: "cpio", present: () => hasCommand("cpio") },
  { pkg: "libssl-dev", present: () => existsSync("/usr/include/openssl/ssl.h") },
  { pkg: "libelf-dev", present: () => existsSync("/usr/include/libelf.h") },
  { pkg: "device-tree-compiler", present: () => hasCommand("dtc") },
];

/** Pinned so that two builds of the same inputs give the same bytes. */
const REPRODUCIBLE_ENV = {
  KBUILD_BUILD_TIMESTAMP: "Mon Jan  1 00:00:00 UTC 2024",
  KBUILD_BUILD_USER: "shadowlab",
  KBUILD_BUILD_HOST: "shadowlab",
  KBUILD_BUILD_VERSION: "1",
  LC_ALL: "C",
  TZ: "UTC",
};

const INIT_CFLAGS = [
  "-march=rv32ima",
  "-mabi=ilp32",
  "-O2",
  "-static",
  "-nostdlib",
  "-ffreestanding",
  "-fno-builtin",
  "-fno-tree-loop-distribute-patterns",
  "-fno-stack-protector",
  "-fno-pic",
  "-no-pie",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-Wl,--build-id=none",
];

const started = Date.now();

function say(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`[linux ${s}s] ${line}\n`);
}

function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

function fatal(message: string): never {
  process.stderr.write(`linux:build: ${message}\n`);
  process.exit(1);
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): void {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  if (r.status !== 0) fatal(`${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

function checkPackages(): void {
  const missing = PACKAGES.filter((p) => !p.present()).map((p) => p.pkg);
  if (missing.length > 0)
    fatal(
      `missing Debian packages: ${missing.join(", ")}\n  install them with: apt-get install ${missing.join(" ")}`,
    );
}

function extractSource(dir: string): void {
  if (existsSync(join(dir, ".extracted"))) return;
  say(`extracting ${LINUX_SOURCE_TARBALL} into ${dir} (once)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run("nice", ["tar", "-xJf", LINUX_SOURCE_TARBALL, "--strip-components=1", "-C", dir]);
  writeFileSync(join(dir, ".extracted"), "");
}

function buildInit(buildDir: string): string {
  const out = join(buildDir, "init-bin");
  say("compiling /init");
  run(`${CROSS_COMPILE}gcc`, [...INIT_CFLAGS, "-o", out, join(LINUX_INPUTS_DIR, "init/init.c")]);
  const list = [
    "dir /dev 0755 0 0",
    "nod /dev/console 0600 0 0 c 5 1",
    "dir /proc 0755 0 0",
    `file /init ${out} 0755 0 0`,
    "",
  ].join("\n");
  writeFileSync(join(buildDir, "initramfs.list"), list);
  return join(buildDir, "initramfs.list");
}

function make(src: string, buildDir: string, jobs: number, targets: string[]): void {
  run(
    "nice",
    [
      "make",
      "-C",
      src,
      `O=${buildDir}`,
      "ARCH=riscv",
      `CROSS_COMPILE=${CROSS_COMPILE}`,
      `-j${jobs}`,
      ...targets,
    ],
    {
      env: REPRODUCIBLE_ENV,
    },
  );
}

/** The `CONFIG_X=v` and `# CONFIG_X is not set` lines of a config fragment. */
function fragmentSettings(text: string): Array<{ name: string; value: string | undefined }> {
  const out: Array<{ name: string; value: string | undefined }> = [];
  for (const line of text.split("\n")) {
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (unset) out.push({ name: unset[1], value: undefined });
    else if (set) out.push({ name: set[1], value: set[2] });
  }
  return out;
}

function configure(src: string, buildDir: string, listFile: string, jobs: number): void {
  const stamp = join(buildDir, ".shadowlab-configured");
  if (existsSync(stamp)) return;
  say("configuring: tinyconfig + tiny-rv32.config");
  make(src, buildDir, jobs, ["tinyconfig"]);
  const fragment = readFileSync(join(LINUX_INPUTS_DIR, "tiny-rv32.config"), "utf8");
  const dotConfig = join(buildDir, ".config");
  writeFileSync(
    dotConfig,
    `${readFileSync(dotConfig, "utf8")}\n${fragment}\nCONFIG_INITRAMFS_SOURCE="${listFile}"\n`,
  );
  make(src, buildDir, jobs, ["olddefconfig"]);
  const result = readFileSync(dotConfig, "utf8");
  const wrong = fragmentSettings(fragment).filter(({ name, value }) => {
    const m = new RegExp(`^${name}=(.*)$`, "m").exec(result);
    return value === undefined ? m !== null : m?.[1] !== value;
  });
  if (wrong.length > 0)
    fatal(`the kernel config did not take: ${wrong.map((w) => `${w.name}=${w.value ?? "n"}`).join(", ")}`);
  writeFileSync(stamp, "");
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function publish(inputs: LinuxInputs, buildDir: string, listFile: string): string {
  const out = linuxOutputDir(inputs);
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  copyFileSync(join(buildDir, "arch/riscv/boot/Image"), join(tmp, "Image"));
  copyFileSync(join(buildDir, "vmlinux"), join(tmp, "vmlinux"));
  copyFileSync(join(buildDir, "init-bin"), join(tmp, "init"));
  const cpio = execFileSync(join(buildDir, "usr/gen_init_cpio"), ["-t", "1704067200", listFile]);
  writeFileSync(join(tmp, "initramfs.cpio"), cpio);
  const manifest = {
    linuxSource: inputs.sourceVersion,
    compiler: inputs.compiler,
    kernelHash: inputs.kernelHash,
    fullHash: inputs.fullHash,
    imageSha256: sha256(join(tmp, "Image")),
  };
  writeFileSync(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return out;
}

function main(argv: string[]): void {
  const force = argv.includes("--force");
  const jobsAt = argv.indexOf("--jobs");
  const jobs = jobsAt >= 0 ? Number(argv[jobsAt + 1]) : availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) fatal("--jobs: expected a positive integer");
  checkPackages();
  const inputs = linuxInputs();
  if ("missing" in inputs) fatal(inputs.missing);
  const out = linuxOutputDir(inputs);
  if (!force && existsSync(join(out, "manifest.json"))) {
    say("cached");
    process.stdout.write(`${join(out, "Image")}\n`);
    return;
  }
  const src = linuxSourceDir(inputs);
  const buildDir = linuxBuildDir(inputs);
  extractSource(src);
  mkdirSync(buildDir, { recursive: true });
  const listFile = buildInit(buildDir);
  configure(src, buildDir, listFile, jobs);
  say(`make -j${jobs} Image (4-11 minutes cold on two cores; incremental afterwards)`);
  make(src, buildDir, jobs, ["Image"]);
  const dir = publish(inputs, buildDir, listFile);
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(`${join(dir, "Image")}\n`);
}

main(process.argv.slice(2));
