// msr-intercept: what may run in a guest without a VM exit follows the hardware and the guest's CPU model:
//   (a) mode: MSRs that exist only in 64-bit mode (FS/GS base, KERNEL_GS_BASE, LSTAR, CSTAR, SYSCALL_MASK) are passed
//       through only under #ifdef CONFIG_X86_64 — a 32-bit KVM neither switches nor tracks them;
//   (b) existence: an MSR that exists only with a CPUID feature is passed through only when the guest's CPUID has it
//       (a guest-CPUID query or state KVM keeps after a successful guest WRMSR on the path, or the MSR's own
//       `case` in a WRMSR handler) — and not from vCPU creation, before userspace has set guest CPUID;
//   (c) nested merge: the L2 bitmap passes an MSR through only if both L1 and L0 do (L0's bitmap is vmcs01's);
//   (d) queries: whether the current VMCS uses MSR bitmaps is its own "use MSR bitmaps" control, not the CPU's
//       capability (vmcs02 may run without bitmaps);
//   (e) nested intercepts: VMLOAD/VMSAVE stay intercepted for L2 (they take an L1-physical address from rAX).
// Facts: model/msrIntercepts.ts.
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { guardsAt } from '../../analysis/conditions';
import {
  APM_NESTED_INTERCEPTS, CPUID_GATED_MSRS, L0_MUST_INTERCEPT_FOR_L2, LONG_MODE_ONLY_MSRS, SDM_LONG_MODE_MSRS, SDM_MSR_BITMAP,
} from '../../model/msrIntercepts';
import type { Finding, Rule } from '../findings';
import { codeOnly } from './nestedWriteback';
import { callSites } from './textScan';
import { cachedPerFunction } from '../../analysis/incremental';
import { docHas, functionsWhere, scanSegments } from '../../analysis/docMemo';

const RULE = 'msr-intercept';
const CALLS = /\b(vmx_disable_intercept_for_msr|svm_disable_intercept_for_msr|vmx_set_intercept_for_msr|svm_set_intercept_for_msr|set_msr_interception)\s*\(/g;
const GUEST_CPUID = /\bguest_(cpuid_has|cpu_cap_has|can_use|has_\w+|pmu_has\w*|cpuid_is\w*)\s*\(/;
const CREATION_FN = /(^|_)(init_vmcb|init_vmcs|vcpu_create|create_vcpu|vcpu_precreate|vcpu_init)$|^sev_es_init_vmcb$|^init_vmcb_after_set_cpuid$/;

/** Top-level comma-separated arguments of the call whose `(` is at `open`, and the offset after `)`. */
function callArgs(text: string, open: number): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = open; i < text.length && i < open + 2000; i++) {
    const c = text[i];
    if (c === '(') { if (depth++ > 0) cur += c; continue; }
    if (c === ')') {
      if (--depth === 0) { args.push(cur.trim()); return { args, end: i + 1 }; }
      cur += c;
      continue;
    }
    if (c === ',' && depth === 1) { args.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  return undefined;
}

interface Passthrough { msr: string; value?: string; start: number; end: number; call: string }

function passthroughs(fn: FunctionInfo, body: string): Passthrough[] {
  const out: Passthrough[] = [];
  CALLS.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = CALLS.exec(body)) !== null) {
    const parsed = callArgs(body, m.index + m[0].length - 1);
    if (!parsed) continue;
    const a = parsed.args;
    const isFalse = (s: string | undefined): boolean => !s || /^(0|false)$/.test(s);
    const isTrue = (s: string | undefined): boolean => !!s && /^(1|true)$/.test(s);
    let msr: string | undefined;
    let value: string | undefined;
    if (m[1].endsWith('disable_intercept_for_msr')) msr = a[1];
    else if (m[1].endsWith('set_intercept_for_msr')) {
      if (isTrue(a[3])) continue;
      msr = a[1];
      value = isFalse(a[3]) ? undefined : a[3];
    } else {
      const [r, w] = a.length >= 5 ? [a[3], a[4]] : [a[2], a[3]];
      if (isFalse(r) && isFalse(w)) continue;
      msr = a.length >= 5 ? a[2] : a[1];
      value = isTrue(r) || isTrue(w) ? undefined : `${r} ${w}`;
    }
    if (!msr) continue;
    out.push({ msr: msr.replace(/\s+/g, ''), value, start: fn.bodyStart + m.index, end: fn.bodyStart + parsed.end, call: m[1] });
  }
  return out;
}

interface Directive { index: number; kw: string; rest: string }

