// vmsave-redundant: host state saved or restored by hand (rdmsr/wrmsr of FS/GS base, KernelGsBase, STAR, LSTAR,
// CSTAR, SFMASK, SYSENTER_*; savesegment/loadsegment of FS/GS; kvm_read_ldt/kvm_load_ldt; a loop over an MSR array
// listing such MSRs) in a function that also executes VMSAVE (for saves) or VMLOAD (for restores) on the host save
// area on the same path — the instruction already transfers exactly that state (seed 003, Andy Lutomirski's review of
// "KVM: SVM: use vmsave/vmload for saving/restoring additional host state").
//
// Only VMSAVE/VMLOAD whose operand is the host save area (sd->save_area, save_area_pa, hsave) count: a VMLOAD of the
// guest VMCB (svm->vmcb_pa) *clobbers* host state and the hand restore after it is required.
import type { Node } from 'web-tree-sitter';
import { and, conditionAt, satisfiable } from '../../analysis/conditions';
import { docHas, functionsWhere } from '../../analysis/docMemo';
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { entityForIdentifier } from '../../model/index';
import type { Finding, Rule, RuleContext } from '../findings';

const SOURCE = 'AMD APM Vol.2 §15.5.2 (VMSAVE/VMLOAD: FS, GS, TR, LDTR with hidden state, KernelGsBase, STAR, LSTAR, '
  + 'CSTAR, SFMASK, SYSENTER_CS/ESP/EIP); Bochs bochs/cpu/svm.cc VMSAVE/VMLOAD; LKML review of "KVM: SVM: use '
  + 'vmsave/vmload for saving/restoring additional host state" (seed 003)';

interface Site { start: number; end: number; kind: 'vmsave' | 'vmload'; text: string }
interface Item { start: number; end: number; dir: 'save' | 'restore'; call: string; covered: string[] }

const INSN = /\b(__svm_vmsave|__svm_vmload|vmsave|vmload)\b/g;
const HOST_AREA = /save_area|hsave|host_save|host_vmcb|hostsa/;
const GUEST_VMCB = /vmcb_pa|->vmcb\b|vmcb01|vmcb02|current_vmcb|\bvmcb12/;

const MSR_READ = new Set(['rdmsrl', 'rdmsrq', 'rdmsr', 'native_rdmsrl', 'native_rdmsrq', 'native_read_msr', 'rdmsrl_safe', 'rdmsrq_safe', 'rdmsr_safe']);
const MSR_WRITE = new Set(['wrmsrl', 'wrmsrq', 'wrmsr', 'native_wrmsrl', 'native_wrmsrq', 'native_write_msr', 'wrmsrl_safe', 'wrmsrq_safe', 'wrmsr_safe']);

function coveredMsr(name: string): boolean {
  const e = entityForIdentifier(name);
  return !!e && e.kind === 'msr' && e.vmsaveState === true;
}

/** VMSAVE/VMLOAD of the host save area inside `fn`: wrapper calls and asm strings. */
function hostSites(doc: DocumentAnalysis, fn: FunctionInfo): Site[] {
  const out: Site[] = [];
  const body = doc.text.slice(fn.bodyStart, fn.bodyEnd);
  INSN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = INSN.exec(body)) !== null) {
    const start = fn.bodyStart + m.index;
    const end = start + m[0].length;
    const node = doc.tree.rootNode.descendantForIndex(start, end);
    if (!node || node.type === 'comment') continue;
    const kind = m[1].includes('vmsave') ? 'vmsave' : 'vmload';
    let operand: string | undefined;
    if (node.type === 'identifier' && node.parent?.type === 'call_expression') {
      operand = node.parent.childForFieldName('arguments')?.text;
    } else if (node.type === 'string_content' || node.type === 'string_literal' || node.type === 'ERROR') {
      // asm volatile(__ex("vmsave") : : "a" (...) : "memory"); — the operands are in the same statement.
      const asmAt = doc.text.lastIndexOf('asm', start);
      const semi = doc.text.indexOf(';', end);
      if (asmAt >= fn.bodyStart && start - asmAt < 2000 && semi > 0) operand = doc.text.slice(asmAt, semi);
    }
    if (!operand) continue;
    if (!HOST_AREA.test(operand) || GUEST_VMCB.test(operand)) continue;
    out.push({ start, end, kind, text: m[1] });
  }
  return out;
}

/** Initializer of `name[] = { ... };` in this document or the run's other files: the MSR names it lists. */
function arrayMsrs(doc: DocumentAnalysis, name: string, ctx?: RuleContext): string[] | undefined {
  const re = new RegExp(`\\b${name}\\s*\\[[^\\]]*\\]\\s*=\\s*\\{([\\s\\S]*?)\\};`);
  const texts = [doc.text, ...(ctx?.files ?? []).filter((f) => f.text !== doc.text).map((f) => f.text)];
  for (const t of texts) {
    if (!t.includes(name)) continue;
    const m = re.exec(t);
    if (m) return [...new Set(m[1].match(/\bMSR_[A-Z0-9_]+\b/g) ?? [])];
  }
  return undefined;
}

