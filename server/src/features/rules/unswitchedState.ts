// unswitched-state: state the processor does not switch between host and guest must be switched by KVM, and
// host-owned bits of state it does switch must survive:
//   - SVM: VMRUN/#VMEXIT load and save DEBUGCTL only with LBR virtualization; when KVM keeps a guest DEBUGCTL in the
//     VMCB (save.dbgctl = guest value), the run function must load it (and restore the host's) itself;
//   - VMX: VM entry loads IA32_DEBUGCTL wholesale from GUEST_IA32_DEBUGCTL, so a write of a guest value must carry the
//     host-owned bits (FREEZE_IN_SMM).
// Facts: model/stateSwitch.ts.
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { APM_LBRV_DEBUGCTL, HOST_OWNED_BITS, SDM_DEBUGCTL_LOAD, VMRUN_FEATURE_LOADED } from '../../model/stateSwitch';
import type { Finding, Rule } from '../findings';
import { codeOnly } from './nestedWriteback';
import { docHas, functionsWhere, perFunctionFindings } from '../../analysis/docMemo';

const RULE = 'unswitched-state';
const RUN_FN = /^svm_vcpu_run$/;

function svmFeatureLoaded(doc: DocumentAnalysis, out: Finding[]): void {
  const run = doc.functions.find((f) => RUN_FN.test(f.name));
  if (!run) return;
  const runBody = codeOnly(doc.text.slice(run.bodyStart, run.bodyEnd));
  for (const s of VMRUN_FEATURE_LOADED) {
    // A guest value stored into the save-area field (not a copy between VMCBs, not a clear).
    const guestStore = new RegExp(`save\\s*\\.\\s*${s.field}\\s*=\\s*(data|val|value|msr_info->data)\\s*;`);
    // Stores are statements, so inside functions: each function's answer is kept while its text is unchanged.
    const stores = functionsWhere(doc, `${RULE}:store:${s.field}`, (_, raw) => raw.includes(s.field) && guestStore.test(codeOnly(raw)));
    if (!stores.length) continue;
    if (s.manualLoad.test(runBody)) continue;
    const m = /\b(svm_vcpu_enter_exit|__svm_vcpu_run|__svm_sev_es_vcpu_run)\s*\(/.exec(runBody);
    const start = run.bodyStart + (m ? m.index : 0);
    out.push({
      rule: RULE, severity: 'warning', start, end: start + (m ? m[1].length : 1), source: APM_LBRV_DEBUGCTL,
      message: `VMRUN loads ${s.msr} only with ${s.feature}; ${run.name}() never loads the guest's ${s.msr} or restores the host's`,
    });
  }
}

function hostOwned(fn: FunctionInfo, body: string, out: Finding[]): void {
  for (const [field, bits] of Object.entries(HOST_OWNED_BITS)) {
    const re = new RegExp(`vmcs_write64\\s*\\(\\s*${field}\\s*,`, 'g');
    let m: RegExpExecArray | null;
    while ((m = re.exec(body)) !== null) {
      if (bits.test(body)) break;
      const start = fn.bodyStart + m.index;
      out.push({
        rule: RULE, severity: 'warning', start, end: start + m[0].length, source: SDM_DEBUGCTL_LOAD,
        message: `VM entry loads all of ${field}; this write drops host-owned bits (FREEZE_IN_SMM) while the guest runs`,
      });
    }
  }
}

export const unswitchedState: Rule = {
  id: RULE,
  defaultSeverity: 'warning',
  description: 'state the CPU does not switch between host and guest (or whose host-owned bits VM entry overwrites)',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    if (docHas(doc, 'dbgctl') && docHas(doc, 'svm_vcpu_run')) svmFeatureLoaded(doc, out);
    if (docHas(doc, 'GUEST_IA32_DEBUGCTL')) {
      out.push(...perFunctionFindings(doc, `${RULE}:host-owned`, (fn) => {
        const found: Finding[] = [];
        const raw = doc.text.slice(fn.bodyStart, fn.bodyEnd);
        if (raw.includes('GUEST_IA32_DEBUGCTL')) hostOwned(fn, codeOnly(raw), found);
        return found;
      }));
    }
    return out;
  },
};
