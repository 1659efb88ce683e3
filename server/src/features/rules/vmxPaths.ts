// Shared helpers for the path rules (vmcs-undefined-read, vmcs-needless-write, vmwrite-readonly, host-state-lifetime,
// and the families that ask what a path establishes): the condition at a reference including facts the function may
// assume, questions to the engine about it, the guards to point at, and lookups into the model.
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { functionAt } from '../../analysis/document';
import type { FieldRef } from '../../analysis/refs';
import {
  and, conditionAt, guardsAt, or, pred, predicatesOf, type Formula, type Guard,
} from '../../analysis/conditions';
import { mustHold } from '../../analysis/engine/formula';
import { assumptionsOf } from '../../analysis/roles';
import { SVM_EXIT_CODES, VMX_EXIT_REASONS, type ExitReason } from '../../model/index';
import { pdptrsDefinedAfterExit, pdptrsLoadedOnEntry } from '../../model/semantics';

/** NRIP save known on the path: L0 uses it (`nrips`, `static_cpu_has(X86_FEATURE_NRIPS)`) or L1 has it (CPUID). */
export const NRIPS_FORMULA: Formula = or(pred('host_feature:NRIPS'), pred('guest_feature:NRIPS'));

/** Does every path reaching `offset` establish `g` (the engine's formulas: negations, locals, early exits)? */
export function pathEstablishes(doc: DocumentAnalysis, offset: number, g: Formula): boolean {
  return mustHold(conditionAt(doc, offset), g);
}

/** Does the path condition at `offset` (or formula `f`) test any of these predicates, in either sense? */
export function pathTests(f: Formula, keys: readonly string[]): boolean {
  const ps = predicatesOf(f);
  return keys.some((k) => ps.includes(k));
}

/** Path condition at `offset`, conjoined with what the enclosing function may assume on entry. */
export function contextAt(doc: DocumentAnalysis, offset: number, fn = functionAt(doc, offset)): Formula {
  const path = conditionAt(doc, offset);
  if (!fn) return path;
  const assumed = assumptionsOf(fn.name).map(([k, v]) => (v ? pred(k) : { kind: 'not' as const, arg: pred(k) }));
  return and(...assumed, path);
}

/** Guards around `offset` that mention any of the predicate keys (or all guards when `keys` is empty). */
export function relevantGuards(doc: DocumentAnalysis, offset: number, keys: (k: string) => boolean): Guard[] {
  return guardsAt(doc, offset).filter((g) => predicatesOf(g.formula).some(keys));
}

/** "EPT" as the PDPTR rules need it: L0 uses EPT for this VMCS (enable_ept), or L1 does for L2 (nested_ept, which implies it). */
const EPT: Formula = or(pred('enable_ept'), pred('nested_ept'));
const PAE: Formula = pred('pae_paging');

/**
 * Build the requirement formula from a model rule over (ept, PAE paging): the disjunction of the rows for which the
 * model answers true, so the model function stays the source of truth.
 */
function requirementFrom(rule: (cfg: { ept: boolean; pg: boolean; pae: boolean; ia32eGuest: boolean }) => boolean): Formula {
  const rows: Formula[] = [];
  for (const ept of [true, false]) {
    for (const paePaging of [true, false]) {
      if (!rule({ ept, pg: paePaging, pae: paePaging, ia32eGuest: false })) continue;
      rows.push(and(ept ? EPT : { kind: 'not', arg: EPT }, paePaging ? PAE : { kind: 'not', arg: PAE }));
    }
  }
  return or(...rows);
}

/** GUEST_PDPTRn hold defined values after a VM exit (model: pdptrsDefinedAfterExit). */
export const PDPTRS_DEFINED: Formula = requirementFrom(pdptrsDefinedAfterExit);
/** VM entry consumes GUEST_PDPTRn (model: pdptrsLoadedOnEntry). */
export const PDPTRS_CONSUMED: Formula = requirementFrom(pdptrsLoadedOnEntry);
export const EPT_FORMULA = EPT;
export const PAE_FORMULA = PAE;

const EXIT_BY_NAME = new Map<string, ExitReason>();
for (const r of [...VMX_EXIT_REASONS, ...SVM_EXIT_CODES]) {
  EXIT_BY_NAME.set(r.name, r);
  for (const a of r.aliases) if (!EXIT_BY_NAME.has(a)) EXIT_BY_NAME.set(a, r);
}

/** VMX basic exit reason number for an `EXIT_REASON_*` constant (undefined for SVM or unknown names). */
export function vmxExitCode(constant: string): number | undefined {
  const r = EXIT_BY_NAME.get(constant);
  return r && r.vendor === 'vmx' ? r.code : undefined;
}

// Every name here contains one of vmcsUndefinedRead.ts PRINTER_PARTS (keep them in step).
const PRINTERS = /^(pr_err|pr_warn|pr_info|pr_debug|pr_cont|printk|seq_printf|trace_[a-z0-9_]+|vcpu_unimpl|kvm_pr_unimpl[a-z_]*|WARN|WARN_ONCE)$/;

/** Is the reference an argument of a printing/tracing call (dumps of raw VMCS contents are harmless)? */
export function inPrintArguments(doc: DocumentAnalysis, offset: number): boolean {
  let n = doc.tree.rootNode.descendantForIndex(offset, offset + 1);
  for (let i = 0; n && i < 12; i++, n = n.parent) {
    if (n.type === 'call_expression') {
      const f = n.childForFieldName('function');
      if (f && PRINTERS.test(f.text)) return true;
    }
    if (n.type.endsWith('_statement') || n.type === 'compound_statement') return false;
  }
  return false;
}

/** `vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0)`: the vmcs12 member the read is copied into, if any. */
export function copiedIntoVmcs12(doc: DocumentAnalysis, ref: FieldRef): string | undefined {
  const at = ref.callStart ?? ref.start;
  const before = doc.text.slice(Math.max(0, at - 120), at);
  const m = /(vmcs12\s*->\s*([a-z0-9_]+))\s*=\s*$/.exec(before);
  return m ? `vmcs12->${m[2]}` : undefined;
}

export function fnAt(doc: DocumentAnalysis, offset: number): FunctionInfo | undefined {
  return functionAt(doc, offset);
}

/** Short C text of a guard for messages. */
export function guardText(g: Guard): string {
  const t = g.condText.replace(/\s+/g, ' ').replace(/^\((.*)\)$/, '$1');
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}
