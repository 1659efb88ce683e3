// vmcs-undefined-read: reading a VMCS field on a path where the hardware leaves it undefined.
//  (a) GUEST_PDPTR0-3: a VM exit stores the PDPTE registers only when "enable EPT" = 1 and the guest was using
//      PAE paging (SDM Vol.3C §28.3.1 / §28.3.4; KVM commit "KVM: nVMX: Copy PDPTRs to/from vmcs12 only when
//      necessary" — seed 001). Flagged when the path does not establish EPT ∧ PAE paging.
//  (b) Exit-information fields read in an exit handler (role from the file's exit-handler table, or a path
//      guarded by an exit-reason test / `case EXIT_REASON_*:`) whose exit reason leaves them undefined
//      (SDM Vol.3C §28.2.1-§28.2.5). Only flagged when the exit reason is known and the model says undefined.
import type { DocumentAnalysis } from '../../analysis/document';
import { mayBeTrue, mustHold, or, pred, predicatesOf, formulaToString, type Formula } from '../../analysis/conditions';
import { functionRoles, exitHandlerTable } from '../../analysis/roles';
import type { VmcsField } from '../../model/index';
import { RULES as SEM, exitInfoValidity, isPdptrField, normaliseVmcsFieldName } from '../../model/semantics';
import type { Finding, Rule } from '../findings';
import {
  EPT_FORMULA, PAE_FORMULA, PDPTRS_DEFINED, contextAt, copiedIntoVmcs12, fnAt, guardText, inPrintArguments,
  relevantGuards, vmxExitCode,
} from './vmxPaths';

export const RULE_ID = 'vmcs-undefined-read';

/** The exit-information fields this rule checks (issue 3). */
export const EXIT_INFO_FIELDS = new Set([
  'EXIT_QUALIFICATION', 'GUEST_LINEAR_ADDRESS', 'GUEST_PHYSICAL_ADDRESS', 'VM_EXIT_INTR_ERROR_CODE',
  'IDT_VECTORING_ERROR_CODE', 'VM_EXIT_INSTRUCTION_LEN', 'VMX_INSTRUCTION_INFO',
]);

/** KVM helpers that read an exit-information field (arch/x86/kvm/vmx/vmx.h). */
const HELPERS: Readonly<Record<string, string>> = {
  vmx_get_exit_qual: 'EXIT_QUALIFICATION',
};

interface Read { start: number; end: number; field: string; via: string }

function pdptrFindings(doc: DocumentAnalysis, out: Finding[]): void {
  for (const r of doc.refs) {
    if (r.inComment || r.entity.kind !== 'vmcs' || r.accessor?.op !== 'read' || !isPdptrField(r.name)) continue;
    const fn = fnAt(doc, r.start);
    if (!fn) continue;
    const role = functionRoles(doc).get(fn.name);
    if (role?.kind === 'diagnostic-dump' || inPrintArguments(doc, r.start)) continue;
    const ctx = contextAt(doc, r.start, fn);
    if (mustHold(ctx, PDPTRS_DEFINED)) continue;
    const missing: string[] = [];
    if (!mustHold(ctx, EPT_FORMULA)) missing.push('EPT (enable_ept / nested_cpu_has_ept)');
    if (!mustHold(ctx, PAE_FORMULA)) missing.push('PAE paging (is_pae_paging)');
    const copy = copiedIntoVmcs12(doc, r);
    const field = (r.entity as VmcsField).name;
    const guards = relevantGuards(doc, r.start, (k) => k === 'enable_ept' || k === 'nested_ept' || k === 'pae_paging' || k === 'long_mode');
    const source = SEM.pdptrsDefinedAfterExit.source;
    const copyNote = copy ? ` Copying it into ${copy} hands L1 a junk value.` : '';
    out.push({
      rule: RULE_ID, severity: 'warning', start: r.start, end: r.end, source,
      message: `${field} is read on a path where the VM exit may have left it undefined: the CPU stores the PDPTEs into GUEST_PDPTR0-3 only when "enable EPT" is 1 and the guest was using PAE paging, and this path does not establish ${missing.join(' or ')}.${copyNote} Guard the read with is_pae_paging(vcpu) under EPT (nested: nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)). [${source}]`,
      related: guards.map((g) => ({
        start: g.condStart, end: g.condEnd,
        message: `enclosing guard \`${guardText(g)}\` establishes ${describe(g.formula)} but not ${missing.join(' or ')}`,
      })),
    });
  }
}

function describe(f: Formula): string {
  const keys = predicatesOf(f).filter((k) => ['enable_ept', 'nested_ept', 'pae_paging', 'long_mode'].includes(k));
  return keys.length ? keys.join(', ') : formulaToString(f, 80);
}

/** Reads of the exit-information fields: VMREAD accessors with a literal field, and KVM's reader helpers. */
function exitInfoReads(doc: DocumentAnalysis): Read[] {
  const out: Read[] = [];
  for (const r of doc.refs) {
    if (r.inComment || r.entity.kind !== 'vmcs' || r.accessor?.op !== 'read') continue;
    const name = normaliseVmcsFieldName(r.name) ?? r.name;
    if (EXIT_INFO_FIELDS.has(name)) out.push({ start: r.start, end: r.end, field: name, via: `${r.accessor.name}(${r.name})` });
  }
  const re = new RegExp(`\\b(${Object.keys(HELPERS).join('|')})\\s*\\(`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(doc.text)) !== null) {
    const node = doc.tree.rootNode.descendantForIndex(m.index, m.index + m[1].length);
    if (!node || node.type !== 'identifier' || node.parent?.type !== 'call_expression') continue;
    out.push({ start: m.index, end: m.index + m[1].length, field: HELPERS[m[1]], via: `${m[1]}()` });
  }
  return out;
}

