// The nested audit: the manual's VM-entry / VMRUN consistency checks (model/entryChecks) matched against KVM's
// check sites (analysis/nestedChecks), plus vmcs12/vmcb12 field coverage (fieldCoverage). Pure: sources come in as
// texts through a reader, the report goes out as plain data.
import { extractCheckSites, type CheckSite, type Root, type SourceFile } from '../analysis/nestedChecks';
import {
  SVM_VMRUN_CHECKS, VMX_ENTRY_CHECKS, failurePhase, failureText, inManualList, sameFailure, type EntryCheck, type EntryFailure,
} from '../model/index';
import { svmCoverage, vmxCoverage, type VmcbCoverage, type VmcsCoverage } from './fieldCoverage';

export type CheckStatus = 'implemented' | 'different' | 'missing' | 'not-applicable';

export interface SiteRef { path: string; line: number; fn: string; text: string; failure?: string; cc: boolean; root?: string }

export interface CheckResult {
  id: string;
  vendor: 'vmx' | 'svm';
  order: number;
  section: string;
  text: string;
  expected: string;
  status: CheckStatus;
  sites: SiteRef[];
  /** Fields of the rule no matching site reads. */
  uncovered: string[];
  differences: string[];
  /** Why a missing check may still be enforced (hardware on vmcs02, feature not exposed, field not in layout). */
  notes: string[];
  inManualList: boolean;
  recent?: string;
}

export interface VendorAudit {
  vendor: 'vmx' | 'svm';
  files: string[];
  roots: Array<{ fn: string; caller: string; line: number; failure: string }>;
  checks: CheckResult[];
  /** KVM sites no model entry matches (KVM-only checks or gaps in the model). */
  unmatched: SiteRef[];
  counts: Record<CheckStatus, number> & { total: number; manual: number; sites: number };
}

export interface AuditReport {
  tree: string;
  vmx?: VendorAudit;
  svm?: VendorAudit;
  vmcs12?: VmcsCoverage[];
  vmcb12?: VmcbCoverage[];
  errors: string[];
}

/** Reads a file relative to arch/x86/kvm; undefined when absent. */
export type TreeReader = (relPath: string) => string | undefined;

const NARROWING = /\b(nested_run_pending|warn_on_missed_cc|kvm_check_has_quirk|wants_to_run)\b/;

function keyHit(key: string, text: string): boolean {
  if (key.startsWith('/')) {
    const end = key.lastIndexOf('/');
    try { return new RegExp(key.slice(1, end), key.slice(end + 1)).test(text); } catch { return false; }
  }
  return new RegExp(`(^|[^A-Za-z0-9_])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_])`).test(text);
}

/** Does a KVM site implement (part of) a check? Fields read, every key group, no excluded spelling. */
export function siteMatches(check: EntryCheck, site: Pick<CheckSite, 'fields' | 'contextFields' | 'tokens' | 'text' | 'condExpanded'>): boolean {
  if (!check.match.fields.some((f) => site.fields.includes(f) || site.contextFields.includes(f))) return false;
  for (const group of check.match.all ?? []) if (!group.some((k) => keyHit(k, site.tokens))) return false;
  for (const group of check.match.inCondition ?? []) if (!group.some((k) => keyHit(k, site.condExpanded))) return false;
  for (const k of check.match.none ?? []) if (site.fields.includes(k) || keyHit(k, site.text)) return false;
  return true;
}

function ref(s: CheckSite): SiteRef {
  return { path: s.path, line: s.line, fn: s.fn, text: s.text.replace(/\s+/g, ' '), failure: s.failure ? failureText(s.failure) : undefined, cc: s.cc, root: s.root };
}

export interface MatchContext {
  /** vmcs12 members of the tree (undefined: unknown). */
  layout?: Set<string>;
  /** Identifiers KVM uses to build L1's VMX capability MSRs (undefined: unknown). */
  exposed?: Set<string>;
  /** Fields copied verbatim from vmcs12 into vmcs02 (member → where). */
  verbatim?: Map<string, string>;
}

