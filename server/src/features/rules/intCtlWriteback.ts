// int-ctl-writeback: copying int_ctl bits from the VMCB the CPU just ran (vmcb02, or svm->vmcb after a #VMEXIT
// from L2) into vmcb12 / the cached vmcb12 controls / vmcb01 must move only bits the processor writes back on
// #VMEXIT, and only when that write-back is meaningful for the destination:
//   - bits the CPU never writes (V_INTR_MASKING, V_IGN_TPR, V_INTR_PRIO, V_GIF_ENABLE, ...) are inputs: copying them
//     back leaks L0's settings into L1's view (CVE-2021-3653 was the reverse direction of the same confusion);
//   - V_GIF is written back only when vGIF is enabled for the VMCB; for L2 that is nested vGIF
//     (nested_vgif_enabled()); without it vmcb02's V_GIF is L1's GIF, not L2's;
//   - V_NMI_* likewise with nested vNMI;
//   - V_IRQ must not be synced into vmcb12 while L0 (not L1) owns the VINTR intercept: L0 set V_IRQ in vmcb02 to
//     request its own interrupt window (svm_set_vintr).
// Bits and conditions come from the mask folding in analysis/masks.ts and the path conditions of
// analysis/conditions.ts; the write-back facts from model/semantics.ts intCtlWritebackClass().
import { analyzeMasks, INT_CTL_BIT_NAMES, type IntCtlCopy, type MaskAnalysis } from '../../analysis/masks';
import { FALSE, formulaToString, satisfiable, type Formula } from '../../analysis/conditions';
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { cachedFunctionValue, cachedPerFunction } from '../../analysis/incremental';
import { docHas } from '../../analysis/docMemo';
import { roleOfFunction } from '../../analysis/roles';
import { intCtlWritebackClass } from '../../model/semantics';
import type { Finding, Rule } from '../findings';

const SOURCE = 'AMD APM Vol.2 §15.21 (virtual interrupts: V_TPR/V_IRQ written back on #VMEXIT; V_GIF only with vGIF) — '
  + 'Bochs bochs/cpu/svm.cc SvmExitSaveGuestState; Linux arch/x86/kvm/svm/nested.c nested_sync_control_from_vmcb02; '
  + 'LKML "KVM: nSVM: clean up copying of int_ctl fields back to vmcb01/vmcb12" (seed 002)';

/** Predicate keys of conditions.ts used below. */
const K = {
  nestedVgif: 'nested_vgif',
  l0Vintr: 'intercept:VINTR',
  l1Vintr: 'intercept:VINTR@vmcb12-cache',
  l1VintrMem: 'intercept:VINTR@vmcb12',
} as const;

/** Keys of formulas that say "nested vNMI enabled": the engine's `nested_vnmi` predicate (or an unknown naming it). */
function vnmiKeys(f: Formula, out: Set<string> = new Set()): Set<string> {
  if (f.kind === 'pred' && f.key === 'nested_vnmi') out.add(f.key);
  else if (f.kind === 'unknown' && /nested_vnmi_enabled/.test(f.key) && !f.key.startsWith('?!')) out.add(f.key);
  else if (f.kind === 'not') vnmiKeys(f.arg, out);
  else if (f.kind === 'and' || f.kind === 'or') for (const a of f.args) vnmiKeys(a, out);
  return out;
}

/** Unknowns standing for mask contributions we could not decode: never let them create a finding. */
function opaqueKeys(f: Formula, out: Map<string, boolean> = new Map()): Map<string, boolean> {
  if (f.kind === 'unknown' && f.key.startsWith('?opaque:')) out.set(f.key, false);
  else if (f.kind === 'not') opaqueKeys(f.arg, out);
  else if (f.kind === 'and' || f.kind === 'or') for (const a of f.args) opaqueKeys(a, out);
  return out;
}

function may(f: Formula, fixed: Record<string, boolean> = {}): boolean {
  const m = opaqueKeys(f);
  for (const [k, v] of Object.entries(fixed)) m.set(k, v);
  return satisfiable(f, m);
}

