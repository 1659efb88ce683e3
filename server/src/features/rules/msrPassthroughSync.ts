// msr-passthrough-sync: disabling WRMSR interception of an MSR whose host kernel keeps a software copy
// (model MsrInfo.hostSoftwareCopy — IA32_XFD: fpstate->xfd and the per-CPU xfd cache) requires re-syncing that copy
// from the hardware after every VM exit, because the guest can now change the MSR without KVM seeing it (seed 004:
// "kvm: x86: Disable WRMSR interception for IA32_XFD on demand" and fpu_sync_guest_vmexit_xfd_state()).
//
// Where the sync may live, from most to least local:
//   1. the same file: a call of a sync helper named by the model (fpu_sync_guest_vmexit_xfd_state(); the v5 series
//      called it xfd_sync_state()) or an RDMSR of that MSR in a VM-run/exit function;
//   2. the workspace (workspaceFacts(): the editor's index, or every file of a CLI run): any call of a sync helper;
//   3. a known KVM contract when the generic run loop is not in view: setting or testing
//      vcpu->arch.xfd_no_write_intercept, which arch/x86/kvm/x86.c vcpu_enter_guest() checks to call
//      fpu_sync_guest_vmexit_xfd_state() (Linux ≥ 5.17). Once the workspace contains vcpu_enter_guest() the
//      contract is checked instead of assumed (2).
// Only the write direction matters: a guest RDMSR cannot make the host copy stale.
import type { Node } from 'web-tree-sitter';
import type { DocumentAnalysis } from '../../analysis/document';
import { roleOfFunction } from '../../analysis/roles';
import { workspaceFacts } from '../../analysis/workspace';
import { functionAt } from '../../analysis/document';
import { docHas, scanSegments } from '../../analysis/docMemo';
import { entityForIdentifier, type MsrInfo } from '../../model/index';
import type { Finding, Rule, RuleContext } from '../findings';

const SOURCE = 'Intel SDM Vol.3C §25.6.9 (MSR bitmaps: a clear write bit lets WRMSR run without a VM exit); '
  + 'LKML [PATCH v6 20/21] x86/fpu: Provide fpu_sync_guest_vmexit_xfd_state(); [PATCH 13/19] kvm: x86: Disable WRMSR '
  + 'interception for IA32_XFD on demand (seed 004); Linux arch/x86/kvm/x86.c vcpu_enter_guest()';

/** Older names of the sync helpers (the v5 XFD series), in addition to those the model names. */
const EXTRA_SYNC: Readonly<Record<string, string[]>> = {
  MSR_IA32_XFD: ['xfd_sync_state', 'fpu_sync_guest_vmexit_xfd_state'],
};
/** Flags KVM's generic run loop honours by calling the sync (x86.c vcpu_enter_guest, Linux ≥ 5.17). */
const CONTRACT_FLAGS: Readonly<Record<string, { flag: string; runLoop: string }>> = {
  MSR_IA32_XFD: { flag: 'xfd_no_write_intercept', runLoop: 'vcpu_enter_guest' },
};

interface DisableSite { start: number; end: number; call: string; msr: MsrInfo; fnName?: string }

function syncHelpers(msr: MsrInfo): string[] {
  const fromModel = [...(msr.hostSoftwareCopy ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\(\)/g)].map((m) => m[1]);
  return [...new Set([...fromModel, ...(EXTRA_SYNC[msr.name] ?? [])])];
}

function argsOf(call: Node): string[] {
  return (call.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'comment').map((a) => a.text.replace(/\s+/g, ''));
}

/** Does this call let the guest WRMSR the MSR without exiting? Returns the MSR argument if so. */
function writePassthrough(name: string, args: string[]): string | undefined {
  const isTrue = (s: string | undefined): boolean => s === 'true' || s === '1';
  const isFalse = (s: string | undefined): boolean => s === 'false' || s === '0';
  const writeType = (t: string | undefined): boolean => !!t && /MSR_TYPE_(RW|W)\b/.test(t);
  switch (name) {
    case 'vmx_disable_intercept_for_msr':
    case 'svm_disable_intercept_for_msr':
      return writeType(args[2]) ? args[1] : undefined;
    case 'vmx_set_intercept_for_msr':
    case 'svm_set_intercept_for_msr':
      return writeType(args[2]) && !isTrue(args[3]) ? args[1] : undefined;
    case 'set_msr_interception':
      // Older SVM: set_msr_interception([vcpu,] msrpm, msr, read, write) — read/write = 1 means "allow" (no intercept).
      if (args.length >= 5) return !isFalse(args[4]) ? args[2] : undefined;
      if (args.length === 4) return !isFalse(args[3]) ? args[1] : undefined;
      return undefined;
    default:
      return undefined;
  }
}

const DISABLE_FNS = /\b(vmx_disable_intercept_for_msr|svm_disable_intercept_for_msr|vmx_set_intercept_for_msr|svm_set_intercept_for_msr|set_msr_interception)\s*\(/g;

/** DISABLE_FNS matches in text[from, to) (absolute offsets). */
function disableCalls(text: string, from: number, to: number): Array<{ index: number; name: string }> {
  const out: Array<{ index: number; name: string }> = [];
  const t = text.slice(from, to);
  if (!t.includes('_intercept_for_msr') && !t.includes('set_msr_interception')) return out;
  DISABLE_FNS.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = DISABLE_FNS.exec(t)) !== null) out.push({ index: from + m.index, name: m[1] });
  return out;
}