/** Match every check of a vendor against the sites. */
export function matchChecks(checks: readonly EntryCheck[], sites: CheckSite[], ctx: MatchContext = {}): { results: CheckResult[]; unmatched: SiteRef[] } {
  const used = new Set<CheckSite>();
  const results: CheckResult[] = [];
  for (const check of checks) {
    const hits = sites.filter((s) => siteMatches(check, s));
    hits.forEach((h) => used.add(h));
    const covered = new Set(hits.flatMap((h) => h.allFields));
    const uncovered = check.match.cover === 'any' && check.match.fields.some((f) => covered.has(f)) ? [] : check.match.fields.filter((f) => !covered.has(f));
    const differences: string[] = [];
    const notes: string[] = [];
    const wrong = hits.filter((h) => h.failure && !sameFailure(h.failure, check.failure));
    if (hits.length && wrong.length === hits.length) {
      const k = wrong[0].failure as EntryFailure;
      differences.push(`failure kind: KVM reports ${failureText(k)} (${wrong[0].fn}:${wrong[0].line}), the manual ${failureText(check.failure)}`);
      if (failurePhase(k) !== failurePhase(check.failure)) differences.push(`order: checked in KVM's ${phaseName(failurePhase(k))} phase, the manual's is the ${phaseName(failurePhase(check.failure))} phase`);
    }
    const q = check.failure.kind === 'vmexit' ? check.failure.qualification : undefined;
    if (hits.length && q !== undefined && q > 0 && hits.every((h) => h.failure?.kind === 'vmexit' && (h.failure.qualification ?? 0) !== q)) {
      differences.push(`exit qualification: KVM ${hits[0].failure?.kind === 'vmexit' ? hits[0].failure.qualification ?? 0 : '-'}, the manual ${q}`);
    }
    const narrowing = hits.map((h) => h.guards.join(' ').match(NARROWING)?.[1]).filter((x): x is string => !!x);
    if (hits.length && narrowing.length === hits.length) differences.push(`narrower condition: only checked when ${narrowing[0]}`);
    const layoutUncovered = ctx.layout ? uncovered.filter((f) => ctx.layout!.has(f)) : uncovered;
    if (hits.length && layoutUncovered.length) differences.push(`narrower: ${layoutUncovered.join(', ')} not checked`);
    let status: CheckStatus = !hits.length ? 'missing' : differences.length ? 'different' : 'implemented';
    if (status === 'missing') {
      if (check.feature && ctx.exposed && !ctx.exposed.has(check.feature)) {
        status = 'not-applicable';
        notes.push(check.vendor === 'vmx'
          ? `${check.feature} is never offered to L1 (not in nested_vmx_setup_*), so the reserved-bit check of its control rejects it`
          : `${check.feature} does not occur in this tree's nested SVM code: the feature is not supported for L1`);
      } else if (check.vendor === 'vmx' && ctx.layout && check.match.fields.every((f) => !ctx.layout!.has(f))) {
        status = 'not-applicable';
        notes.push(`no field of the rule is in this tree's struct vmcs12 (${check.match.fields.join(', ')})`);
      } else if (ctx.verbatim && check.failure.kind === 'vmexit' && check.match.fields.every((f) => ctx.verbatim!.has(f))) {
        notes.push(`vmcs02 gets ${check.match.fields.map((f) => `${f} (${ctx.verbatim!.get(f)})`).join(', ')} verbatim: the hardware check on the vmcs02 VM entry catches it (exit 33 reflected to L1)`);
      }
    }
    results.push({
      id: check.id, vendor: check.vendor, order: check.order, section: check.section, text: check.text, expected: failureText(check.failure),
      status, sites: hits.map(ref), uncovered, differences, notes, inManualList: inManualList(check), recent: check.recent,
    });
  }
  const unmatched = sites.filter((s) => !used.has(s) && s.fields.length).map(ref);
  return { results, unmatched: dedupe(unmatched) };
}

function dedupe(refs: SiteRef[]): SiteRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => { const k = `${r.path}:${r.line}:${r.text}`; if (seen.has(k)) return false; seen.add(k); return true; });
}

function phaseName(p: number): string {
  return p === 1 ? 'VMfail (controls/host state)' : p === 2 ? 'guest-state (exit 33)' : 'MSR-loading (exit 34)';
}

function counts(results: CheckResult[], sites: number): VendorAudit['counts'] {
  const c = { implemented: 0, different: 0, missing: 0, 'not-applicable': 0, total: results.length, manual: 0, sites };
  for (const r of results) { c[r.status]++; if (r.inManualList) c.manual++; }
  return c;
}

function rootsOut(roots: Root[]): VendorAudit['roots'] {
  const seen = new Set<string>();
  return roots.filter((r) => { const k = `${r.fn}@${r.caller}`; if (seen.has(k)) return false; seen.add(k); return true; })
    .map((r) => ({ fn: r.fn, caller: r.caller, line: r.line, failure: failureText(r.failure) }));
}

