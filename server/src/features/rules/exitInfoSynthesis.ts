// exit-info-synthesis: exit information KVM reads from the hardware or synthesizes for L1 must follow what the
// processor writes, clears or leaves unmodified:
//   - SVM: a #VMEXIT KVM synthesizes into vmcb12 (a store of vmcb12 EXITCODE) must also write EXITINFO1/EXITINFO2
//     (every #VMEXIT writes them) and leave EVENTINJ invalid — otherwise L1 reads its own stale values back;
//   - VMX: a VM exit for a failed VM entry records only the exit reason and qualification; the other exit-information
//     fields of vmcs12 must be written only on a path that excludes VMX_EXIT_REASONS_FAILED_VMENTRY;
//   - SVM: NextRIP is written by #VMEXIT only with NRIP save: a test of next_rip (to skip an instruction) must be
//     under `nrips` / X86_FEATURE_NRIPS, else the field is a stale value.
// Facts: model/nestedExit.ts.
import type { Node } from 'web-tree-sitter';
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { mapCondition, not, pred } from '../../analysis/conditions';
import { NRIPS_FORMULA, pathEstablishes, pathTests } from './vmxPaths';

const NRIPS_KEYS = ['host_feature:NRIPS', 'guest_feature:NRIPS'];
import {
  APM_VMEXIT, SDM_FAILED_ENTRY, SVM_EXIT_ALWAYS_WRITTEN, VMX_UNMODIFIED_ON_FAILED_ENTRY,
} from '../../model/nestedExit';
import type { Finding, Rule } from '../findings';
import { codeOnly } from './nestedWriteback';
import { docHas, perFunctionFindings } from '../../analysis/docMemo';

const RULE = 'exit-info-synthesis';
const APM_NRIP = 'AMD APM Vol.2 §15.7.1 (State Saved on Exit: nRIP is saved only if the NRIP-save feature is '
  + 'supported, CPUID Fn8000_000A EDX[3]); Linux v7.1.5 arch/x86/kvm/svm/svm.c __svm_skip_emulated_instruction()';

const VMCB12_CONTROL = /(?<![\w>.])(vmcb12|nested_vmcb)\s*->\s*control\s*\.\s*([a-z_0-9]+)\s*(\|=|&=|=)(?!=)/g;

function svmSynthesis(fn: FunctionInfo, body: string, out: Finding[]): void {
  const written = new Map<string, number>();
  let exitCode: { at: number; len: number; obj: string } | undefined;
  VMCB12_CONTROL.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = VMCB12_CONTROL.exec(body)) !== null) {
    if (!written.has(m[2])) written.set(m[2], m.index);
    if (m[2] === 'exit_code' && !exitCode) exitCode = { at: m.index, len: m[0].length, obj: m[1] };
  }
  if (!exitCode) return;
  const missing = SVM_EXIT_ALWAYS_WRITTEN.filter((f) => !written.has(f));
  if (!written.has('event_inj')) missing.push('event_inj');
  if (!missing.length) return;
  const start = fn.bodyStart + exitCode.at;
  out.push({
    rule: RULE, severity: 'warning', start, end: start + exitCode.len, source: APM_VMEXIT,
    message: `#VMEXIT synthesized into ${exitCode.obj} without ${missing.join(', ')}: L1 reads its stale values (exit info is written, EVENTINJ cleared)`,
  });
}

const VMCS12_ASSIGN = /(?<![\w>.])vmcs12\s*->\s*([a-z_0-9]+)\s*=(?!=)/g;

function vmxFailedEntry(doc: DocumentAnalysis, fn: FunctionInfo, body: string, out: Finding[]): void {
  if (!/vmcs12\s*->\s*vm_exit_reason\s*=(?!=)/.test(body)) return;
  VMCS12_ASSIGN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = VMCS12_ASSIGN.exec(body)) !== null) {
    if (!VMX_UNMODIFIED_ON_FAILED_ENTRY.includes(m[1])) continue;
    const start = fn.bodyStart + m.index;
    // Fine where the path excludes a failed VM entry (VMX_EXIT_REASONS_FAILED_VMENTRY / exit_reason.failed_vmentry).
    if (pathEstablishes(doc, start, not(pred('failed_vmentry')))) continue;
    out.push({
      rule: RULE, severity: 'warning', start, end: start + m[0].length - 1, source: SDM_FAILED_ENTRY,
      message: `vmcs12->${m[1]} is written on a path that may report a failed VM entry, which leaves it unmodified`,
    });
  }
}

