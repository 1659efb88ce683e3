// vmcs-undefined-read: reading a VMCS field on a path where the hardware leaves it undefined.
//  (a) GUEST_PDPTR0-3: a VM exit stores the PDPTE registers only when "enable EPT" = 1 and the guest was using
//      PAE paging (SDM Vol.3C §28.3.1 / §28.3.4; KVM commit "KVM: nVMX: Copy PDPTRs to/from vmcs12 only when
//      necessary" — seed 001). Flagged when the path does not establish EPT ∧ PAE paging.
//  (b) Exit-information fields read in an exit handler (role from the file's exit-handler table, or a path
//      guarded by an exit-reason test / `case EXIT_REASON_*:`) whose exit reason leaves them undefined
//      (SDM Vol.3C §28.2.1-§28.2.5). Only flagged when the exit reason is known and the model says undefined.
import { nodesAt, type DocumentAnalysis, type FunctionInfo } from '../../analysis/document';
import type { FieldRef } from '../../analysis/refs';
import { cachedFunctionValue, cachedPerFunction, shiftFinding } from '../../analysis/incremental';
import { scanSegments } from '../../analysis/docMemo';
import { mayBeTrue, mustHold, or, pred, predicatesOf, formulaToString, type Formula } from '../../analysis/conditions';
import { assumptionsOf, functionRoles, roleKindPossible, type Role } from '../../analysis/roles';
import type { VmcsField } from '../../model/index';
import { RULES as SEM, exitInfoValidity, isPdptrField, normaliseVmcsFieldName } from '../../model/semantics';
import type { Finding, Rule } from '../findings';
import { callSites, isWordChar } from './textScan';
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
  const byFn = new Map<FunctionInfo, FieldRef[]>();
  for (const r of doc.refs) {
    if (r.inComment || r.entity.kind !== 'vmcs' || r.accessor?.op !== 'read' || !isPdptrField(r.name)) continue;
    const fn = fnAt(doc, r.start);
    if (!fn) continue;
    const list = byFn.get(fn);
    if (list) list.push(r);
    else byFn.set(fn, [r]);
  }
  const dumps = byFn.size > 0 && roleKindPossible(doc, 'diagnostic-dump');
  for (const [fn, refs] of byFn) {
    if (dumps && functionRoles(doc).get(fn.name)?.kind === 'diagnostic-dump') continue;
    // Everything below depends on the function's text only: reuse the findings while it is unchanged.
    out.push(...cachedPerFunction(doc, `${RULE_ID}:pdptr`, fn, () => pdptrFindingsIn(doc, fn, refs)));
  }
}

function pdptrFindingsIn(doc: DocumentAnalysis, fn: FunctionInfo, refs: readonly FieldRef[]): Finding[] {
  const out: Finding[] = [];
  const flagged: Array<{ r: FieldRef; missingEpt: boolean; missingPae: boolean; copy: boolean }> = [];
  const mayPrint = mayCallPrinter(doc, fn);
  for (const r of refs) {
    if (mayPrint && inPrintArguments(doc, r.start)) continue;
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
    flagged.push({ r, missingEpt: !mustHold(ctx, EPT_FORMULA), missingPae: !mustHold(ctx, PAE_FORMULA), copy: !!copy });
    out.push({
      rule: RULE_ID, severity: 'warning', start: r.start, end: r.end, source,
      message: `${field} is read on a path not guarded by ${missing.map((m) => m.replace(/ \(.*\)$/, '')).join(' or ')}, where the VM exit may have left it undefined: the CPU stores the PDPTEs into GUEST_PDPTR0-3 only when "enable EPT" is 1 and the guest was using PAE paging, and this path does not establish ${missing.join(' or ')}.${copyNote} Guard the read with is_pae_paging(vcpu) under EPT (nested: nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)). [${source}]`,
      related: guards.map((g) => ({
        start: g.condStart, end: g.condEnd,
        message: `enclosing guard \`${guardText(g)}\` establishes ${describe(g.formula)} but not ${missing.join(' or ')}`,
      })),
    });
  }
  addGuardFixes(doc, fn, flagged, out);
  return out;
}

/**
 * Quick fix: wrap the statement holding the read — with the adjacent statements holding other flagged PDPTR reads —
 * in the guard the model needs for the PDPTRs to be defined (SEM.pdptrsDefinedAfterExit: EPT ∧ PAE paging), only the
 * missing conjuncts: `nested_cpu_has_ept(vmcs12)` when the value goes to vmcs12 (L1's EPT), else `enable_ept`, and
 * `is_pae_paging(vcpu)`. Offered when the function has the `vcpu` (and `vmcs12`) those calls need.
 */
