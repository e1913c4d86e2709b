#!/bin/sh
# Builds the official riscv-tests for the machine (RV32IMA): rv32ui, rv32um, rv32ua, rv32mi, rv32si
# as -p tests, and rv32ui, rv32um, rv32ua as -v tests, into OUT; then
#   SHADOWLAB_RISCV_TESTS=OUT npx vitest run packages/emu-core/test/official-riscv-tests.test.ts
# Usage: build-riscv-tests.sh <riscv-tests checkout, env submodule included> <OUT>
# Needs riscv64-unknown-elf-gcc (Debian: gcc-riscv64-unknown-elf); no C library: the -v
# environment's few libc headers are stubbed in a temporary directory.
set -eu
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
GCC=riscv64-unknown-elf-gcc
OPTS="-static -mcmodel=medany -fvisibility=hidden -nostdlib -nostartfiles"
P_ARCH="-march=rv32ima_zicsr_zifencei -mabi=ilp32"
# env/v's vm.c names an F instruction (fssr) to recognise FP tests; it never runs on a hart without F.
V_ARCH="-march=rv32imaf_zicsr_zifencei -mabi=ilp32"
STUB=$(mktemp -d)
trap 'rm -rf "$STUB"' EXIT
printf '%s\n' '#include <stddef.h>' 'void *memcpy(void *, const void *, size_t);' \
  'void *memset(void *, int, size_t);' 'size_t strlen(const char *);' \
  'int strcmp(const char *, const char *);' 'char *strcpy(char *, const char *);' \
  'int memcmp(const void *, const void *, size_t);' >"$STUB/string.h"
: >"$STUB/ctype.h"
: >"$STUB/stdio.h"
cd "$SRC/isa"
built=0
for suite in rv32ui rv32um rv32ua rv32mi rv32si; do
  for src in "$suite"/*.S; do
    t=$(basename "$src" .S)
    grep -qw "$t" "$suite/Makefrag" || continue
    $GCC $P_ARCH $OPTS -I../env/p -Imacros/scalar -T../env/p/link.ld "$src" -o "$OUT/$suite-p-$t"
    built=$((built + 1))
    case $suite in rv32ui | rv32um | rv32ua)
      $GCC $V_ARCH $OPTS -DENTROPY=0x$(echo "$suite-v-$t" | md5sum | cut -c 1-7) -std=gnu99 -O2 \
        -ffreestanding -I"$STUB" -I../env/v -Imacros/scalar -T../env/v/link.ld \
        ../env/v/entry.S ../env/v/*.c "$src" -o "$OUT/$suite-v-$t" 2>/dev/null
      built=$((built + 1)) ;;
    esac
  done
done
echo "built $built tests into $OUT"