/** Conditional-compilation directives of [from, to), with absolute offsets. */
function directives(text: string, from: number, to: number): Directive[] {
  const out: Directive[] = [];
  const re = /^[ \t]*#[ \t]*(ifdef|ifndef|if|elif|else|endif)\b([^\n]*)/gm;
  const part = text.slice(from, to);
  let m: RegExpExecArray | null;
  while ((m = re.exec(part)) !== null) out.push({ index: from + m.index, kw: m[1], rest: m[2] });
  return out;
}

/** Offsets [start, end) where `#ifdef CONFIG_X86_64` (or an equivalent #if) is in force. */
function x86_64Regions(doc: DocumentAnalysis): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const stack: Array<{ x64: boolean; start: number }> = [];
  // Scanned per function (and gap): a directive line never spans two segments.
  for (const m of scanSegments(doc, `${RULE}:directives`, directives)) {
    const { kw, rest } = m;
    if (kw === 'ifdef' || kw === 'if' || kw === 'ifndef') {
      const x64 = kw !== 'ifndef' && /CONFIG_X86_64\b/.test(rest) && !/!\s*(defined\s*\(\s*)?CONFIG_X86_64|IS_ENABLED\s*\(\s*CONFIG_X86_32/.test(rest);
      stack.push({ x64, start: m.index });
    } else if (kw === 'else' || kw === 'elif') {
      const top = stack[stack.length - 1];
      if (top?.x64) { out.push([top.start, m.index]); top.x64 = false; }
    } else if (kw === 'endif') {
      const top = stack.pop();
      if (top?.x64) out.push([top.start, m.index]);
    }
  }
  return out;
}

function inRegions(regions: Array<[number, number]>, off: number): boolean {
  return regions.some(([s, e]) => off >= s && off < e);
}

function guardText(doc: DocumentAnalysis, off: number): string {
  return guardsAt(doc, off).map((g) => g.condText).join(' ');
}

function checkPassthroughs(doc: DocumentAnalysis, fn: FunctionInfo, body: string, regions: () => Array<[number, number]>, out: Finding[]): void {
  for (const p of passthroughs(fn, body)) {
    if (LONG_MODE_ONLY_MSRS.has(p.msr) && !inRegions(regions(), p.start)) {
      out.push({
        rule: RULE, severity: 'warning', start: p.start, end: p.end, source: SDM_LONG_MODE_MSRS,
        message: `${p.msr} exists only in 64-bit mode; passing it through outside #ifdef CONFIG_X86_64 lets a 32-bit KVM guest own it`,
      });
      continue;
    }
    const gated = CPUID_GATED_MSRS[p.msr];
    if (!gated) continue;
    if (/_set_msr(_common)?$/.test(fn.name)) continue; // after a guest WRMSR the handler accepted: the MSR exists
    let context = `${p.value ?? ''} ${guardText(doc, p.start)}`;
    // A local that holds the decision (`bool v_tsc_aux = guest_cpuid_has(...) || ...;`).
    for (const id of (p.value ?? '').match(/\b[a-z_]\w*\b/g) ?? []) {
      const def = new RegExp(`\\b${id}\\s*=(?!=)([^;]*);`).exec(body);
      if (def) context += ` ${def[1]}`;
    }
    const cpuidOnPath = GUEST_CPUID.test(context);
    if (cpuidOnPath && CREATION_FN.test(fn.name)) {
      out.push({
        rule: RULE, severity: 'warning', start: p.start, end: p.end, source: SDM_MSR_BITMAP,
        message: `${p.msr} passthrough decided at vCPU creation (${fn.name}), before guest CPUID is set; redo it after a CPUID update`,
      });
      continue;
    }
    if (cpuidOnPath || gated.tokens.test(context) || new RegExp(`case\\s+${p.msr}\\b`).test(context)) continue;
    out.push({
      rule: RULE, severity: 'warning', start: p.start, end: p.end, source: SDM_MSR_BITMAP,
      message: `${p.msr} exists only with ${gated.features} in guest CPUID; this passthrough doesn't check the guest's CPUID`,
    });
  }
}

/** (c) Merge helpers of the L2 bitmap: does their definition consult L0's (vmcs01's) bitmap? */
function nestedMerge(doc: DocumentAnalysis, out: Finding[]): void {
  const helpers = new Map<string, boolean>();
  for (const fn of doc.functions) {
    if (!/^nested_vmx_\w*intercept_for_msr$/.test(fn.name) || /x2apic/.test(fn.name)) continue;
    // A helper that is given the vCPU can look at vmcs01's bitmap; one given only the two bitmaps cannot.
    const sig = doc.text.slice(fn.start, fn.bodyStart);
    helpers.set(fn.name, /\b(vmx|vcpu)\b/.test(sig) || /vmcs01|_l01\b/.test(doc.text.slice(fn.bodyStart, fn.bodyEnd)));
  }
  for (const [name, consultsL0] of helpers) {
    if (consultsL0) continue;
    for (const m of scanSegments(doc, `${RULE}:calls:${name}`, (text, from, to) => callSites(text.slice(from, to), [name]).map((c) => ({ index: c.index + from })))) {
      const fn = doc.functions.find((f) => m.index >= f.bodyStart && m.index < f.bodyEnd);
      if (!fn || fn.name === name) continue;
      if (/_l01\b|vmcs01/.test(guardText(doc, m.index))) continue;
      const parsed = callArgs(doc.text, doc.text.indexOf('(', m.index + name.length));
      const msr = parsed?.args[2] ?? 'the MSR';
      if (/X2APIC_MSR|APIC_BASE_MSR/.test(msr)) continue; // x2APIC: L2's APIC virtualization is vmcs12's, not vmcs01's
      out.push({
        rule: RULE, severity: 'warning', start: m.index, end: parsed?.end ?? m.index + name.length, source: SDM_MSR_BITMAP,
        message: `L2 bitmap passes ${msr} through when L1 does, without asking L0's (vmcs01) bitmap: L0's intercept must win`,
      });
    }
  }
}

/** (d) MSR-bitmap queries of the current VMCS gated on the CPU capability instead of the VMCS's own control. */
function currentVmcsQuery(fn: FunctionInfo, body: string, out: Finding[]): void {
  if (!/loaded_vmcs\s*->\s*msr_bitmap/.test(body) || /CPU_BASED_USE_MSR_BITMAPS/.test(body)) return;
  const m = /\bcpu_has_vmx_msr_bitmap\s*\(\s*\)/.exec(body);
  if (!m || !/test_bit|vmx_test_msr_bitmap/.test(body)) return;
  const start = fn.bodyStart + m.index;
  out.push({
    rule: RULE, severity: 'warning', start, end: start + m[0].length, source: SDM_MSR_BITMAP,
    message: 'whether the current VMCS uses MSR bitmaps is its CPU_BASED_USE_MSR_BITMAPS control, not cpu_has_vmx_msr_bitmap()',
  });
}

/** (e) Intercept merges for L2 that can drop L0's VMLOAD/VMSAVE intercepts. */
function nestedInstructionIntercepts(fn: FunctionInfo, body: string, out: Finding[]): void {
  const m = /intercepts\s*\[[^\]]*\]\s*\|=/.exec(body);
  if (!m || !/nested\s*\.\s*ctl|vmcb12/.test(body)) return;
  const missing = L0_MUST_INTERCEPT_FOR_L2.filter((i) => !body.includes(i));
  if (!missing.length) return;
  const start = fn.bodyStart + m.index;
  out.push({
    rule: RULE, severity: 'warning', start, end: start + m[0].length, source: APM_NESTED_INTERCEPTS,
    message: `L2 intercepts merged from L1's without forcing ${missing.map((s) => s.replace('INTERCEPT_', '')).join('/')}: L2 would run them on L1-physical addresses`,
  });
}