function addGuardFixes(doc: DocumentAnalysis, fn: FunctionInfo, flagged: ReadonlyArray<{ r: FieldRef; missingEpt: boolean; missingPae: boolean; copy: boolean }>, out: Finding[]): void {
  if (flagged.length === 0) return;
  const fnText = doc.text.slice(fn.start, fn.end);
  const has = (id: string): boolean => new RegExp(`\\b${id}\\b`).test(fnText);
  const stmtOf = (offset: number): { start: number; end: number } | undefined => {
    // innermost statement holding the read, found walking down (Node.parent is quadratic in the depth)
    const chain = nodesAt(doc.tree.rootNode, offset);
    for (let i = chain.length - 1; i > 0; i--) {
      const n = chain[i];
      if (n.type !== 'expression_statement' && n.type !== 'declaration' && n.type !== 'return_statement') continue;
      return chain[i - 1].type === 'compound_statement' ? { start: n.startIndex, end: n.endIndex } : undefined;
    }
    return undefined;
  };
  const stmts = flagged.map((x) => stmtOf(x.r.start));
  const starts = doc.lines.starts;
  const lineOf = (o: number): number => doc.lines.positionAt(o).line;
  for (let i = 0; i < flagged.length; i++) {
    const s = stmts[i];
    const x = flagged[i];
    if (!s) continue;
    const parts: string[] = [];
    if (x.missingEpt) parts.push(x.copy && has('vmcs12') ? 'nested_cpu_has_ept(vmcs12)' : 'enable_ept');
    if (x.missingPae) { if (!has('vcpu')) continue; parts.push('is_pae_paging(vcpu)'); }
    if (parts.length === 0) continue;
    // grow over neighbouring statements (one per line) that hold other flagged reads needing the same guard
    let first = i;
    let last = i;
    const same = (j: number): boolean => !!stmts[j] && flagged[j].missingEpt === x.missingEpt && flagged[j].missingPae === x.missingPae && flagged[j].copy === x.copy;
    while (first > 0 && same(first - 1) && lineOf(stmts[first - 1]!.end) + 1 === lineOf(stmts[first]!.start)) first--;
    while (last < flagged.length - 1 && same(last + 1) && lineOf(stmts[last]!.end) + 1 === lineOf(stmts[last + 1]!.start)) last++;
    const from = starts[lineOf(stmts[first]!.start)];
    const to = stmts[last]!.end;
    const indent = /^[ \t]*/.exec(doc.text.slice(from, to))?.[0] ?? '';
    const body = doc.text.slice(from, to).split('\n').map((l) => (l.trim() ? `\t${l}` : l)).join('\n');
    const f = out.find((o) => o.start === x.r.start);
    if (f) f.fix = { title: `Guard with ${parts.join(' && ')}`, edits: [{ start: from, end: to, newText: `${indent}if (${parts.join(' && ')}) {\n${body}\n${indent}}` }] };
  }
}

/**
 * Can a read in `fn` be an argument of a printing call (inPrintArguments)? Not when the tree has no errors (the call
 * then lies inside the function) and the function's text holds no printer name.
 */
function mayCallPrinter(doc: DocumentAnalysis, fn: FunctionInfo): boolean {
  if (doc.tree.rootNode.hasError) return true;
  const text = doc.text.slice(fn.start, fn.end);
  return PRINTER_PARTS.some((p) => text.includes(p));
}
/** A substring of every name vmxPaths' PRINTERS matches. */
const PRINTER_PARTS = ['pr_', 'printk', 'seq_printf', 'trace_', 'vcpu_unimpl', 'WARN'];

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
  const helpers = Object.keys(HELPERS);
  // Scanned per function (and gap between functions), reused while its text is unchanged (and with it its tree).
  const root = doc.tree.rootNode;
  const sites = scanSegments(doc, `${RULE_ID}:helper-calls`, (text, from, to) =>
    callSites(text.slice(from, to), helpers).map((m) => ({ index: m.index + from, name: m.name })).filter(({ index, name }) => {
      const node = root.descendantForIndex(index, index + name.length);
      return !!node && node.type === 'identifier' && node.parent?.type === 'call_expression';
    }));
  for (const { index, name } of sites) out.push({ start: index, end: index + name.length, field: HELPERS[name], via: `${name}()` });
  return out;
}

function exitInfoFindings(doc: DocumentAnalysis, out: Finding[]): void {
  const reads = exitInfoReads(doc);
  if (!reads.length) return;
  // Only exit-handler roles matter here: without any possible, no function has one.
  const roles = roleKindPossible(doc, 'exit-handler') ? functionRoles(doc) : undefined;
  const byFn = new Map<FunctionInfo, Read[]>();
  for (const rd of reads) {
    const fn = fnAt(doc, rd.start);
    if (!fn || HELPERS[fn.name]) continue;
    const list = byFn.get(fn);
    if (list) list.push(rd);
    else byFn.set(fn, [rd]);
  }
  const found: Finding[] = [];
  for (const [fn, rds] of byFn) {
    const r = roles?.get(fn.name);
    const role = r?.kind === 'exit-handler' && r.exitReasons?.length ? r : undefined;
    // Without a role the exit reason can only come from the path, i.e. from an exit-reason constant in the
    // function's conditions (or the locals they use) or from what the function may assume: none, no findings.
    if (!role && !mentionsExitReason(doc, fn)) continue;
    // The findings depend on the function's text and its exit-handler role (reasons, how it was found); only the
    // exit-table entries they point at lie outside the function, so those are looked up afresh.
    const key = `${RULE_ID}:exit-info:${role ? `${role.via ?? ''}:${role.exitReasons?.join(',')}` : ''}`;
    const partial = cachedFunctionValue(doc, key, fn, () => exitInfoFindingsIn(doc, fn, rds, role),
      (v, d) => (d === 0 ? v : v.map((x) => ({ finding: shiftFinding(x.finding, d), tableReasons: x.tableReasons }))));
    for (const { finding, tableReasons } of partial) {
      if (!tableReasons.length) { found.push(finding); continue; }
      const table: NonNullable<Finding['related']> = [];
      for (const reason of tableReasons) {
        const at = findTableEntry(doc, reason, role?.via === 'exit-handler-table' ? fn.name : undefined);
        if (at) table.push({ ...at, message: `${fn.name} runs for ${reason}` });
      }
      found.push({ ...finding, related: [...table, ...(finding.related ?? [])] });
    }
  }
  // In the order of the reads, as one pass over them reports them.
  const order = new Map(reads.map((rd, i) => [rd.start, i]));
  found.sort((a, b) => (order.get(a.start) ?? 0) - (order.get(b.start) ?? 0));
  out.push(...found);
}