const NEXT_RIP_READ = /(?:->|\.)\s*next_rip\b(?!\s*=[^=])/g;

/** The condition of the if/while/ternary (or the &&/|| chain) containing `node`, if any. */
function enclosingCondition(node: Node | null): Node | undefined {
  let cond: Node | undefined;
  for (let n = node, d = 0; n && d < 12; n = n.parent, d++) {
    const p = n.parent;
    if (!p) break;
    if ((p.type === 'if_statement' || p.type === 'while_statement') && p.childForFieldName('condition')?.id === n.id) return n;
    if (p.type === 'conditional_expression' && p.childForFieldName('condition')?.id === n.id) return n;
    if (p.type === 'binary_expression' && /^(&&|\|\|)$/.test(p.child(1)?.type ?? '')) cond = p;
    if (p.type === 'expression_statement' || p.type === 'compound_statement') break;
  }
  return cond;
}

function nextRipReads(doc: DocumentAnalysis, fn: FunctionInfo, body: string, out: Finding[]): void {
  NEXT_RIP_READ.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NEXT_RIP_READ.exec(body)) !== null) {
    const before = body.slice(Math.max(0, m.index - 40), m.index);
    if (!/control\s*$/.test(before)) continue; // vmcb->control.next_rip / control->next_rip only (not svm->next_rip)
    if (/(vmcb12|nested_vmcb|nested\.ctl)\s*(->|\.)\s*control\s*$/.test(before) || /nested\s*\.\s*ctl\s*$/.test(before)) continue;
    const start = fn.bodyStart + m.index + m[0].indexOf('next_rip');
    const node = doc.tree.rootNode.descendantForIndex(start, start + 8);
    const cond = enclosingCondition(node);
    if (!cond) continue;
    // Fine where the test itself asks about NRIP save (`nrips && ...next_rip`), or the path establishes it.
    if (pathTests(mapCondition(cond), NRIPS_KEYS) || pathEstablishes(doc, start, NRIPS_FORMULA)) continue;
    out.push({
      rule: RULE, severity: 'warning', start, end: start + 'next_rip'.length, source: APM_NRIP,
      message: 'next_rip tested without checking NRIP save (nrips): #VMEXIT writes NextRIP only with NRIPS, else it is stale',
    });
  }
}

export const exitInfoSynthesis: Rule = {
  id: RULE,
  defaultSeverity: 'warning',
  description: 'exit information synthesized for L1 or read from the VMCB against what the processor writes, clears or leaves unmodified',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    const t = doc.text;
    const svm = docHas(doc, 'vmcb12') || docHas(doc, 'nested_vmcb');
    const vmx = docHas(doc, 'vm_exit_reason');
    const nrip = docHas(doc, 'next_rip');
    if (!svm && !vmx && !nrip) return out;
    // Depends on the function's text and tree, and on the three document flags above (the key).
    out.push(...perFunctionFindings(doc, `${RULE}:${svm}:${vmx}:${nrip}`, (fn) => {
      const raw = t.slice(fn.bodyStart, fn.bodyEnd);
      const doSvm = svm && raw.includes('exit_code') && /vmcb12|nested_vmcb/.test(raw);
      const doVmx = vmx && raw.includes('vm_exit_reason') && raw.includes('vmcs12');
      const doNrip = nrip && raw.includes('next_rip');
      const found: Finding[] = [];
      if (!doSvm && !doVmx && !doNrip) return found;
      const body = codeOnly(raw);
      if (doSvm) svmSynthesis(fn, body, found);
      if (doVmx) vmxFailedEntry(doc, fn, body, found);
      if (doNrip) nextRipReads(doc, fn, body, found);
      return found;
    }));
    return out;
  },
};
