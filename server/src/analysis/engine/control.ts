// Which control structure is current: the loaded VMCS (vmcs01 / vmcs02 / a shadow VMCS) and the VMCB `svm->vmcb`
// points to (vmcb01 / vmcb02). Recognises KVM's switches (vmx_switch_vmcs, loaded_vmcs + vmx_vcpu_load_vmcs,
// vmcs_load, svm_switch_vmcb, assignments to svm->vmcb) and finds, for a function, what its callers in the same
// document have loaded when they call it (interprocedural context). Text-level and pure: no machine, no parser state.
//
// Sources: Linux 7.1.5 arch/x86/kvm/vmx/nested.c vmx_switch_vmcs / nested_vmx_enter_non_root_mode /
// copy_vmcs02_to_vmcs12_rare / copy_shadow_to_vmcs12, arch/x86/kvm/svm/nested.c svm_switch_vmcb; Linux 5.2.1
// arch/x86/kvm/vmx/nested.c (same switch calls), arch/x86/kvm/svm.c (one VMCB per vCPU plus nested.hsave).
import type { DocumentAnalysis, FunctionInfo } from '../document';

export type VmcsObject = 'vmcs01' | 'vmcs02' | 'shadow';
export type VmcbObject = 'vmcb01' | 'vmcb02';

export interface ControlSwitch {
  vmcs?: VmcsObject;
  vmcb?: VmcbObject;
  /** `loaded_vmcs` pointer changed: takes effect at the next vmx_vcpu_load_vmcs / vmcs_load. */
  pendingVmcs?: VmcsObject;
  /** The call loads the pending `loaded_vmcs` (vmx_vcpu_load_vmcs, vmcs_load(loaded_vmcs->vmcs)). */
  loadPending?: boolean;
}

const squash = (s: string): string => s.replace(/\s+/g, '');

/** The VMCS a C expression names: `&vmx->nested.vmcs02`, `vmx->vmcs01.vmcs`, `shadow_vmcs`, `vmx->loaded_vmcs`. */
export function vmcsObjectOf(text: string): VmcsObject | 'loaded' | undefined {
  const t = squash(text);
  if (/shadow_vmcs/.test(t)) return 'shadow';
  if (/vmcs02/.test(t)) return 'vmcs02';
  if (/vmcs01/.test(t)) return 'vmcs01';
  if (/loaded_vmcs/.test(t)) return 'loaded';
  return undefined;
}

/** The VMCB a C expression names: `&svm->vmcb01`, `svm->vmcb01.ptr`, `&svm->nested.vmcb02`, `svm->nested.vmcb02.ptr`. */
export function vmcbObjectOf(text: string): VmcbObject | undefined {
  const t = squash(text);
  if (/vmcb02/.test(t)) return 'vmcb02';
  if (/vmcb01|nested\.hsave|\bhsave$/.test(t)) return 'vmcb01';
  return undefined;
}

/** What a call does to the current control structure (undefined: nothing). */
export function switchOfCall(fn: string, args: readonly string[]): ControlSwitch | undefined {
  switch (fn) {
    case 'vmx_switch_vmcs': {
      const o = vmcsObjectOf(args[1] ?? '');
      return o && o !== 'loaded' ? { vmcs: o } : undefined;
    }
    case 'vmcs_load': {
      const o = vmcsObjectOf(args[0] ?? '');
      if (o === 'loaded') return { loadPending: true };
      return o ? { vmcs: o } : undefined;
    }
    case 'vmx_vcpu_load_vmcs': {
      // Linux 7.1.5: vmx_vcpu_load_vmcs(vcpu, cpu) loads vmx->loaded_vmcs; v5.x takes an optional buddy VMCS.
      return { loadPending: true };
    }
    case 'svm_switch_vmcb': {
      const o = vmcbObjectOf(args[1] ?? '');
      return o ? { vmcb: o } : undefined;
    }
    default:
      return undefined;
  }
}

