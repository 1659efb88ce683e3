// vmcs-needless-write (hint): writing GUEST_PDPTR0-3 on a path where the next VM entry will not consume them.
// VM entry loads the PDPTE registers from these fields only when "enable EPT" = 1 and the guest uses PAE paging;
// otherwise they are ignored (EPT off: PDPTEs come from guest memory at GUEST_CR3) — SDM Vol.3C §27.3.2.4, and
// the prepare_vmcs02 half of seed 001 (KVM: nVMX: Copy PDPTRs to/from vmcs12 only when necessary). When the value
// comes from vmcs12, it is meaningful only if L1 itself enables EPT (nested_cpu_has_ept).
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import type { FieldRef } from '../../analysis/refs';
import { cachedPerFunction } from '../../analysis/incremental';
import { and, mustHold, pred, type Formula } from '../../analysis/conditions';
import type { VmcsField } from '../../model/index';
import { RULES as SEM, isPdptrField } from '../../model/semantics';
import type { Finding, Rule } from '../findings';
import { EPT_FORMULA, PAE_FORMULA, PDPTRS_CONSUMED, contextAt, fnAt, guardText, relevantGuards } from './vmxPaths';

export const RULE_ID = 'vmcs-needless-write';

export const vmcsNeedlessWrite: Rule = {
  id: RULE_ID,
  defaultSeverity: 'hint',
  description: 'GUEST_PDPTRn written on a path where the next VM entry does not consume it (no EPT ∧ PAE-paging guard)',
  run(doc: DocumentAnalysis): Finding[] {
    const byFn = new Map<FunctionInfo, FieldRef[]>();
    for (const r of doc.refs) {
      if (r.inComment || r.entity.kind !== 'vmcs' || !r.accessor || r.accessor.op === 'read' || !isPdptrField(r.name)) continue;
      const fn = fnAt(doc, r.start);
      if (!fn) continue;
      const list = byFn.get(fn);
      if (list) list.push(r);
      else byFn.set(fn, [r]);
    }
    const out: Finding[] = [];
    // The findings of a function depend on its text only: reuse them while it is unchanged.
    for (const [fn, refs] of byFn) out.push(...cachedPerFunction(doc, RULE_ID, fn, () => findingsIn(doc, fn, refs)));
    return out;
  },
};

function findingsIn(doc: DocumentAnalysis, fn: FunctionInfo, refs: readonly FieldRef[]): Finding[] {
  const out: Finding[] = [];
  for (const r of refs) {
    const callText = r.callStart !== undefined && r.callEnd !== undefined ? doc.text.slice(r.callStart, r.callEnd) : '';
    const fromVmcs12 = /vmcs12\s*->\s*guest_pdptr/.test(callText);
    const need: Formula = fromVmcs12 ? and(PDPTRS_CONSUMED, pred('nested_ept')) : PDPTRS_CONSUMED;
    const ctx = contextAt(doc, r.start, fn);
    if (mustHold(ctx, need)) continue;
    const missing: string[] = [];
    if (!mustHold(ctx, EPT_FORMULA)) missing.push('EPT');
    if (!mustHold(ctx, PAE_FORMULA)) missing.push('PAE paging (is_pae_paging)');
    if (fromVmcs12 && !mustHold(ctx, pred('nested_ept'))) missing.push('L1 using EPT (nested_cpu_has_ept(vmcs12))');
    const field = (r.entity as VmcsField).name;
    const source = SEM.pdptrsLoadedOnEntry.source;
    const guards = relevantGuards(doc, r.start, (k) => k === 'enable_ept' || k === 'nested_ept' || k === 'pae_paging');
    out.push({
      rule: RULE_ID, severity: 'hint', start: r.start, end: r.end, source,
      message: `${field} is written on a path where the next VM entry may not consume it: VM entry loads the PDPTEs from GUEST_PDPTR0-3 only when "enable EPT" is 1 and the guest uses PAE paging${fromVmcs12 ? ', and the vmcs12 value means something only when L1 enables EPT' : ''}; this path does not establish ${missing.join(', ')}. Write the fields under that guard (e.g. nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu), after CR0/CR4/EFER are set). [${source}]`,
      related: guards.map((g) => ({ start: g.condStart, end: g.condEnd, message: `enclosing guard \`${guardText(g)}\` does not establish ${missing.join(', ')}` })),
    });
  }
  return out;
}
