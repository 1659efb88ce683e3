// vmwrite-readonly: VMWRITE (vmcs_write*) to a read-only VM-exit information field. VMWRITE fails with
// VMfailValid(13) "VMWRITE to read-only VMCS component" unless IA32_VMX_MISC bit 29 ("VMWRITE to any supported
// field") is 1 — SDM Vol.3C §31.3 VMWRITE, Vol.3D §A.6; KVM's nested handle_vmwrite checks
// nested_cpu_has_vmwrite_any_field(). Only literal field names are checked: KVM's shadow-VMCS copy loops write
// fields from tables and are not flagged.
import type { DocumentAnalysis } from '../../analysis/document';
import { mustBeTrue } from '../../analysis/conditions';
import type { VmcsField } from '../../model/index';
import { RULES as SEM, vmwriteAllowed } from '../../model/semantics';
import type { Finding, Rule } from '../findings';
import { contextAt, fnAt } from './vmxPaths';

export const RULE_ID = 'vmwrite-readonly';

export const vmwriteReadonly: Rule = {
  id: RULE_ID,
  defaultSeverity: 'warning',
  description: 'VMWRITE to a read-only VM-exit information field without a guard on VMWRITE-any-field support (IA32_VMX_MISC[29])',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    for (const r of doc.refs) {
      if (r.inComment || r.entity.kind !== 'vmcs' || !r.accessor || r.accessor.op === 'read') continue;
      const f = r.entity as VmcsField;
      if (f.type !== 'read-only' || vmwriteAllowed(f, false)) continue;
      const fn = fnAt(doc, r.start);
      if (!fn) continue;
      if (mustBeTrue(contextAt(doc, r.start, fn), 'vmwrite_any_field', true)) continue;
      const source = SEM.vmwriteAllowed.source;
      out.push({
        rule: RULE_ID, severity: 'warning', start: r.start, end: r.end, source,
        message: `${r.accessor.name}(${f.name}) writes a read-only VM-exit information field (encoding 0x${f.encoding.toString(16).padStart(4, '0')}, type bits 11:10 = 01): VMWRITE fails with VM-instruction error 13 unless IA32_VMX_MISC bit 29 (VMWRITE to any supported field) is 1, and this path does not check it (nested_cpu_has_vmwrite_any_field / VMX_MISC_VMWRITE_SHADOW_RO_FIELDS). [${source}]`,
      });
    }
    return out;
  },
};
