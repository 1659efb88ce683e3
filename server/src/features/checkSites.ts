// Editor side of the nested audit on one open document: the check sites of the document, a hover on `CC(...)` that
// lists the model checks it implements, and a code lens per check function ("implements N of M checks").
// Editor-agnostic: (document text, model) → plain data.
import { extractCheckSites, type CheckSite, type SourceFile } from '../analysis/nestedChecks';
import type { DocumentAnalysis } from '../analysis/document';
import {
  SVM_VMRUN_CHECKS, VMX_ENTRY_CHECKS, failureText, sameFailure, type CheckGroup, type EntryCheck,
} from '../model/index';
import { siteMatches } from './nestedAudit';
import type { HoverResult } from './hover';

export interface DocumentChecks {
  vendor: 'vmx' | 'svm';
  sites: CheckSite[];
  /** Check ids matched per site (same order as sites). */
  matches: EntryCheck[][];
}

/** Which vendor's checks a document holds (by its text), or undefined when it has none. */
export function vendorOf(text: string): 'vmx' | 'svm' | undefined {
  const vmx = /\bvmcs12\b/.test(text);
  const svm = /\bvmcb12\b|\bnested_vmcb\b|vmcb_ctrl_area_cached|vmcb_save_area_cached/.test(text);
  if (vmx && !svm) return 'vmx';
  if (svm && !vmx) return 'svm';
  if (vmx && svm) return (text.match(/\bvmcs12\b/g)?.length ?? 0) >= (text.match(/\bvmcb12\b/g)?.length ?? 0) ? 'vmx' : 'svm';
  return undefined;
}

/** Check sites of one document (the document alone: helpers from other files are not expanded). */
export function documentChecks(doc: Pick<DocumentAnalysis, 'text' | 'uri'> & Partial<Pick<DocumentAnalysis, 'tree'>>, helpers: SourceFile[] = []): DocumentChecks | undefined {
  if (!/\bCC\s*\(|KVM_NESTED_VMENTER_CONSISTENCY_CHECK|return\s+-EINVAL/.test(doc.text)) return undefined;
  // Sites are only reachable from a root in the same document: where KVM reports VMfail / exit 33 / VMEXIT_INVALID.
  if (!/VMXERR_ENTRY_INVALID_(CONTROL|HOST_STATE)_FIELD|EXIT_REASON_INVALID_STATE|SVM_EXIT_ERR/.test(doc.text)) return undefined;
  const vendor = vendorOf(doc.text);
  if (!vendor) return undefined;
  const { sites } = extractCheckSites({ vendor, main: [{ path: doc.uri, text: doc.text, tree: doc.tree }], helpers });
  const checks = vendor === 'vmx' ? VMX_ENTRY_CHECKS : SVM_VMRUN_CHECKS;
  return { vendor, sites, matches: sites.map((s) => checks.filter((c) => siteMatches(c, s))) };
}

/** The `CC(` call under `offset`: the range of its argument list. */
function ccCallAt(text: string, offset: number): { nameStart: number; nameEnd: number; argStart: number; argEnd: number } | undefined {
  const re = /\b(CC|KVM_NESTED_VMENTER_CONSISTENCY_CHECK)\s*\(/g;
  const from = Math.max(0, offset - 40);
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) && m.index <= offset) {
    const nameEnd = m.index + m[1].length;
    if (offset < m.index || offset > nameEnd) continue;
    const open = m.index + m[0].length - 1;
    let depth = 0;
    for (let i = open; i < text.length && i < open + 4000; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) return { nameStart: m.index, nameEnd, argStart: open + 1, argEnd: i };
    }
    return undefined;
  }
  return undefined;
}

