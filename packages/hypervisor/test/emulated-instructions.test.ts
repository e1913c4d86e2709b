/**
 * Every instruction the hypervisor emulates for the pretend supervisor (CSR
 * accesses, sret, wfi, sfence.vma, the SBI ecall) and the privileged
 * instructions it must refuse (M-level CSRs and mret from pretend S, every
 * privileged instruction from pretend U). Each guest prints what it observes
 * (CSR values, trap records) and the output must equal the native run's, for
 * every registered strategy. The `contains` lists are what the privileged
 * spec 1.12 and Sstc predict, checked on the native output so each program is
 * known to exercise what its name says.
 */
import { CSR, type Image } from "@shadowlab/emu-core";
import { describe, expect, it } from "vitest";
import { strategyNames } from "../src/paging/registry.ts";
import { buildGuest, SSTATUS } from "./support/hv-guest.ts";
import { expectSame, runHv, runNative } from "./support/hv-harness.ts";

const ILLEGAL = "scause=00000002";

interface Case {
  name: string;
  image: Image;
  contains: string[];
}

/** Encode a CSR instruction by hand (for CSRs the assembler has no name for). */
function csrInsn(kind: "csrrw" | "csrrs" | "csrrc", rd: number, csr: number, rs1: number): number {
  const f3 = { csrrw: 1, csrrs: 2, csrrc: 3 }[kind];
  return ((csr << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x73) >>> 0;
}

const cases: Case[] = [
  {
    name: "csrrw/csrrs/csrrc and their immediate forms on sscratch, with the rd=x0 and rs1=x0 rules",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("s0", 0x1234_5678).csrw("sscratch", "s0");
        a.li("s1", 0x0f0f_0000).csrrw("s2", "sscratch", "s1");
        g.show("rw_old", "s2").showCsr("rw_new", "sscratch");
        a.li("s1", 0x0000_00ff).csrrs("s2", "sscratch", "s1");
        g.show("rs_old", "s2").showCsr("rs_new", "sscratch");
        a.li("s1", 0x0f00_000f).csrrc("s2", "sscratch", "s1");
        g.show("rc_old", "s2").showCsr("rc_new", "sscratch");
        a.csrrwi("s2", "sscratch", 0x15);
        g.show("rwi_old", "s2").showCsr("rwi_new", "sscratch");
        a.csrrsi("s2", "sscratch", 0x0a);
        g.show("rsi_old", "s2").showCsr("rsi_new", "sscratch");
        a.csrrci("s2", "sscratch", 0x03);
        g.show("rci_old", "s2").showCsr("rci_new", "sscratch");
        // rd = x0: write only.
        a.li("s1", 0x55aa).csrrw("zero", "sscratch", "s1");
        g.showCsr("rw_x0", "sscratch");
        // rs1 = x0 / uimm = 0: read only, legal even on read-only CSRs.
        a.csrrs("s2", "sscratch", "zero").csrrc("s3", "sscratch", "zero").csrrsi("s4", "sscratch", 0);
        a.csrrci("s5", "sscratch", 0);
        g.show("rs_x0", "s2").show("rc_x0", "s3").show("rsi_0", "s4").show("rci_0", "s5");
        a.csrrs("s2", "cycle", "zero").csrrsi("s2", "time", 0).csrrc("s2", "instret", "zero");
        g.print("read-only reads ok\n");
        // A write to a read-only CSR is illegal, even csrrw with rd = x0 and a zero value.
        a.li("s1", 1).csrrs("s2", "cycle", "s1");
        a.csrrw("zero", "time", "zero");
        a.csrrwi("s2", "instret", 0);
        a.csrrsi("s2", "timeh", 1);
        g.trapCount("s6").show("traps", "s6");
      },
    }),
    contains: [
      "rw_old=12345678\nrw_new=0f0f0000",
      "rs_old=0f0f0000\nrs_new=0f0f00ff",
      "rc_old=0f0f00ff\nrc_new=000f00f0",
      "rwi_old=000f00f0\nrwi_new=00000015",
      "rsi_old=00000015\nrsi_new=0000001f",
      "rci_old=0000001f\nrci_new=0000001c",
      "rw_x0=000055aa",
      "rs_x0=000055aa\nrc_x0=000055aa\nrsi_0=000055aa\nrci_0=000055aa",
      "read-only reads ok",
      `${ILLEGAL}\nsepc`,
      "traps=00000004",
    ],
  },
  {
    name: "sstatus: SIE/SPIE/SPP/SUM/MXR are writable, every other bit reads zero (WARL)",
    image: buildGuest({
      body(g) {
        const a = g.a;
        g.showCsr("reset", "sstatus");
        a.li("s0", -1).csrw("sstatus", "s0");
        g.showCsr("all_ones", "sstatus");
        a.csrw("sstatus", "zero");
        g.showCsr("zero", "sstatus");
        for (const [n, bit] of Object.entries(SSTATUS)) {
          a.li("s0", bit).csrs("sstatus", "s0");
          g.showCsr(`set_${n}`, "sstatus");
        }
        a.li("s0", SSTATUS.SPP | SSTATUS.MXR).csrc("sstatus", "s0");
        g.showCsr("clear_spp_mxr", "sstatus");
        a.csrsi("sstatus", 0x1f).csrci("sstatus", 0x02);
        g.showCsr("imm", "sstatus");
        a.csrw("sstatus", "zero");
      },
    }),
    contains: [
      "reset=00000000",
      "all_ones=000c0122",
      "zero=00000000",
      "set_SIE=00000002",
      "set_SPIE=00000022",
      "set_SPP=00000122",
      "set_SUM=00040122",
      "set_MXR=000c0122",
      "clear_spp_mxr=00040022",
      "imm=00040020",
    ],
  },
  {
    name: "sie and sip: only SSIE/STIE/SEIE exist, only SSIP is writable, a self-set SSIP is taken",
    image: buildGuest({
      body(g) {
        const a = g.a;
        g.showCsr("sie_reset", "sie").showCsr("sip_reset", "sip");
        a.li("s0", -1).csrw("sie", "s0");
        g.showCsr("sie_all", "sie");
        a.csrw("sie", "zero");
        a.li("s0", -1).csrw("sip", "s0");
        g.showCsr("sip_all", "sip");
        a.csrci("sip", 2);
        g.showCsr("sip_clear", "sip");
        // Pending and enabled but SIE = 0: not taken.
        a.csrsi("sip", 2).csrsi("sie", 2);
        g.print("masked, not taken\n");
        // Setting SIE takes it at once: sepc is the instruction after the csrs.
        g.onTrapGoto("ssi_taken");
        a.csrsi("sstatus", SSTATUS.SIE);
        g.print("not reached\n");
        a.label("ssi_taken");
        a.csrci("sip", 2);
        g.showCsr("sip_after", "sip").showCsr("sie_after", "sie");
        a.csrw("sie", "zero");
        // sip.SSIP set while SIE is on and sie.SSIE is set: taken right after the write.
        a.csrsi("sstatus", SSTATUS.SIE).csrsi("sie", 2);
        g.onTrapGoto("ssi_taken2");
        a.csrsi("sip", 2);
        a.nop();
        a.label("ssi_taken2");
        a.csrci("sip", 2).csrw("sie", "zero");
        g.trapCount("s1").show("traps", "s1");
      },
    }),
    contains: [
      "sie_reset=00000000",
      "sip_reset=00000000",
      "sie_all=00000222",
      "sip_all=00000002",
      "sip_clear=00000000",
      "masked, not taken\ntrap\nscause=80000001",
      "sstatus=00000120", // taken from S with SIE = 1: SPP = S, SPIE = 1, SIE = 0
      "sip_after=00000000\nsie_after=00000002",
      "traps=00000002",
    ],
  },
  {
    name: "stvec direct/vectored/reserved, sepc low bits, scause, stval, satp, scounteren, senvcfg",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.csrr("s11", "stvec");
        for (const v of [0x8000_1001, 0x8000_1002, 0x8000_1003, 0x8000_1000]) {
          a.li("s0", v).csrw("stvec", "s0");
          g.showCsr(`stvec_${v.toString(16)}`, "stvec");
        }
        a.csrw("stvec", "s11");
        for (const v of [0x8000_0003, 0x8000_0006, 0xffff_ffff]) {
          a.li("s0", v).csrw("sepc", "s0");
          g.showCsr(`sepc_${v.toString(16)}`, "sepc");
        }
        a.li("s0", 0x8000_0005).csrw("scause", "s0");
        g.showCsr("scause", "scause");
        a.li("s0", 0xdead_beef).csrw("stval", "s0");
        g.showCsr("stval", "stval");
        a.li("s0", 0x7fff_ffff).csrw("satp", "s0"); // MODE = Bare: translation stays off
        g.showCsr("satp", "satp");
        a.csrw("satp", "zero");
        a.li("s0", -1).csrw("scounteren", "s0");
        g.showCsr("scounteren", "scounteren");
        a.csrw("scounteren", "zero");
        a.li("s0", -1).csrw("senvcfg", "s0");
        g.showCsr("senvcfg", "senvcfg");
      },
    }),
    contains: [
      "stvec_80001001=80001001",
      "stvec_80001002=80001000",
      "stvec_80001003=80001000",
      "stvec_80001000=80001000",
      "sepc_80000003=80000000",
      "sepc_80000006=80000004",
      "sepc_ffffffff=fffffffc",
      "scause=80000005",
      "stval=deadbeef",
      "satp=7fffffff",
      "scounteren=ffffffff",
      "senvcfg=00000001",
    ],
  },
  {
    name: "stimecmp/stimecmph and the time/cycle/instret counters",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("s0", 0x1234_5678).csrw("stimecmp", "s0");
        a.li("s0", 0x9).csrw("stimecmph", "s0");
        g.showCsr("stimecmp", "stimecmp").showCsr("stimecmph", "stimecmph");
        // The spec's update sequence: high = -1, low, high.
        a.li("s0", -1).csrw("stimecmph", "s0");
        a.li("s0", 0xabcd_ef01).csrw("stimecmp", "s0");
        a.li("s0", 0x2).csrw("stimecmph", "s0");
        g.showCsr("seq_lo", "stimecmp").showCsr("seq_hi", "stimecmph");
        // Counters: monotonic, high halves zero this early, instret counts what runs between reads.
        a.rdtime("s0").rdcycle("s2").rdinstret("s4");
        for (let i = 0; i < 20; i++) a.addi("s6", "s6", 1);
        a.rdtime("s1").rdcycle("s3").rdinstret("s5");
        a.sltu("s7", "s1", "s0").xori("s7", "s7", 1);
        g.show("time_monotonic", "s7");
        a.sub("s7", "s3", "s2").sltiu("s7", "s7", 22).xori("s7", "s7", 1);
        g.show("cycle_advanced_22", "s7");
        a.sub("s7", "s5", "s4");
        g.show("instret_delta", "s7");
        a.rdtimeh("s0").rdcycleh("s1").rdinstreth("s2");
        g.show("timeh", "s0").show("cycleh", "s1").show("instreth", "s2");
      },
    }),
    contains: [
      "stimecmp=12345678\nstimecmph=00000009",
      "seq_lo=abcdef01\nseq_hi=00000002",
      "time_monotonic=00000001",
      "cycle_advanced_22=00000001",
      "instret_delta=00000017", // 2 csr reads + 20 addi + 1 = 23: each rdinstret reads before it retires
      "timeh=00000000\ncycleh=00000000\ninstreth=00000000",
    ],
  },
  {
    name: "sret into S and into U sets mode, SIE <- SPIE, SPIE <- 1, SPP <- U",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("s0", SSTATUS.SPP | SSTATUS.SPIE).csrs("sstatus", "s0");
        a.la("s0", "in_s").csrw("sepc", "s0").sret();
        g.print("not reached\n");
        a.label("in_s");
        g.showCsr("after_sret_s", "sstatus");
        a.csrw("sstatus", "zero");
        // Into U with SPIE = 0: sstatus after is SPIE = 1, SIE = 0; U proves its mode with an illegal csrr.
        g.enterUser("user_code", "back_from_user");
        a.label("back_from_user");
        g.showCsr("after_user", "sstatus");
        // Into U with SPIE = 1: SIE = 1 in U, so the ecall's trap entry records SPIE = 1.
        g.enterUser("user_code", "back_from_user2", true);
        a.label("back_from_user2");
        g.showCsr("after_user_spie", "sstatus");
      },
      code(g) {
        g.a.label("user_code").csrr("a2", "sstatus").ecall();
      },
    }),
    contains: [
      "after_sret_s=00000022",
      `${ILLEGAL}\n`,
      "scause=00000008",
      "sstatus=00000000\nafter_user=00000000",
      "sstatus=00000020\nafter_user_spie=00000020",
    ],
  },
  {
    name: "wfi continues with a pending enabled interrupt, sleeps until stimecmp, then takes the timer",
    image: buildGuest({
      body(g) {
        const a = g.a;
        // Pending and enabled in sie (SIE = 0): wfi returns at once, nothing is taken.
        a.csrsi("sie", 2).csrsi("sip", 2).wfi();
        g.print("wfi continued\n");
        a.csrci("sip", 2).csrw("sie", "zero");
        // Timer enabled in sie, SIE = 0: wfi sleeps until time >= stimecmp and continues.
        a.rdtime("s0").addi("s0", "s0", 500).csrw("stimecmp", "s0").csrw("stimecmph", "zero");
        a.li("s1", 1 << 5)
          .csrs("sie", "s1")
          .wfi();
        a.rdtime("s2").sltu("s3", "s2", "s0").xori("s3", "s3", 1);
        g.show("woke_at_deadline", "s3");
        a.csrr("s3", "sip");
        g.show("sip", "s3");
        // Timer with SIE = 1: sleeps, then the interrupt is taken with sepc after the wfi.
        a.rdtime("s0").addi("s0", "s0", 700).csrw("stimecmp", "s0");
        g.onTrapGoto("timer_taken");
        a.csrsi("sstatus", SSTATUS.SIE).wfi();
        a.label("after_wfi");
        g.print("not reached\n");
        a.label("timer_taken");
        a.la("s4", "after_wfi").csrr("s5", "sepc").sub("s4", "s5", "s4");
        g.show("sepc_minus_after_wfi", "s4");
        a.rdtime("s2").sltu("s3", "s2", "s0").xori("s3", "s3", 1);
        g.show("late_enough", "s3");
        a.li("s0", -1).csrw("stimecmp", "s0").csrw("stimecmph", "s0");
        g.showCsr("sip_after", "sip");
      },
    }),
    contains: [
      "wfi continued",
      "woke_at_deadline=00000001",
      "sip=00000020",
      "scause=80000005",
      "sepc_minus_after_wfi=00000000",
      "late_enough=00000001",
      "sip_after=00000000",
    ],
  },
  {
    name: "sfence.vma in all four operand forms runs in S (and is illegal from U)",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("s0", 0x4000_0000).li("s1", 5);
        a.sfence_vma().sfence_vma("s0").sfence_vma("s0", "s1").sfence_vma("zero", "s1");
        g.trapCount("s2").show("traps_in_s", "s2");
        g.enterUser("user_sfence", "back");
        a.label("back");
        g.trapCount("s2").show("traps", "s2");
      },
      code(g) {
        g.a.label("user_sfence").li("s0", 0x4000_0000).sfence_vma().sfence_vma("s0").ecall();
      },
    }),
    contains: [
      "traps_in_s=00000000",
      `${ILLEGAL}\nsepc`,
      "stval=12000073",
      "stval=12040073",
      "traps=00000003",
    ],
  },
  {
    name: "M-level CSRs, mret, hpmcounters and unknown CSRs from pretend S are illegal with the bits in stval",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.csrr("s0", "mstatus");
        a.csrw("mepc", "zero");
        a.csrr("s0", "mhartid");
        a.csrr("s0", "mcycle");
        a.csrs("mie", "zero");
        a.csrr("s0", "medeleg");
        a.mret();
        a.word(csrInsn("csrrs", 8, 0xc03, 0)); // hpmcounter3: mcounteren.HPM3 = 0 in the boot stub
        a.word(csrInsn("csrrs", 8, 0x5c0, 0)); // a custom S-level CSR that does not exist
        a.word(csrInsn("csrrw", 8, CSR.mscratch, 9));
        g.trapCount("s1").show("traps", "s1");
      },
    }),
    contains: [
      "stval=30002473", // csrr s0, mstatus
      "stval=34101073", // csrw mepc, zero
      "stval=30200073", // mret
      "stval=c0302473",
      "stval=5c002473",
      "traps=0000000a",
    ],
  },
  {
    name: "privileged instructions from pretend U are illegal instructions",
    image: buildGuest({
      body(g) {
        const a = g.a;
        g.enterUser("user_priv", "back0");
        a.label("back0");
        // With scounteren = CY|TM|IR, U reads the three counters; hpmcounter3 stays illegal.
        a.li("s0", 7).csrw("scounteren", "s0");
        g.enterUser("user_counters", "back1");
        a.label("back1");
        g.trapCount("s1").show("traps", "s1");
      },
      code(g) {
        const a = g.a;
        a.label("user_priv");
        a.csrr("a2", "sstatus").csrw("sscratch", "zero").csrr("a2", "satp").csrr("a2", "stimecmp");
        a.sret().wfi().mret().sfence_vma().csrr("a2", "mstatus");
        a.rdcycle("a2").rdtime("a2").rdinstret("a2");
        a.ecall();
        a.label("user_counters");
        a.rdcycle("a2").rdtime("a2").rdinstret("a2").rdcycleh("a2");
        a.word(csrInsn("csrrs", 12, 0xc03, 0));
        a.ecall();
      },
    }),
    contains: ["stval=10002673", "stval=10200073", "stval=10500073", "stval=c0002673", "traps=0000000f"],
  },
  {
    name: "ecall from S to an SBI extension nobody implements is answered SBI_ERR_NOT_SUPPORTED (a0 = -2, a1 = 0)",
    image: buildGuest({
      body(g) {
        const a = g.a;
        a.li("a0", 0x10).li("a1", 3).li("a6", 0).li("a7", 0x0a00_0000);
        a.ecall();
        a.mv("s0", "a0").mv("s1", "a1");
        g.show("a0", "s0").show("a1", "s1");
        g.trapCount("s2").show("traps", "s2");
      },
    }),
    contains: ["a0=fffffffe\na1=00000000\ntraps=00000000"],
  },
];

describe.each(strategyNames())("emulated instructions under %s", (strategy) => {
  it.each(cases)("$name", ({ image, contains }) => {
    const native = runNative(image);
    for (const c of contains) expect(native.output).toContain(c);
    expectSame(image, strategy);
  });
});

describe("SBI ecall from S", () => {
  it("is answered by the hypervisor itself (natively by the boot stub's M-mode handler, written to answer the same)", () => {
    const img = cases[cases.length - 1].image;
    const r = runHv(img, strategyNames()[0]);
    expect(r.stats.extra["hv.exit.sbi"]).toBe(1);
    expect(runNative(img).output).toBe(r.output);
  });
});
