// nested-writeback: when KVM emulates a VM exit / #VMEXIT from L2 to L1 it must write into vmcb12 / vmcs12 exactly
// what the processor writes, nothing more:
//   - SVM: a vmcb12 control field that #VMEXIT does not write (an input of VMRUN: tlb_ctl, pause filter, intercepts,
//     tsc_offset, ...) keeps L1's value — storing anything there (L0's vmcb02 value or KVM's cached copy) is wrong;
//     EVENTINJ is left invalid by #VMEXIT (only clearing it is right); NextRIP is written only with NRIP save.
//     int_ctl is partly written and is checked bit by bit by int-ctl-writeback.
//   - VMX: guest-state fields that VM exit saves only under a "save" VM-exit control (DEBUGCTL/DR7, PAT, EFER,
//     PERF_GLOBAL_CTRL, preemption timer) are copied into vmcs12 only on a path that tests that control.
// Facts: model/nestedExit.ts (from the VMCB table's #VMEXIT write column and SDM §28.3).
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { pred } from '../../analysis/conditions';
import { NRIPS_FORMULA, pathEstablishes } from './vmxPaths';
import { roleOfFunction } from '../../analysis/roles';
import { docHas, isEmptyList, perFunctionValues, shiftFindings } from '../../analysis/docMemo';
import { cachedPerFunction } from '../../analysis/incremental';
import { APM_VMEXIT, SDM_EXIT_SAVE, VMX_CONDITIONAL_SAVES, ZEROED_WITH, vmexitWriteOf } from '../../model/nestedExit';
import type { Finding, Rule } from '../findings';

/** The body with comments blanked (same length), so offsets stay valid and commented code is not matched. */
export function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}

/** `vmcb12->control.X op= rhs;` and the old name `nested_vmcb->control.X` (Linux ≤ 5.9). */
const VMCB12_CONTROL_WRITE = /(?<![\w>.])(vmcb12|nested_vmcb)\s*->\s*control\s*\.\s*([a-z_0-9]+)\s*(\|=|&=|=)(?!=)([^;]*);/g;
const VMCS12_WRITE = /(?<![\w>.])vmcs12\s*->\s*([a-z_0-9]+)\s*(=)(?!=)([^;]*);|&\s*vmcs12\s*->\s*([a-z_0-9]+)\b/g;

function isZero(rhs: string): boolean {
  return /^\s*\(?\s*0[uUlL]*\s*\)?\s*$/.test(rhs);
}

function svmFindings(doc: DocumentAnalysis, fn: FunctionInfo, body: string, out: Finding[]): void {
  VMCB12_CONTROL_WRITE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = VMCB12_CONTROL_WRITE.exec(body)) !== null) {
    const member = m[2];
    const op = m[3];
    const rhs = m[4];
    const cls = vmexitWriteOf(member);
    if (!cls) continue;
    const start = fn.bodyStart + m.index;
    const end = start + m[0].length - 1;
    const dst = `${m[1]}->control.${member}`;
    let message: string | undefined;
    if (cls === 'input') {
      if (ZEROED_WITH[member] && isZero(rhs)) continue;
      message = `${dst} is a VMRUN input #VMEXIT never writes; the emulated #VMEXIT must leave L1's value in vmcb12`;
    } else if (cls === 'cleared') {
      if (isZero(rhs) || (op === '&=' && /~/.test(rhs))) continue;
      message = `#VMEXIT leaves EVENTINJ invalid; storing a value in ${dst} shows L1 an event still pending`;
    } else if (cls === 'nrips') {
      if (pathEstablishes(doc, start, NRIPS_FORMULA)) continue;
      message = `${dst}: #VMEXIT writes NextRIP only with NRIP save; this path doesn't check L1 has NRIPS`;
    }
    if (!message) continue;
    out.push({ rule: 'nested-writeback', severity: 'warning', start, end, message, source: APM_VMEXIT });
  }
}

/** A vmcs12 store of a field that VM exit saves only under a VM-exit control, by its offset in the document. */
interface SaveWrite { start: number; end: number; member: string; control: string }

function vmxSaveWrites(fn: FunctionInfo, body: string): SaveWrite[] {
  const out: SaveWrite[] = [];
  VMCS12_WRITE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = VMCS12_WRITE.exec(body)) !== null) {
    const member = m[1] ?? m[4];
    const control = VMX_CONDITIONAL_SAVES[member];
    if (!control) continue;
    const start = fn.bodyStart + m.index;
    out.push({ start, end: start + m[0].length, member, control });
  }
  return out;
}

function vmxFindings(doc: DocumentAnalysis, writes: readonly SaveWrite[]): Finding[] {
  const out: Finding[] = [];
  for (const { start, end, member, control } of writes) {
    // Fine where the path establishes L1's save control (`vmcs12->vm_exit_controls & VM_EXIT_SAVE_...`).
    if (pathEstablishes(doc, start, pred(`vmcs12_ctl:${control}`))) continue;
    out.push({
      rule: 'nested-writeback', severity: 'warning', start, end, source: SDM_EXIT_SAVE,
      message: `VM exit saves vmcs12->${member} only if L1 sets ${control}; this path doesn't test it`,
    });
  }
  return out;
}

function shiftWrites(ws: SaveWrite[], d: number): SaveWrite[] {
  return d === 0 ? ws : ws.map((w) => ({ ...w, start: w.start + d, end: w.end + d }));
}

export const nestedWriteback: Rule = {
  id: 'nested-writeback',
  defaultSeverity: 'warning',
  description: 'emulated nested VM exit writes vmcb12/vmcs12 fields the processor does not write (or writes only conditionally)',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    const hasSvm = docHas(doc, 'vmcb12') || docHas(doc, 'nested_vmcb');
    const hasVmx = docHas(doc, 'vmcs12');
    if (!hasSvm && !hasVmx) return out;
    // Each part depends on the function's text and tree only; the VMX part applies to an emulated VM exit, a role
    // that depends on the callers, so it is asked only of functions with candidate findings.
    const svm = hasSvm ? perFunctionValues(doc, 'nested-writeback:svm', (fn) => {
      const raw = doc.text.slice(fn.bodyStart, fn.bodyEnd);
      const found: Finding[] = [];
      if (/control\s*\./.test(raw) && /vmcb12|nested_vmcb/.test(raw)) svmFindings(doc, fn, codeOnly(raw), found);
      return found;
    }, isEmptyList, shiftFindings) : [];
    // The VMX part applies to an emulated VM exit, a role that depends on the callers: the stores are found from the
    // function's text, and only those of an after-L2-exit function are asked for their path (which explores the
    // function) — a large eVMCS copy that is not one is never explored for this rule.
    const vmx = hasVmx ? perFunctionValues(doc, 'nested-writeback:vmx-stores', (fn) => {
      const raw = doc.text.slice(fn.bodyStart, fn.bodyEnd);
      return raw.includes('vmcs12') ? vmxSaveWrites(fn, codeOnly(raw)) : [];
    }, isEmptyList, shiftWrites).filter(({ fn }) => roleOfFunction(doc, fn.name)?.kind === 'after-l2-exit')
      .map(({ fn, value }) => ({ fn, value: cachedPerFunction(doc, 'nested-writeback:vmx', fn, () => vmxFindings(doc, value)) })) : [];
    // In function order, the SVM findings of a function before its VMX ones.
    for (const { value } of [...svm, ...vmx].sort((a, b) => a.fn.start - b.fn.start)) out.push(...value);
    return out;
  },
};