/** Hover on `CC`: the model checks the condition (or the check function it calls) implements. */
export function checkHoverAt(dc: DocumentChecks | undefined, text: string, offset: number): HoverResult | undefined {
  if (!dc) return undefined;
  const cc = ccCallAt(text, offset);
  if (!cc) return undefined;
  let idx = dc.sites.map((s, i) => i).filter((i) => dc.sites[i].start >= cc.argStart && dc.sites[i].end <= cc.argEnd);
  let via: string | undefined;
  if (!idx.length) {
    // `CC(!nested_vmx_check_eptp(vcpu, ...))`: the checks of the function it calls.
    const callee = /([A-Za-z_]\w*)\s*\(/.exec(text.slice(cc.argStart, cc.argEnd))?.[1];
    if (callee) {
      idx = dc.sites.map((s, i) => i).filter((i) => dc.sites[i].fn === callee);
      via = callee;
    }
  }
  const seen = new Map<string, { check: EntryCheck; sites: CheckSite[] }>();
  for (const i of idx) for (const c of dc.matches[i]) {
    const e = seen.get(c.id) ?? { check: c, sites: [] };
    e.sites.push(dc.sites[i]);
    seen.set(c.id, e);
  }
  const lines: string[] = [];
  if (!seen.size) {
    lines.push('**KVM consistency check** — no check of the model matches this condition (a KVM-only check, or one the model lacks).');
  } else {
    lines.push(`**KVM consistency check** — implements ${seen.size} manual check${seen.size > 1 ? 's' : ''}${via ? ` (through \`${via}()\`)` : ''}:`, '');
    for (const { check, sites } of seen.values()) {
      const kvm = [...new Set(sites.map((s) => (s.failure ? failureText(s.failure) : '?')))];
      const differs = sites.every((s) => s.failure && !sameFailure(s.failure, check.failure));
      lines.push(`- \`${check.id}\` — ${check.text}. Manual: ${failureText(check.failure)}; KVM here: ${kvm.join(', ')}${differs ? ' ⚠ different failure' : ''}. _${check.section}_`);
    }
  }
  return { markdown: lines.join('\n'), start: cc.nameStart, end: cc.nameEnd };
}

const GROUP_TITLE: Record<CheckGroup, string> = {
  'exec-controls': 'VM-execution control', 'exit-controls': 'VM-exit control', 'entry-controls': 'VM-entry control',
  'host-cr-msr': 'host CR/MSR', 'host-seg': 'host segment', 'address-space': 'address-space size', 'guest-cr-msr': 'guest CR/MSR',
  'guest-seg': 'guest segment', 'guest-dtr': 'guest descriptor-table', 'guest-rip-rflags': 'guest RIP/RFLAGS',
  'guest-non-reg': 'guest non-register state', 'guest-pdpte': 'guest PDPTE', 'msr-load': 'MSR loading',
  'svm-save': 'VMRUN save-area', 'svm-control': 'VMRUN control-area',
};

export interface CheckLens { start: number; functionName: string; title: string; implemented: string[] }

/** One lens per function holding check sites: how many of the manual's checks (of the groups it touches) it implements. */
export function checkLenses(doc: Pick<DocumentAnalysis, 'functions'>, dc: DocumentChecks | undefined): CheckLens[] {
  if (!dc) return [];
  const all = dc.vendor === 'vmx' ? VMX_ENTRY_CHECKS : SVM_VMRUN_CHECKS;
  const byFn = new Map<string, Set<string>>();
  dc.sites.forEach((s, i) => {
    const set = byFn.get(s.fn) ?? new Set<string>();
    for (const c of dc.matches[i]) set.add(c.id);
    byFn.set(s.fn, set);
  });
  const out: CheckLens[] = [];
  for (const fn of doc.functions) {
    const ids = byFn.get(fn.name);
    if (!ids) continue;
    const groups = new Set(all.filter((c) => ids.has(c.id)).map((c) => c.group));
    const of = all.filter((c) => groups.has(c.group)).length;
    const what = groups.size === 1 ? `${GROUP_TITLE[[...groups][0]]} checks` : groups.size ? 'checks of its groups' : 'checks';
    out.push({ start: fn.start, functionName: fn.name, implemented: [...ids], title: ids.size ? `implements ${ids.size} of ${of} ${what}` : 'implements 0 manual checks (KVM-only conditions)' });
  }
  return out;
}