/**
 * Is the call inside a loop whose body skips some entries (`if (...) continue;` before it)? Then the array walk is
 * filtered (Linux 5.11 sev_es_vcpu_load skips the entries VMSAVE restores). Text-based: asm statements nearby often
 * leave tree-sitter ERROR nodes around the loop.
 */
function filteredLoop(doc: DocumentAnalysis, fn: FunctionInfo, callStart: number): boolean {
  const before = doc.text.slice(fn.bodyStart, callStart);
  const loops = [...before.matchAll(/\b(?:for|while)\s*\(/g)];
  const m = loops[loops.length - 1];
  if (!m) return false;
  const loopText = before.slice(m.index ?? 0);
  return /\bcontinue\s*;/.test(loopText);
}

function handItems(doc: DocumentAnalysis, fn: FunctionInfo, ctx?: RuleContext): Item[] {
  const out: Item[] = [];
  const body = doc.text.slice(fn.bodyStart, fn.bodyEnd);
  const call = /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
  let m: RegExpExecArray | null;
  while ((m = call.exec(body)) !== null) {
    const name = m[1];
    const start = fn.bodyStart + m.index;
    const isRead = MSR_READ.has(name);
    const isWrite = MSR_WRITE.has(name);
    const seg = name === 'savesegment' || name === 'loadsegment' || name === 'load_gs_index';
    const ldt = name === 'kvm_read_ldt' || name === 'kvm_load_ldt';
    if (!isRead && !isWrite && !seg && !ldt) continue;
    const node = doc.tree.rootNode.descendantForIndex(start, start + name.length);
    if (!node || node.type !== 'identifier' || node.parent?.type !== 'call_expression') continue;
    const callNode = node.parent;
    const args = callNode.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
    const end = callNode.endIndex;
    if (ldt) {
      out.push({ start, end, dir: name === 'kvm_read_ldt' ? 'save' : 'restore', call: name, covered: ['LDTR'] });
      continue;
    }
    if (seg) {
      const reg = name === 'load_gs_index' ? 'gs' : args[0]?.text.trim();
      if (reg === 'fs' || reg === 'gs') out.push({ start, end, dir: name === 'savesegment' ? 'save' : 'restore', call: name, covered: [`${reg.toUpperCase()} selector`] });
      continue;
    }
    const first = args[0];
    if (!first) continue;
    const f = first.text.replace(/\s+/g, '');
    const dir = isRead ? 'save' : 'restore';
    if (/^[A-Z][A-Z0-9_]*$/.test(f)) {
      if (coveredMsr(f)) out.push({ start, end, dir, call: name, covered: [f] });
      continue;
    }
    const arr = /^([A-Za-z_][A-Za-z0-9_]*)\[[^\]]+\](?:\.index)?$/.exec(f);
    if (arr) {
      if (filteredLoop(doc, fn, start)) continue;
      const listed = arrayMsrs(doc, arr[1], ctx);
      const covered = (listed ?? []).filter(coveredMsr);
      if (covered.length) out.push({ start, end, dir, call: `${name}(${arr[1]}[...])`, covered });
    }
  }
  return out;
}

export const vmsaveRedundant: Rule = {
  id: 'vmsave-redundant',
  defaultSeverity: 'warning',
  description: 'host state saved/restored by hand although a VMSAVE/VMLOAD of the host save area on the same path covers it',
  run(doc: DocumentAnalysis, ctx?: RuleContext): Finding[] {
    const out: Finding[] = [];
    if (!docHas(doc, 'vmsave') && !docHas(doc, 'vmload')) return out;
    // Only functions that name VMSAVE/VMLOAD can hold a host-area site (kept per function while its text is unchanged).
    for (const fn of functionsWhere(doc, 'vmsave-redundant:insn', (_, body) => body.includes('vmsave') || body.includes('vmload'))) {
      const sites = hostSites(doc, fn);
      if (!sites.length) continue;
      const items = handItems(doc, fn, ctx);
      for (const it of items) {
        const want = it.dir === 'save' ? 'vmsave' : 'vmload';
        const pc = conditionAt(doc, it.start);
        const site = sites.find((s) => s.kind === want && satisfiable(and(pc, conditionAt(doc, s.start))));
        if (!site) continue;
        const line = doc.lines.positionAt(site.start).line + 1;
        const verb = it.dir === 'save' ? 'saves' : 'restores';
        const insn = want.toUpperCase();
        out.push({
          rule: 'vmsave-redundant', severity: 'warning', start: it.start, end: it.end, source: SOURCE,
          message: `${it.call} ${verb} host ${it.covered.join(', ')} by hand, but the ${insn} of the host save area at line ${line} on the same path already ${it.dir === 'save' ? 'stores' : 'loads'} ${it.covered.length > 1 ? 'them' : 'it'} (${insn} transfers FS, GS, TR, LDTR with hidden state, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK and SYSENTER_CS/ESP/EIP). [${SOURCE}]`,
          related: [{ start: site.start, end: site.end, message: `${insn} of the host save area covers ${it.covered.join(', ')}` }],
        });
      }
    }
    return out;
  },
};