/** What an assignment does: `vmx->loaded_vmcs = &vmx->nested.vmcs02`, `svm->vmcb = svm->vmcb01.ptr`. */
export function switchOfAssignment(lhs: string, rhs: string): ControlSwitch | undefined {
  const l = squash(lhs);
  if (/(->|\.)loaded_vmcs$/.test(l)) {
    const o = vmcsObjectOf(rhs);
    return o && o !== 'loaded' ? { pendingVmcs: o } : undefined;
  }
  if (/(->|\.)vmcb$/.test(l) && /^(svm|to_svm\(.*\))/.test(l)) {
    const o = vmcbObjectOf(rhs);
    return o ? { vmcb: o } : undefined;
  }
  return undefined;
}

export interface EntryControl {
  vmcs?: VmcsObject;
  vmcb?: VmcbObject;
  /** Where it was learnt: `nested_vmx_enter_non_root_mode() line 3656`. */
  via: string;
}

const SWITCH_CALL = /\b(vmx_switch_vmcs|svm_switch_vmcb|vmcs_load)\s*\(([^;]*)\)\s*;/g;

/**
 * The control structure current when `fn` starts, learnt from its callers in the document: the last switch before
 * the call site in the caller (or, when the caller switches nothing before it, what the caller itself starts with),
 * up to `depth` callers up. Undefined when there are no callers or they disagree.
 */
export function entryControl(doc: DocumentAnalysis, fnName: string, depth = 3, seen: Set<string> = new Set()): EntryControl | undefined {
  if (depth <= 0 || seen.has(fnName)) return undefined;
  seen.add(fnName);
  const call = new RegExp(`\\b${fnName}\\s*\\(`, 'g');
  const found: EntryControl[] = [];
  for (const caller of doc.functions) {
    if (caller.name === fnName) continue;
    const body = blankComments(doc.text.slice(caller.bodyStart, caller.bodyEnd));
    call.lastIndex = 0;
    const m = call.exec(body);
    if (!m) continue;
    const before = body.slice(0, m.index);
    const sw = lastSwitch(before);
    const line = doc.lines.positionAt(caller.bodyStart + m.index).line + 1;
    if (sw) { found.push({ ...sw, via: `${caller.name}() line ${line}` }); continue; }
    const up = entryControl(doc, caller.name, depth - 1, seen);
    if (up) found.push({ ...up, via: `${caller.name}() line ${line}, called from ${up.via}` });
  }
  if (!found.length) return undefined;
  const first = found[0];
  if (found.some((f) => f.vmcs !== first.vmcs || f.vmcb !== first.vmcb)) return undefined;
  return first;
}

function lastSwitch(text: string): { vmcs?: VmcsObject; vmcb?: VmcbObject } | undefined {
  let out: { vmcs?: VmcsObject; vmcb?: VmcbObject } | undefined;
  SWITCH_CALL.lastIndex = 0;
  for (let m = SWITCH_CALL.exec(text); m; m = SWITCH_CALL.exec(text)) {
    // A switch on an error path (`{ vmx_switch_vmcs(vcpu, &vmx->vmcs01); return ...; }`) does not reach the call.
    const close = text.indexOf('}', m.index);
    const rest = close >= 0 ? text.slice(m.index, close) : '';
    if (rest && !rest.includes('{') && /\b(return|goto)\b/.test(rest)) continue;
    const args = splitArgs(m[2]);
    const s = switchOfCall(m[1], args);
    if (s?.vmcs) out = { vmcs: s.vmcs };
    else if (s?.vmcb) out = { vmcb: s.vmcb };
  }
  return out;
}

/** Comments replaced by spaces (offsets kept): a function named in a comment is not a call. */
function blankComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, ' '));
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Functions of the document that call `fnName` (for reports). */
export function callersOf(doc: DocumentAnalysis, fnName: string): FunctionInfo[] {
  const call = new RegExp(`\\b${fnName}\\s*\\(`);
  return doc.functions.filter((f) => f.name !== fnName && call.test(blankComments(doc.text.slice(f.bodyStart, f.bodyEnd))));
}