function disableSites(doc: DocumentAnalysis): DisableSite[] {
  const out: DisableSite[] = [];
  // Scanned per function (and gap between functions), reused while its text is unchanged.
  for (const m of scanSegments(doc, 'msr-passthrough-sync:disable', disableCalls)) {
    const start = m.index;
    const node = doc.tree.rootNode.descendantForIndex(start, start + m.name.length);
    if (!node || node.type !== 'identifier' || node.parent?.type !== 'call_expression') continue;
    const msrName = writePassthrough(m.name, argsOf(node.parent));
    if (!msrName) continue;
    const e = entityForIdentifier(msrName);
    if (!e || e.kind !== 'msr' || !e.hostSoftwareCopy) continue;
    out.push({ start, end: node.parent.endIndex, call: m.name, msr: e, fnName: functionAt(doc, start)?.name });
  }
  return out;
}

/** A sync in this document: a helper call anywhere, or a raw RDMSR of the MSR in a VM-run / exit function. */
function localSync(doc: DocumentAnalysis, msr: MsrInfo): number | undefined {
  for (const h of syncHelpers(msr)) {
    const re = new RegExp(`\\b${h}\\s*\\(`, 'g');
    let m: RegExpExecArray | null;
    while ((m = re.exec(doc.text)) !== null) {
      const node = doc.tree.rootNode.descendantForIndex(m.index, m.index + h.length);
      if (!node || node.type === 'comment') continue;
      const fn = functionAt(doc, m.index);
      if (fn && fn.name === h) continue; // the helper's own definition
      if (fn) return m.index;
    }
  }
  const rd = new RegExp(`\\b(?:rdmsrl|rdmsrq|rdmsr|native_rdmsrl|native_rdmsrq)\\s*\\(\\s*${msr.name}\\b`, 'g');
  let m: RegExpExecArray | null;
  while ((m = rd.exec(doc.text)) !== null) {
    const fn = functionAt(doc, m.index);
    if (!fn) continue;
    const role = roleOfFunction(doc, fn.name)?.kind;
    if (role === 'vcpu-run' || role === 'after-vmexit' || /vcpu_run|enter_guest|exit_irqoff|handle_exit|vmexit/.test(fn.name)) return m.index;
  }
  return undefined;
}

/** The text of the function containing the disable (to look for the contract flag). */
function fnText(doc: DocumentAnalysis, offset: number): string {
  const fn = functionAt(doc, offset);
  return fn ? doc.text.slice(fn.start, fn.end) : '';
}

export const msrPassthroughSync: Rule = {
  id: 'msr-passthrough-sync',
  defaultSeverity: 'warning',
  description: 'WRMSR interception disabled for an MSR whose host software copy is not re-synced after VM exit',
  run(doc: DocumentAnalysis, ctx?: RuleContext): Finding[] {
    const out: Finding[] = [];
    if (!docHas(doc, 'intercept')) return out;
    const sites = disableSites(doc);
    if (!sites.length) return out;
    const ws = workspaceFacts();
    for (const s of sites) {
      if (localSync(doc, s.msr) !== undefined) continue;
      const helpers = syncHelpers(s.msr);
      // Other files of a CLI run, then the workspace index.
      const inFiles = (ctx?.files ?? []).some((f) => f.text !== doc.text && helpers.some((h) => new RegExp(`\\b${h}\\s*\\(\\s*\\)\\s*;`).test(f.text)));
      if (inFiles || helpers.some((h) => ws.callers(h).some((c) => c.caller !== h))) continue;
      const contract = CONTRACT_FLAGS[s.msr.name];
      const runLoopVisible = !!contract && (ws.definedIn(contract.runLoop).length > 0 ||
        (ctx?.files ?? []).some((f) => new RegExp(`^\\w[^\\n;]*\\b${contract.runLoop}\\s*\\([^;{)]*\\)\\s*\\{`, 'm').test(f.text)));
      if (contract && !runLoopVisible && new RegExp(`\\b${contract.flag}\\b`).test(fnText(doc, s.start))) continue;
      const copy = s.msr.hostSoftwareCopy ?? 'its host software copy';
      const helperText = helpers.length ? `${helpers[0]}()` : `an RDMSR of ${s.msr.name}`;
      out.push({
        rule: 'msr-passthrough-sync', severity: 'warning', start: s.start, end: s.end, source: SOURCE,
        message: `${s.call}() lets the guest write ${s.msr.name} without a VM exit, but the host keeps a software copy (${copy}) and no re-sync after VM exit was found${runLoopVisible ? ' (the run loop is in view and does not call it)' : ' in this file or the files checked with it'}: call ${helperText} on the exit path (with interrupts still disabled, before the host can use the stale copy). [${SOURCE}]`,
      });
    }
    return out;
  },
};