/**
 * Is `source` the VMCB the processor just ran L2 with? vmcb02 always; `svm->vmcb` (the current VMCB) when the
 * function runs after a #VMEXIT from L2, or when it writes L1's view of L2 (vmcb12 / cached controls), which only
 * makes sense while svm->vmcb is vmcb02 — unless the function is known to run on the nested VMRUN side.
 */
function isJustRun(copy: IntCtlCopy, fnRole: string | undefined): boolean {
  if (copy.source === 'vmcb02') return true;
  if (copy.source !== 'vmcb') return false;
  if (fnRole === 'after-l2-exit') return true;
  return fnRole !== 'nested-entry' && (copy.destination === 'vmcb12' || copy.destination === 'vmcb12-cache');
}

function dstName(c: IntCtlCopy): string {
  switch (c.destination) {
    case 'vmcb12': return 'vmcb12';
    case 'vmcb12-cache': return 'the cached vmcb12 controls';
    case 'vmcb01': return 'vmcb01';
    default: return c.destinationText;
  }
}

export const intCtlWriteback: Rule = {
  id: 'int-ctl-writeback',
  defaultSeverity: 'warning',
  description: 'int_ctl bits copied back from vmcb02 that the processor does not write on #VMEXIT (or V_GIF/V_IRQ under the wrong conditions)',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    if (!docHas(doc, 'int_ctl')) return out;
    for (const fn of doc.functions) {
      const body = doc.text.slice(fn.bodyStart, fn.bodyEnd);
      if (!/int_ctl\s*(\||&|=)/.test(body) && !/int_ctl\s*(\|=|&=)/.test(body)) continue;
      if (!mayCopyIntCtl(body) || !mayNameCheckedDestination(body)) continue;
      // The role only decides whether a copy from `svm->vmcb` reads the VMCB L2 just ran: if no copy would be flagged
      // with either answer, there are no findings and the roles need not be computed (for this function).
      if (!cachedFunctionValue(doc, 'int-ctl-writeback:candidates', fn, () => functionFindings(doc, fn, undefined, true).length > 0, (v) => v)) continue;
      const role = roleOfFunction(doc, fn.name)?.kind;
      // The findings depend on the function's text and its role only: reuse them while both are unchanged.
      out.push(...cachedPerFunction(doc, `int-ctl-writeback:${role ?? ''}`, fn, () => functionFindings(doc, fn, role)));
    }
    return out;
  },
};

/**
 * Can the body hold an int_ctl copy — an assignment to `X.int_ctl` whose right-hand side reads another `Y.int_ctl`?
 * Findings come only from such copies (analyzeMasks' `copies`), and one puts two `int_ctl` in a single statement: two
 * consecutive occurrences with no `;` between them, or with a comment, string, character or block between (where a
 * `;` need not end the statement). Exact as a filter; it skips the many `int_ctl |= V_X_MASK;` functions.
 */
