// always-provided: state the processor consumes on every VM entry / VMRUN of L2 must be provided for L2 on every
// entry, from the right owner:
//   - VMX: a guest-state field written in the rarely-run part of nested VM entry (prepare_vmcs02_rare/_full, run only
//     when vmcs12 changed) under per-entry state (nested_run_pending) must also be written by the per-entry part
//     (prepare_vmcs02) — otherwise L2 runs with a value left from an earlier entry;
//   - SVM: control fields that hold enables for several features (nested_ctl/misc_ctl: NP, SEV, SEV-ES; virt_ext)
//     are copied from vmcb01 into vmcb02 only through a mask of the bits that apply to L2;
//   - SVM: vmcb02.int_ctl must not take every bit of L1's vmcb12 int_ctl but a short list (an inverted mask): L0-only
//     enables (AVIC, x2AVIC, vNMI, vGIF) would reach L2 (CVE-2021-3653).
// Facts: model/stateSwitch.ts.
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { conditionAt } from '../../analysis/conditions';
import { pathTests } from './vmxPaths';
import { APM_VMCB02_CONTROLS, L0_ONLY_INT_CTL, SDM_ENTRY_EVERY_TIME, SHARED_ENABLE_FIELDS } from '../../model/stateSwitch';
import type { Finding, Rule } from '../findings';
import { codeOnly } from './nestedWriteback';
import { docHas, isEmptyList, perFunctionFindings, perFunctionValues } from '../../analysis/docMemo';

const RULE = 'always-provided';
const RARE = /^prepare_vmcs02_(rare|full)$/;
const PER_ENTRY = /^prepare_vmcs02(_early)?$/;

function vmxRarePath(doc: DocumentAnalysis, out: Finding[]): void {
  // Candidates: GUEST_* writes of the rare-path functions on a path that tests nested_run_pending. They depend on the
  // function's text and tree only, so they are kept per function while it is unchanged.
  const rare = perFunctionValues(doc, `${RULE}:rare`, (fn) => {
    const found: Array<{ field: string; start: number; end: number }> = [];
    if (!RARE.test(fn.name)) return found;
    const body = codeOnly(doc.text.slice(fn.bodyStart, fn.bodyEnd));
    const seen = new Set<string>();
    for (const m of body.matchAll(/vmcs_write(?:16|32|64|l)\s*\(\s*(GUEST_[A-Z0-9_]+)\s*,/g)) {
      const field = m[1];
      if (seen.has(field)) continue;
      const start = fn.bodyStart + (m.index ?? 0);
      // Written under per-entry state: the path tests nested_run_pending (either way).
      if (!pathTests(conditionAt(doc, start), ['nested_run_pending'])) continue;
      seen.add(field);
      found.push({ field, start, end: start + m[0].length });
    }
    return found;
  }, isEmptyList, (v, d) => v.map((c) => ({ ...c, start: c.start + d, end: c.end + d })));
  if (!rare.length) return;
  const perEntry = doc.functions.filter((f) => PER_ENTRY.test(f.name)).map((f) => doc.text.slice(f.bodyStart, f.bodyEnd)).join('\n');
  if (!perEntry) return;
  for (const { fn, value } of rare) {
    for (const { field, start, end } of value) {
      if (new RegExp(`vmcs_write(?:16|32|64|l)\\s*\\(\\s*${field}\\b`).test(perEntry)) continue;
      out.push({
        rule: RULE, severity: 'warning', start, end, source: SDM_ENTRY_EVERY_TIME,
        message: `${field} depends on per-entry state but ${fn.name}() runs only when vmcs12 changed; prepare_vmcs02() never writes it`,
      });
    }
  }
}

function svmSharedEnables(fn: FunctionInfo, body: string, out: Finding[]): void {
  for (const m of body.matchAll(/vmcb02\s*->\s*control\s*\.\s*([a-z_0-9]+)\s*=\s*([^;]*);/g)) {
    const field = m[1];
    if (!SHARED_ENABLE_FIELDS.includes(field)) continue;
    const rhs = m[2].replace(/\s+/g, '');
    if (!new RegExp(`^(svm->)?vmcb01(\\.ptr)?->control\\.${field}$`).test(rhs)) continue;
    const start = fn.bodyStart + (m.index ?? 0);
    out.push({
      rule: RULE, severity: 'warning', start, end: start + m[0].length - 1, source: APM_VMCB02_CONTROLS,
      message: `vmcb02.${field} copies all of vmcb01's enables; only the bits that apply to L2 (e.g. NP) may be inherited`,
    });
  }
}

function svmIntCtlFromL1(fn: FunctionInfo, body: string, out: Finding[]): void {
  const m = /int_ctl\s*=[^;]*?(?:nested\s*\.\s*ctl|vmcb12\s*->\s*control)\s*\.\s*int_ctl\s*&\s*~/.exec(body);
  if (!m) return;
  const start = fn.bodyStart + m.index;
  out.push({
    rule: RULE, severity: 'warning', start, end: start + m[0].length, source: APM_VMCB02_CONTROLS,
    message: `vmcb02.int_ctl takes every bit of L1's int_ctl outside a short mask: L0-only enables (${L0_ONLY_INT_CTL}) reach L2`,
  });
}

export const alwaysProvided: Rule = {
  id: RULE,
  defaultSeverity: 'warning',
  description: 'state L2 needs on every entry written only on rare paths, or inherited wholesale from vmcb01 / L1',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    if (docHas(doc, 'prepare_vmcs02')) vmxRarePath(doc, out);
    if (docHas(doc, 'vmcb02') || docHas(doc, 'nested.ctl')) {
      // Depends on the function's text only.
      out.push(...perFunctionFindings(doc, `${RULE}:svm`, (fn) => {
        const found: Finding[] = [];
        const raw = doc.text.slice(fn.bodyStart, fn.bodyEnd);
        const shared = raw.includes('vmcb01');
        const intCtl = raw.includes('int_ctl');
        if (!raw.includes('control') || (!shared && !intCtl)) return found;
        const body = codeOnly(raw);
        if (shared) svmSharedEnables(fn, body, found);
        if (intCtl) svmIntCtlFromL1(fn, body, found);
        return found;
      }));
    }
    return out;
  },
};
