/*
 * /init of shadowlab's Linux initramfs: runs the Linux workloads named on the
 * kernel command line after "--", each marking its region of interest with
 * the agreed HINTs, prints one result line each, and powers the machine off.
 *
 *   bootargs: console=ttyS0 -- lat_ctx procs=8 ws=4096 rounds=20 forkwait n=16
 *
 * With no arguments it runs every workload at small parameters. Workloads:
 *   lat_ctx   procs=2..96 ws=0..65536 rounds   a ring passing a token through pipes,
 *                                               each process summing its working set
 *                                               per turn (lmbench lat_ctx); ops = hops
 *   forkwait  n pages                           fork, the child writes `pages` pages
 *                                               (copy-on-write), exits; the parent waits
 *   mmap      n pages                           mmap, touch, mprotect read-only, read, munmap
 *   pagefault n pages                           map, write-touch every page, unmap; ops = faults
 * A result line ends with checksum=0x........, a value each workload derives
 * from what it computed, the same on every machine that runs it correctly.
 */
#include "sys.h"

#define PAGE 4096u
#define MAX_PROCS 96u
#define MAX_WS 65536u
#define RING_STOP 0xffffffffu

/* gcc may call these even in freestanding code. */
void *memset(void *d, int c, ulong n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, ulong n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static ulong str_len(const char *s) {
  ulong n = 0;
  while (s[n]) n++;
  return n;
}
static void put(const char *s) { sys_write(1, s, str_len(s)); }
static void put_dec(u32 v) {
  char b[12];
  int i = 11;
  b[i] = 0;
  do {
    b[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(b + i);
}
static void put_hex(u32 v) {
  char b[11];
  b[0] = '0';
  b[1] = 'x';
  for (int i = 0; i < 8; i++) b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
  b[10] = 0;
  put(b);
}
static void put_kv(const char *k, u32 v) {
  put(" ");
  put(k);
  put("=");
  put_dec(v);
}

static void fail(const char *what, long err) {
  put("init: FAIL ");
  put(what);
  put(" ");
  put_dec((u32)-err);
  put("\n");
  sys_drain(1);
  sys_poweroff();
  sys_exit(1);
}
static long check(long r, const char *what) {
  if (r < 0) fail(what, r);
  return r;
}

static u32 mix(u32 h, u32 v) { return (h ^ v) * 16777619u; }

/* ---- lat_ctx ------------------------------------------------------------ */

static u32 sum_words(const u32 *p, u32 bytes) {
  u32 s = 0;
  for (u32 i = 0; i < bytes / 4; i++) s += p[i];
  return s;
}

static u32 *ring_working_set(u32 member, u32 ws) {
  if (!ws) return 0;
  u32 *p = sys_mmap(ws, PROT_READ | PROT_WRITE);
  if ((long)p < 0 && (long)p > -4096) fail("mmap", (long)p);
  for (u32 i = 0; i < ws / 4; i++) p[i] = member * 2654435761u + i;
  return p;
}

/* One hop: take the token, pay for the working set, pass it on. */
static u32 ring_hop(int in, int out, u32 member, const u32 *set, u32 ws) {
  u32 token;
  if (check(sys_read(in, &token, 4), "read") != 4) fail("short read", -5);
  if (token != RING_STOP) token = mix(token, member + sum_words(set, ws));
  check(sys_write(out, &token, 4), "write");
  return token;
}

static void ring_member(int fds[][2], u32 member, u32 procs, u32 ws) {
  const u32 *set = ring_working_set(member, ws);
  int in = fds[member][0];
  int out = fds[(member + 1) % procs][1];
  while (ring_hop(in, out, member, set, ws) != RING_STOP) {
  }
  sys_exit(0);
}

static u32 reap(u32 children) {
  u32 h = 2166136261u;
  for (u32 i = 0; i < children; i++) {
    int status = -1;
    check(sys_wait_any(&status), "waitid");
    if (status != 0) fail("child status", -status);
    h = mix(h, (u32)status);
  }
  return h;
}

/* The parent is member 0; a round is one trip of the token around the ring. */
static void lat_ctx(u32 procs, u32 ws, u32 rounds) {
  static int fds[MAX_PROCS][2];
  if (procs < 2) procs = 2;
  if (procs > MAX_PROCS) procs = MAX_PROCS;
  if (ws > MAX_WS) ws = MAX_WS;
  ws &= ~3u;
  for (u32 i = 0; i < procs; i++) check(sys_pipe(fds[i]), "pipe");
  for (u32 i = 1; i < procs; i++)
    if (check(sys_fork(), "fork") == 0) ring_member(fds, i, procs, ws);
  const u32 *set = ring_working_set(0, ws);
  u32 token = 0;
  /* One warm-up round: every member has run and touched its set. */
  check(sys_write(fds[1][1], &token, 4), "write");
  check(sys_read(fds[0][0], &token, 4), "read");
  roi_begin();
  for (u32 r = 0; r < rounds; r++) {
    token = mix(token, sum_words(set, ws));
    check(sys_write(fds[1][1], &token, 4), "write");
    check(sys_read(fds[0][0], &token, 4), "read");
  }
  roi_end(rounds * procs);
  u32 stop = RING_STOP;
  check(sys_write(fds[1][1], &stop, 4), "write");
  check(sys_read(fds[0][0], &stop, 4), "read");
  reap(procs - 1);
  for (u32 i = 0; i < procs; i++) {
    sys_close(fds[i][0]);
    sys_close(fds[i][1]);
  }
  if (set) sys_munmap((void *)set, ws);
  put("lat_ctx");
  put_kv("procs", procs);
  put_kv("ws", ws);
  put_kv("rounds", rounds);
  put_kv("ops", rounds * procs);
  put(" checksum=");
  put_hex(token);
  put("\n");
}

/* ---- forkwait ----------------------------------------------------------- */

#define FORK_MAX_PAGES 64u
static unsigned char fork_pages[FORK_MAX_PAGES * PAGE] __attribute__((aligned(4096)));

static void forkwait(u32 n, u32 pages) {
  if (pages > FORK_MAX_PAGES) pages = FORK_MAX_PAGES;
  for (u32 p = 0; p < FORK_MAX_PAGES; p++) fork_pages[p * PAGE] = (unsigned char)p;
  u32 h = 2166136261u;
  roi_begin();
  for (u32 i = 0; i < n; i++) {
    if (check(sys_fork(), "fork") == 0) {
      u32 s = i;
      for (u32 p = 0; p < pages; p++) {
        fork_pages[p * PAGE] += (unsigned char)i; /* a copy-on-write fault per page */
        s += fork_pages[p * PAGE];
      }
      sys_exit((int)(s & 0x7f));
    }
    int status = -1;
    check(sys_wait_any(&status), "waitid");
    h = mix(h, (u32)status);
  }
  roi_end(n);
  put("forkwait");
  put_kv("n", n);
  put_kv("pages", pages);
  put_kv("ops", n);
  put(" checksum=");
  put_hex(h);
  put("\n");
}

/* ---- mmap churn and page-fault touch ------------------------------------ */

static unsigned char *map_pages(u32 pages) {
  unsigned char *p = sys_mmap(pages * PAGE, PROT_READ | PROT_WRITE);
  if ((long)p < 0 && (long)p > -4096) fail("mmap", (long)p);
  return p;
}

static void mmap_churn(u32 n, u32 pages) {
  u32 h = 2166136261u;
  roi_begin();
  for (u32 i = 0; i < n; i++) {
    unsigned char *p = map_pages(pages);
    for (u32 k = 0; k < pages; k++) p[k * PAGE] = (unsigned char)(i + k);
    check(sys_mprotect(p, pages * PAGE, PROT_READ), "mprotect");
    for (u32 k = 0; k < pages; k++) h = mix(h, p[k * PAGE]);
    check(sys_munmap(p, pages * PAGE), "munmap");
  }
  roi_end(n);
  put("mmap");
  put_kv("n", n);
  put_kv("pages", pages);
  put_kv("ops", n);
  put(" checksum=");
  put_hex(h);
  put("\n");
}

static void pagefault(u32 n, u32 pages) {
  u32 h = 2166136261u;
  roi_begin();
  for (u32 i = 0; i < n; i++) {
    unsigned char *p = map_pages(pages);
    for (u32 k = 0; k < pages; k++) {
      p[k * PAGE + (k & 63)] = (unsigned char)(i ^ k);
      h = mix(h, p[k * PAGE]);
    }
    check(sys_munmap(p, pages * PAGE), "munmap");
  }
  roi_end(n * pages);
  put("pagefault");
  put_kv("n", n);
  put_kv("pages", pages);
  put_kv("ops", n * pages);
  put(" checksum=");
  put_hex(h);
  put("\n");
}

/* ---- command line -------------------------------------------------------- */

#define MAX_PARAMS 4
struct job {
  const char *name;
  const char *keys[MAX_PARAMS];
  u32 values[MAX_PARAMS];
};

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static u32 parse_u32(const char *s) {
  u32 v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (u32)(*s++ - '0');
  return v;
}

/* The value of key=... in argument `arg`, or `fallback`. */
static u32 param(char **args, int count, const char *key, u32 fallback) {
  ulong k = str_len(key);
  for (int i = 0; i < count; i++) {
    const char *a = args[i];
    ulong j = 0;
    while (j < k && a[j] == key[j]) j++;
    if (j == k && a[k] == '=') return parse_u32(a + k + 1);
  }
  return fallback;
}

static int run_job(const char *name, char **args, int count) {
  if (str_eq(name, "lat_ctx"))
    lat_ctx(param(args, count, "procs", 4), param(args, count, "ws", 0), param(args, count, "rounds", 10));
  else if (str_eq(name, "forkwait"))
    forkwait(param(args, count, "n", 8), param(args, count, "pages", 1));
  else if (str_eq(name, "mmap"))
    mmap_churn(param(args, count, "n", 8), param(args, count, "pages", 4));
  else if (str_eq(name, "pagefault"))
    pagefault(param(args, count, "n", 4), param(args, count, "pages", 8));
  else
    return 0;
  return 1;
}

static int has_eq(const char *s) {
  for (; *s; s++)
    if (*s == '=') return 1;
  return 0;
}

static void run_all_default(void) {
  run_job("lat_ctx", 0, 0);
  run_job("forkwait", 0, 0);
  run_job("mmap", 0, 0);
  run_job("pagefault", 0, 0);
}

void start_c(ulong *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  put("init: shadowlab linux workloads\n");
  if (argc <= 1) run_all_default();
  for (int i = 1; i < argc;) {
    int j = i + 1;
    while (j < argc && has_eq(argv[j])) j++;
    if (!run_job(argv[i], argv + i + 1, j - i - 1)) {
      put("init: unknown workload ");
      put(argv[i]);
      put("\n");
    }
    i = j;
  }
  put("init: done\n");
  /* The console is polled from a timer (the UART has no interrupt line): let it drain. */
  sys_drain(1);
  sys_poweroff();
  sys_exit(0);
}

asm(".section .text._start,\"ax\"\n"
    ".global _start\n"
    "_start:\n"
    ".option push\n"
    ".option norelax\n"
    "  la gp, __global_pointer$\n"
    ".option pop\n"
    "  mv a0, sp\n"
    "  andi sp, sp, -16\n"
    "  call start_c\n"
    "1: j 1b\n");