function file(read: TreeReader, rel: string): SourceFile | undefined {
  const text = read(rel);
  return text === undefined ? undefined : { path: rel, text };
}

/** Identifiers of the functions that build L1's VMX capability MSRs. */
export function exposedControls(nestedText: string): Set<string> {
  const out = new Set<string>();
  for (const m of nestedText.matchAll(/\n(?:static\s+)?(?:void|int)\s+(nested_vmx_setup_\w+)\s*\(([\s\S]*?)\n\}/g)) {
    for (const id of m[2].matchAll(/\b[A-Z][A-Z0-9_]{3,}\b/g)) out.add(id[0]);
  }
  return out;
}

export function auditVmx(read: TreeReader): { audit?: VendorAudit; coverage?: VmcsCoverage[]; error?: string } {
  const nested = file(read, 'vmx/nested.c');
  if (!nested) return { error: 'vmx/nested.c not found' };
  const helpers = ['vmx/nested.h', 'vmx/vmx.h', 'vmx/capabilities.h', 'vmx/vmcs12.h']
    .map((p) => file(read, p)).filter((f): f is SourceFile => !!f);
  const vmcs12h = file(read, 'vmx/vmcs12.h');
  const others = ['vmx/vmx.c', 'vmx/pmu_intel.c', 'vmx.c'].map((p) => file(read, p)).filter((f): f is SourceFile => !!f);
  const coverage = vmxCoverage({ nested, others, vmcs12h, shadowH: file(read, 'vmx/vmcs_shadow_fields.h'), exposed: exposedControls(nested.text) });
  const { sites, roots } = extractCheckSites({ vendor: 'vmx', main: [nested], helpers });
  const layout = new Set(coverage.filter((c) => c.inLayout).map((c) => c.member));
  const verbatim = new Map(coverage.filter((c) => c.verbatim).map((c) => [c.member, `${(c.vmcs02Rare[0] ?? c.vmcs02Eager[0])?.fn ?? '?'}:${(c.vmcs02Rare[0] ?? c.vmcs02Eager[0])?.line ?? '?'}`] as const));
  const { results, unmatched } = matchChecks(VMX_ENTRY_CHECKS, sites, { layout: vmcs12h ? layout : undefined, exposed: exposedControls(nested.text), verbatim });
  return {
    audit: { vendor: 'vmx', files: [nested.path, ...helpers.map((h) => h.path)], roots: rootsOut(roots), checks: results, unmatched, counts: counts(results, sites.length) },
    coverage,
  };
}

export function auditSvm(read: TreeReader): { audit?: VendorAudit; coverage?: VmcbCoverage[]; error?: string } {
  const main = file(read, 'svm/nested.c') ?? file(read, 'svm.c');
  if (!main) return { error: 'svm/nested.c (or svm.c) not found' };
  const helpers = ['svm/svm.h'].map((p) => file(read, p)).filter((f): f is SourceFile => !!f);
  const { sites, roots } = extractCheckSites({ vendor: 'svm', main: [main], helpers });
  const svmH = file(read, '../include/asm/svm.h');
  const coverage = svmCoverage({ files: [main], svmH });
  const layout = svmH ? new Set(coverage.flatMap((c) => c.layoutNames)) : undefined;
  // SVM has no capability MSRs: a feature is supported for L1 when the nested SVM code names it.
  const exposed = new Set([main, ...helpers].flatMap((f) => f.text.match(/\b[A-Z][A-Z0-9_]{3,}\b/g) ?? []));
  const { results, unmatched } = matchChecks(SVM_VMRUN_CHECKS, sites, { layout, exposed });
  return {
    audit: { vendor: 'svm', files: [main.path, ...helpers.map((h) => h.path)], roots: rootsOut(roots), checks: results, unmatched, counts: counts(results, sites.length) },
    coverage,
  };
}

export function runNestedAudit(tree: string, read: TreeReader, vendors: Array<'vmx' | 'svm'> = ['vmx', 'svm']): AuditReport {
  const report: AuditReport = { tree, errors: [] };
  if (vendors.includes('vmx')) {
    const v = auditVmx(read);
    if (v.error) report.errors.push(v.error);
    report.vmx = v.audit;
    report.vmcs12 = v.coverage;
  }
  if (vendors.includes('svm')) {
    const s = auditSvm(read);
    if (s.error) report.errors.push(s.error);
    report.svm = s.audit;
    report.vmcb12 = s.coverage;
  }
  return report;
}
