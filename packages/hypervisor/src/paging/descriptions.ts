/**
 * One paragraph per paging strategy, for people reading results: the report
 * shows it beside the charts, the bench stores it in results.json. A strategy
 * added to the registry adds its paragraph here (a test checks that every
 * registered strategy has one).
 */
export const STRATEGY_DESCRIPTIONS: Readonly<Record<string, string>> = {
  native:
    "No hypervisor: the guest kernel runs in S-mode on the bare machine and its own page tables drive the MMU. Every other strategy is compared with this run of the same workload on the same machine.",
  "shadow-ondemand":
    "The virtual TLB: the shadow page table starts empty and is filled one page at a time on hidden page faults. A guest satp write empties it and sfence.vma empties what it names, so context switches and flushes pay refills; all shadows share machine ASID 0.",
  "shadow-proactive":
    "One shadow per guest address space, kept across context switches and kept right by write-protecting the guest's page tables: a guest store to a page table traps, is performed by the hypervisor, and drops exactly the shadow entries that PTE feeds. Switches are cheap; page-table writes cost an exit each.",
  "shadow-tagged":
    "Shadows over an ASID-tagged machine TLB: each guest address space, named by the guest's own ASID, keeps its shadow across switches under a machine ASID of its own, so switching between cached shadows flushes nothing. Shadows fill on demand; a guest that edits a page table must sfence.vma it, which drops what it names. A guest without ASIDs flushes at every switch, as shadow-ondemand does.",
};

/** The paragraph of a strategy, or "" for one that has none yet. */
export function describeStrategy(name: string): string {
  return STRATEGY_DESCRIPTIONS[name] ?? "";
}