export const msrIntercept: Rule = {
  id: RULE,
  defaultSeverity: 'warning',
  description: 'MSR/instruction passthrough against the guest CPU model, the kernel mode or L0\'s own intercepts',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    const t = doc.text;
    if (!docHas(doc, 'intercept') && !docHas(doc, 'msr_bitmap')) return out;
    let regions: Array<[number, number]> | undefined;
    const getRegions = (): Array<[number, number]> => (regions ??= x86_64Regions(doc));
    for (const fn of functionsWhere(doc, RULE, (_, raw) => raw.includes('intercept') || raw.includes('msr_bitmap'))) {
      const raw = t.slice(fn.bodyStart, fn.bodyEnd);
      const pass = /_intercept_for_msr|set_msr_interception/.test(raw);
      // The findings depend on the function's text and tree, and, for passthroughs, on which parts of the body lie in
      // a 64-bit-only #ifdef, which may open outside it: the key names those parts relative to the body.
      const in64 = pass ? getRegions().filter(([s, e]) => e > fn.bodyStart && s < fn.bodyEnd)
        .map(([s, e]) => `${Math.max(0, s - fn.bodyStart)}-${Math.min(fn.bodyEnd, e) - fn.bodyStart}`).join(',') : '';
      out.push(...cachedPerFunction(doc, `${RULE}:${pass}:${in64}`, fn, () => {
        const found: Finding[] = [];
        const body = codeOnly(raw);
        if (pass) checkPassthroughs(doc, fn, body, getRegions, found);
        if (raw.includes('msr_bitmap')) currentVmcsQuery(fn, body, found);
        if (raw.includes('intercepts')) nestedInstructionIntercepts(fn, body, found);
        return found;
      }));
    }
    if (docHas(doc, 'nested_vmx_')) nestedMerge(doc, out);
    return out;
  },
};