function mayCopyIntCtl(body: string): boolean {
  let prev = body.indexOf('int_ctl');
  for (let i = prev < 0 ? -1 : body.indexOf('int_ctl', prev + 7); i >= 0; prev = i, i = body.indexOf('int_ctl', i + 7)) {
    const between = body.slice(prev + 7, i);
    if (!between.includes(';') || /\/\*|\/\/|["'{]/.test(between)) return true;
  }
  return false;
}

/**
 * Can the body name a destination that findings are about (vmcb12, the cached vmcb12 controls, vmcb01 — see vmcbRole)?
 * Each of those names, with blanks removed, holds one of the words below (or is exactly `ctl`); a destination's text
 * is part of the body, so without blanks it is part of the body without blanks. Exact as a filter.
 */
function mayNameCheckedDestination(body: string): boolean {
  const flat = body.replace(/\s+/g, '');
  return /nested_vmcb|hsave|nested\.ctl|nested\.save|vmcb12|vmcb01/.test(flat) || /\bctl\b/.test(body);
}

/** Mask analyses of the current document version, shared by the two passes of run(). */
const masksOf = new WeakMap<DocumentAnalysis, Map<FunctionInfo, MaskAnalysis>>();

/** Findings for the copies in `fn`; with `anyRole`, as if every copy from `svm->vmcb` read the VMCB L2 just ran. */
function functionFindings(doc: DocumentAnalysis, fn: FunctionInfo, role: string | undefined, anyRole = false): Finding[] {
  const out: Finding[] = [];
  let memo = masksOf.get(doc);
  if (!memo) masksOf.set(doc, (memo = new Map()));
  let ma = memo.get(fn);
  if (!ma) memo.set(fn, (ma = analyzeMasks(doc, fn, { copiesOnly: true })));
  for (const c of ma.copies) {
    if (anyRole ? c.source !== 'vmcb02' && c.source !== 'vmcb' : !isJustRun(c, role)) continue;
    if (c.destination !== 'vmcb12' && c.destination !== 'vmcb12-cache' && c.destination !== 'vmcb01') continue;
    const problems: string[] = [];
    const never: string[] = [];
    for (const bit of INT_CTL_BIT_NAMES) {
      const f = c.copied.get(bit) ?? FALSE;
      if (f.kind === 'false') continue;
      const cls = intCtlWritebackClass(bit);
      if (cls === 'never') {
        if (may(f)) never.push(bit);
      } else if (cls === 'vgif') {
        if (may(f, { [K.nestedVgif]: false })) {
          problems.push(`copies ${bit} on a path where nested vGIF is not enabled (no nested_vgif_enabled() guard): without vGIF for L2, vmcb02's V_GIF holds L1's GIF, which #VMEXIT clears anyway`);
        }
      } else if (cls === 'vnmi') {
        const keys = vnmiKeys(f);
        const fixed: Record<string, boolean> = {};
        for (const k of keys) fixed[k] = false;
        if (keys.size === 0 || may(f, fixed)) {
          problems.push(`copies ${bit} on a path where nested vNMI is not enabled (no nested_vnmi_enabled() guard): the processor writes it back only when V_NMI_ENABLE is set`);
        }
      } else if (bit === 'V_IRQ' && (c.destination === 'vmcb12' || c.destination === 'vmcb12-cache')) {
        const l0Owns: Record<string, boolean> = {
          // L0 owns VINTR when it intercepts it and L1 does not, whatever L1's V_INTR_MASKING (the guard that tested
          // only !V_INTR_MASKING was fixed in Linux 6.4: "Don't sync vmcb02 V_IRQ back to vmcb12 if KVM (L0) is
          // intercepting VINTR").
          [K.l0Vintr]: true, [K.l1Vintr]: false, [K.l1VintrMem]: false,
        };
        if (may(f, l0Owns)) {
          problems.push('copies V_IRQ even when L0 owns the VINTR intercept (svm_is_intercept(svm, INTERCEPT_VINTR) without L1 intercepting VINTR): L0 set V_IRQ in vmcb02 to open its own interrupt window, so syncing it would inject a spurious virtual interrupt into L1\'s view of L2');
        }
      }
    }
    if (never.length) {
      const what = c.whole ? `copies the whole int_ctl from ${c.sourceText}, including` : 'copies';
      problems.unshift(`${what} ${never.join(', ')}, which the processor does not write on #VMEXIT (input-only bits: the value in ${c.sourceText} is what L0 put there for VMRUN, not L2 state)`);
    }
    if (!problems.length) continue;
    const cond = c.cond.kind === 'true' ? '' : ` (path: ${formulaToString(c.cond, 120)})`;
    out.push({
      rule: 'int-ctl-writeback', severity: 'warning', start: c.targetStart, end: c.targetEnd, source: SOURCE,
      message: `int_ctl copy from the VMCB L2 just ran (${c.sourceText}) into ${dstName(c)}${cond}: ${problems.join('; ')}. [${SOURCE}]`,
    });
  }
  return out;
}

