/*
 * Raw Linux system calls for rv32 (the asm-generic table, 32-bit with 64-bit
 * time: include/uapi/asm-generic/unistd.h). No libc: every call is an ecall
 * with the number in a7 and the arguments in a0..a5; errors come back as
 * -errno in a0. rv32 has no wait4 (it needs a 64-bit time rusage): waitid.
 */
#ifndef SHADOWLAB_SYS_H
#define SHADOWLAB_SYS_H

typedef unsigned int u32;
typedef int s32;
typedef unsigned long ulong;

#define SYS_ioctl 29
#define SYS_close 57
#define SYS_pipe2 59
#define SYS_read 63
#define SYS_write 64
#define SYS_exit 93
#define SYS_exit_group 94
#define SYS_waitid 95
#define SYS_kill 129
#define SYS_reboot 142
#define SYS_getpid 172
#define SYS_munmap 215
#define SYS_clone 220
#define SYS_mmap2 222
#define SYS_mprotect 226

#define SIGCHLD 17
#define P_ALL 0
#define WEXITED 4
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define LINUX_REBOOT_MAGIC1 0xfee1dead
#define LINUX_REBOOT_MAGIC2 672274793
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

static inline long syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long a0 asm("a0") = a;
  register long a1 asm("a1") = b;
  register long a2 asm("a2") = c;
  register long a3 asm("a3") = d;
  register long a4 asm("a4") = e;
  register long a5 asm("a5") = f;
  register long a7 asm("a7") = n;
  asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
  return a0;
}

#define syscall0(n) syscall6((n), 0, 0, 0, 0, 0, 0)
#define syscall1(n, a) syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define syscall2(n, a, b) syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define syscall3(n, a, b, c) syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define syscall4(n, a, b, c, d) syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define syscall5(n, a, b, c, d, e) syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* ROI marks agreed for every workload: RV32I HINTs, no-ops everywhere else. */
static inline void roi_begin(void) { asm volatile("slti x0, x0, 1"); }
static inline void roi_end(u32 ops) { asm volatile("slti x0, %0, 2" ::"r"(ops)); }

static inline long sys_write(int fd, const void *buf, ulong n) { return syscall3(SYS_write, fd, buf, n); }
static inline long sys_read(int fd, void *buf, ulong n) { return syscall3(SYS_read, fd, buf, n); }
static inline long sys_close(int fd) { return syscall1(SYS_close, fd); }
static inline long sys_pipe(int fds[2]) { return syscall2(SYS_pipe2, fds, 0); }
/* fork is clone(SIGCHLD, no new stack) on the generic table. */
static inline long sys_fork(void) { return syscall5(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
static inline long sys_getpid(void) { return syscall0(SYS_getpid); }
static inline void sys_exit(int code) {
  syscall1(SYS_exit_group, code);
  for (;;) {
  }
}
/* One child reaped: siginfo words are signo, errno, code, then pid, uid, status. */
static inline long sys_wait_any(int *status) {
  u32 info[32];
  for (int i = 0; i < 32; i++) info[i] = 0;
  long r = syscall5(SYS_waitid, P_ALL, 0, info, WEXITED, 0);
  if (status) *status = (int)info[5];
  return r < 0 ? r : (long)info[3];
}
static inline void *sys_mmap(ulong len, int prot) {
  return (void *)syscall6(SYS_mmap2, 0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static inline long sys_munmap(void *p, ulong len) { return syscall2(SYS_munmap, p, len); }
static inline long sys_mprotect(void *p, ulong len, int prot) { return syscall3(SYS_mprotect, p, len, prot); }
/* tcdrain: TCSBRK with a non-zero argument only waits until the output has been sent. */
#define TCSBRK 0x5409
static inline long sys_drain(int fd) { return syscall3(SYS_ioctl, fd, TCSBRK, 1); }
static inline long sys_poweroff(void) {
  return syscall4(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0);
}

#endif