/** Does the function's text name an exit-reason constant, or may the function assume an exit reason? */
function mentionsExitReason(doc: DocumentAnalysis, fn: FunctionInfo): boolean {
  const text = doc.text.slice(fn.start, fn.end);
  return text.includes('EXIT_REASON_') || text.includes('SVM_EXIT_') || assumptionsOf(fn.name).some(([k]) => k.startsWith('exit_reason='));
}

/**
 * Findings for the reads of one function; `role` only when it is an exit handler with known exit reasons. Related
 * exit-table entries (outside the function) are left to the caller: `tableReasons` says which to add, first.
 */
function exitInfoFindingsIn(doc: DocumentAnalysis, fn: FunctionInfo, reads: readonly Read[], role: Role | undefined): Array<{ finding: Finding; tableReasons: string[] }> {
  const out: Array<{ finding: Finding; tableReasons: string[] }> = [];
  // The exit reasons a finding can name: the role's, or those of the path, which come from exit-reason constants in
  // the function's text or from what it may assume. A read undefined for none of them cannot be flagged.
  const possible = role?.kind === 'exit-handler' && role.exitReasons?.length ? role.exitReasons : reasonsNamedIn(doc, fn);
  for (const rd of reads) {
    if (!possible.some((c) => undefinedFor(rd.field, c))) continue;
    // Forwarding the hardware value to L1 as-is (nested_vmx_vmexit(vcpu, reason, intr_info, vmx_get_exit_qual(vcpu)))
    // emulates the same exit: L1 gets a field that is undefined for that exit reason, exactly as on hardware.
    if (forwardedToL1(doc, rd.start)) continue;
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
      if (role?.via === 'callers') related.push({ start: fn.start, end: fn.start + 1, message: `${fn.name} is called only from exit handlers for ${role.exitReasons?.join(', ')}` });
    } else {
      for (const g of relevantGuards(doc, rd.start, (k) => k.startsWith('exit_reason='))) {
        related.push({ start: g.condStart, end: g.condEnd, message: `exit reason known from \`${guardText(g)}\`` });
      }
    }
    const where = from === 'role' ? `${fn.name}(), the exit handler for ${bad.join(', ')}` : `a path taken only for ${bad.join(', ')}`;
    out.push({
      finding: {
        rule: RULE_ID, severity: 'warning', start: rd.start, end: rd.end, source,
        message: `${rd.field} is read (${rd.via}) in ${where}, but the CPU leaves ${rd.field} undefined for that exit: ${validity?.rule.note ?? 'the field is defined only for other exit reasons'}. [${source}]`,
        related,
      },
      tableReasons: from === 'role' ? bad : [],
    });
  }
  return out;
}

/** Is `field` undefined after a VM exit for the exit-reason constant `reason` (per the model)? */
function undefinedFor(field: string, reason: string): boolean {
  const code = vmxExitCode(reason);
  return code !== undefined && exitInfoValidity(field, code)?.defined === 'never';
}

/** Exit-reason constants (`EXIT_REASON_*`, `SVM_EXIT_*` identifiers) in the function's text, and those it may assume. */
function reasonsNamedIn(doc: DocumentAnalysis, fn: FunctionInfo): string[] {
  const out = new Set<string>();
  const text = doc.text.slice(fn.start, fn.end);
  for (const prefix of ['EXIT_REASON_', 'SVM_EXIT_']) {
    for (let i = text.indexOf(prefix); i >= 0; i = text.indexOf(prefix, i + 1)) {
      if (i > 0 && isWordChar(text.charCodeAt(i - 1))) continue;
      let j = i + prefix.length;
      while (j < text.length && isWordChar(text.charCodeAt(j))) j++;
      out.add(text.slice(i, j));
    }
  }
  for (const [k] of assumptionsOf(fn.name)) if (k.startsWith('exit_reason=')) out.add(k.slice('exit_reason='.length));
  return [...out];
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