function exitInfoFindings(doc: DocumentAnalysis, out: Finding[]): void {
  const reads = exitInfoReads(doc);
  if (!reads.length) return;
  const roles = functionRoles(doc);
  let table: Map<string, string[]> | undefined;
  for (const rd of reads) {
    const fn = fnAt(doc, rd.start);
    if (!fn || HELPERS[fn.name]) continue;
    // Forwarding the hardware value to L1 as-is (nested_vmx_vmexit(vcpu, reason, intr_info, vmx_get_exit_qual(vcpu)))
    // emulates the same exit: L1 gets a field that is undefined for that exit reason, exactly as on hardware.
    if (forwardedToL1(doc, rd.start)) continue;
    const role = roles.get(fn.name);
    const ctx = contextAt(doc, rd.start, fn);
    const pathReasons = predicatesOf(ctx).filter((k) => k.startsWith('exit_reason=')).map((k) => k.slice('exit_reason='.length));
    let candidates: string[];
    let from: 'role' | 'path';
    if (role?.kind === 'exit-handler' && role.exitReasons?.length) {
      candidates = role.exitReasons.filter((x) => mayBeTrue(ctx, `exit_reason=${x}`, true));
      from = 'role';
    } else if (pathReasons.length) {
      candidates = pathReasons.filter((x) => mayBeTrue(ctx, `exit_reason=${x}`, true));
      // The exit reason is known only if the path forces one of them.
      if (!candidates.length || !mustHold(ctx, or(...candidates.map((x) => pred(`exit_reason=${x}`))))) continue;
      from = 'path';
    } else continue;
    const bad: string[] = [];
    for (const c of candidates) {
      const code = vmxExitCode(c);
      if (code === undefined) continue; // SVM or unknown constant: never assume
      const a = exitInfoValidity(rd.field, code);
      if (a && a.defined === 'never') bad.push(c);
    }
    if (!bad.length) continue;
    const validity = exitInfoValidity(rd.field, vmxExitCode(bad[0]) ?? 0);
    const source = validity?.rule.source ?? SEM.exitInfoFieldDefined.source;
    const related: Finding['related'] = [];
    if (from === 'role') {
      table ??= exitHandlerTable(doc);
      for (const reason of bad) {
        const at = findTableEntry(doc, reason, role?.via === 'exit-handler-table' ? fn.name : undefined);
        if (at) related.push({ ...at, message: `${fn.name} runs for ${reason}` });
      }
      if (role?.via === 'callers') related.push({ start: fn.start, end: fn.start + 1, message: `${fn.name} is called only from exit handlers for ${role.exitReasons?.join(', ')}` });
    } else {
      for (const g of relevantGuards(doc, rd.start, (k) => k.startsWith('exit_reason='))) {
        related.push({ start: g.condStart, end: g.condEnd, message: `exit reason known from \`${guardText(g)}\`` });
      }
    }
    const where = from === 'role' ? `${fn.name}(), the exit handler for ${bad.join(', ')}` : `a path taken only for ${bad.join(', ')}`;
    out.push({
      rule: RULE_ID, severity: 'warning', start: rd.start, end: rd.end, source,
      message: `${rd.field} is read (${rd.via}) in ${where}, but the CPU leaves ${rd.field} undefined for that exit: ${validity?.rule.note ?? 'the field is defined only for other exit reasons'}. [${source}]`,
      related,
    });
  }
}

const FORWARDERS = new Set(['nested_vmx_vmexit', 'nested_vmx_reflect_vmexit', '__nested_vmx_vmexit']);

function forwardedToL1(doc: DocumentAnalysis, offset: number): boolean {
  let n = doc.tree.rootNode.descendantForIndex(offset, offset + 1);
  for (let i = 0; n && i < 8; i++, n = n.parent) {
    if (n.type === 'call_expression') {
      const f = n.childForFieldName('function');
      if (f && FORWARDERS.has(f.text)) return true;
    }
    if (n.type.endsWith('_statement') || n.type === 'compound_statement') return false;
  }
  return false;
}

function findTableEntry(doc: DocumentAnalysis, reason: string, handler?: string): { start: number; end: number } | undefined {
  const re = new RegExp(`\\[\\s*${reason}\\s*\\]\\s*=\\s*&?\\s*${handler ?? '[A-Za-z_][A-Za-z0-9_]*'}\\b`);
  const m = re.exec(doc.text);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}

export const vmcsUndefinedRead: Rule = {
  id: RULE_ID,
  defaultSeverity: 'warning',
  description: 'VMCS field read on a path where the VM exit leaves it undefined (GUEST_PDPTRn without EPT ∧ PAE paging; exit-information fields for an exit reason that does not define them)',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    pdptrFindings(doc, out);
    exitInfoFindings(doc, out);
    return out;
  },
};
