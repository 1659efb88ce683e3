// Hover cards: a concise markdown card per entity, plus accessor-fit and object notes for the reference form.
// Editor-agnostic: (document facts, model) → plain data.
import { VMX_EXIT_REASONS, fullFieldOf, widthBits, type AccessorInfo, type Entity, type IntCtlBit, type SymbolInfo, type VmcbField, type VmcsField } from '../model/index';
import { refAt, type DocumentAnalysis } from '../analysis/document';
import type { FieldRef } from '../analysis/refs';

export interface HoverResult {
  markdown: string;
  start: number;
  end: number;
}

const exitName = (code: number): string => {
  const e = VMX_EXIT_REASONS.find((r) => r.code === code);
  return e ? `${e.name.replace(/^EXIT_REASON_/, '')} (${code})` : String(code);
};
const hex = (n: number, pad = 4): string => `0x${n.toString(16).padStart(pad, '0')}`;
const widthLabel = (w: VmcsField['width']): string => (w === 'natural' ? 'natural width' : `${w}-bit`);

export function hoverAt(doc: DocumentAnalysis, offset: number): HoverResult | undefined {
  const ref = refAt(doc, offset);
  if (ref) return { markdown: cardForRef(ref), start: ref.start, end: ref.end };
  const sub = subMemberAt(doc, offset);
  return sub ? { markdown: cardForRef(sub.ref), start: sub.start, end: sub.end } : undefined;
}

/** `vmcb->save.gs.base` with the cursor on `base`: the reference of `gs`, whose sub-member it is. */
function subMemberAt(doc: DocumentAnalysis, offset: number): { ref: FieldRef; start: number; end: number } | undefined {
  const t = doc.text;
  let s = Math.min(offset, t.length);
  while (s > 0 && /[A-Za-z0-9_]/.test(t[s - 1])) s--;
  let e = s;
  while (e < t.length && /[A-Za-z0-9_]/.test(t[e])) e++;
  if (e <= s || e - s > 40) return undefined;
  let d = s - 1;
  while (d >= 0 && /\s/.test(t[d])) d--;
  if (t[d] !== '.') return undefined;
  d--;
  while (d >= 0 && /\s/.test(t[d])) d--;
  const ref = refAt(doc, d);
  return ref && ref.subMember === t.slice(s, e) && ref.end === d + 1 ? { ref, start: s, end: e } : undefined;
}

export function cardForRef(ref: FieldRef): string {
  const parts = [entityCard(ref.entity)];
  const ctx = referenceContext(ref);
  if (ctx) parts.splice(1, 0, ctx);
  return parts.join('\n\n');
}

/** What the reference form adds: accessor fit, which VMCB instance, read/write. */
function referenceContext(ref: FieldRef): string | undefined {
  if (ref.entity.kind === 'vmcs' && ref.accessor) return accessorFit(ref.entity, ref.accessor);
  if (ref.entity.kind === 'vmcb' && ref.entity.layout) {
    const what = ref.entity.layout === 'vmsa' ? 'the SEV-ES VMSA (encrypted guest save area)' : 'the GHCB (page shared with the SEV-ES guest)';
    return `*Access:* ${ref.isWrite ? 'write' : 'read'} of ${what}${ref.subMember ? ` · member \`${ref.subMember}\`` : ''}`;
  }
  if (ref.form === 'vmcs12-member' && ref.structType === 'hv_enlightened_vmcs') {
    const g = ref.entity.kind === 'vmcs' ? ref.entity.evmcsCleanGroup : undefined;
    return `*Access:* ${ref.isWrite ? 'write to' : 'read of'} the enlightened VMCS (Hyper-V layout in L1 memory), \`${ref.objectText ?? 'evmcs'}->${ref.name}\`${g ? `; clean group \`${g}\`` : ''}`;
  }
  if (ref.form === 'vmcb-member' && ref.vmcbObject) {
    const obj: Record<string, string> = {
      vmcb01: 'vmcb01 — the VMCB KVM runs L1 with',
      vmcb02: 'vmcb02 — the VMCB KVM runs L2 with (the one the CPU just ran after a nested #VMEXIT)',
      vmcb12: "vmcb12 — L1's VMCB for L2, in L1 memory",
      'vmcb12-cache': "KVM's cached copy of vmcb12 (svm->nested.ctl / svm->nested.save)",
      vmcb: 'the current VMCB (svm->vmcb: vmcb01 or vmcb02)',
      unknown: 'VMCB instance not determined from the expression',
    };
    const sub = ref.subMember ? ` · member \`${ref.subMember}\`` : '';
    return `*Access:* ${ref.isWrite ? 'write' : 'read'} of ${obj[ref.vmcbObject]}${sub}`;
  }
  if (ref.form === 'vmcs12-member') return `*Access:* ${ref.isWrite ? 'write to' : 'read of'} vmcs12 (L1's VMCS image in KVM memory), \`${ref.objectText ?? 'vmcs12'}->${ref.name}\``;
  return undefined;
}

export function accessorFit(f: VmcsField, acc: AccessorInfo): string {
  if (acc.op === 'set-bits' || acc.op === 'clear-bits') {
    return f.width !== 64
      ? `✅ \`${acc.name}\` (read-modify-write with a u32 mask) is allowed on this ${widthLabel(f.width)} field.`
      : `⚠️ \`${acc.name}\` rejects 64-bit fields (vmx_ops.h BUILD_BUG_ON); this field is 64-bit.`;
  }
  if (f.access === 'high') {
    return accessorFits(f, acc)
      ? `✅ \`${acc.name}\`: a \`_HIGH\` encoding is accessed with 32 bits (bits 63:32 of ${fullFieldOf(f).name}) — architecturally right. Note KVM's vmcs_check*() reject \`_HIGH\` encodings at build time; KVM reaches them only inside vmcs_write64()/vmcs_read64() on 32-bit hosts.`
      : `⚠️ \`${acc.name}\` (${widthLabel(acc.width)}) on a \`_HIGH\` encoding: a high access moves 32 bits (bits 63:32 of ${fullFieldOf(f).name}); use \`${matchingAccessor(f, acc.op)}\`.`;
  }
  const fits = accessorFits(f, acc);
  const verb = acc.op === 'read' ? 'VMREAD' : 'VMWRITE';
  if (fits) return `✅ \`${acc.name}\` (${verb}, ${widthLabel(acc.width)}) fits this ${widthLabel(f.width)} field.`;
  return `⚠️ \`${acc.name}\` (${verb}, ${widthLabel(acc.width)}) does not fit this ${widthLabel(f.width)} field — use \`${matchingAccessor(f, acc.op)}\`. KVM's accessors check this at build time (vmcs_check16/32/64/l in vmx_ops.h).`;
}

/** Width rule: the accessor width must equal the field width; a `_HIGH` encoding is accessed with 32 bits. */
export function accessorFits(f: VmcsField, acc: AccessorInfo): boolean {
  const fieldWidth = f.access === 'high' ? 32 : f.width;
  return acc.width === fieldWidth;
}

export function matchingAccessor(f: VmcsField, op: AccessorInfo['op']): string {
  const w = f.access === 'high' ? 32 : f.width;
  const suffix = w === 'natural' ? 'l' : String(w);
  return `${op === 'read' ? 'vmcs_read' : 'vmcs_write'}${suffix}`;
}

export function entityCard(e: Entity): string {
  switch (e.kind) {
    case 'vmcs': return vmcsCard(e);
    case 'vmcb': return vmcbCard(e);
    case 'intctl': return intCtlCard(e);
    case 'msr': {
      const lines = [`**${e.name}** — MSR ${hex(e.index, 0)}`, e.meaning];
      const pos: string[] = [];
      if (e.vmxBitmap) pos.push(`VMX MSR bitmap: read byte ${hex(e.vmxBitmap.readByte, 3)} / write byte ${hex(e.vmxBitmap.writeByte, 3)}, bit ${e.vmxBitmap.bit}`);
      else pos.push('VMX MSR bitmap: outside both ranges — RDMSR/WRMSR always exit');
      if (e.svmMsrpm) pos.push(`SVM MSRPM: byte ${hex(e.svmMsrpm.byte, 4)}, bits ${e.svmMsrpm.readBit} (read) / ${e.svmMsrpm.writeBit} (write)`);
      else pos.push('SVM MSRPM: outside the three ranges — always intercepted when MSR_PROT is set');
      lines.push(pos.map((p) => `- ${p}`).join('\n'));
      if (e.vmsaveState) lines.push('*Hardware:* saved/loaded by VMSAVE/VMLOAD (not by VMRUN/#VMEXIT).');
      if (e.hostSoftwareCopy) lines.push(`*KVM:* host software copy ${e.hostSoftwareCopy} — must be re-synced after VM exit if the MSR is passed through.`);
      if (e.notes) lines.push(e.notes);
      lines.push(sourcesLine(e.sources));
      return lines.join('\n\n');
    }
    case 'exit-reason': {
      const code = e.code < 0 ? String(e.code) : hex(e.code, 0);
      const lines = [`**${e.name}** — ${e.vendor === 'vmx' ? 'VMX basic exit reason' : 'SVM #VMEXIT code'} ${code}${e.vendor === 'vmx' ? ` (${e.code})` : ''}`, e.meaning];
      if (e.defines?.length) lines.push(`*Exit information defined:* ${e.defines.map((d) => `\`${d}\``).join(', ')}`);
      lines.push(sourcesLine(e.sources));
      return lines.join('\n\n');
    }
    case 'instruction': {
      const lines = [`**${e.name.toUpperCase()}** — ${e.vendor === 'svm' ? 'SVM' : 'VMX'} instruction`, e.meaning];
      if (e.state?.length) lines.push(`*State:* ${e.state.join(', ')}`);
      lines.push(sourcesLine(e.sources));
      return lines.join('\n\n');
    }
    case 'symbol': return symbolCard(e);
    case 'accessor':
      return [`**${e.name}** — KVM VMCS accessor`, e.meaning, `Width: ${e.op === 'set-bits' || e.op === 'clear-bits' ? '32-bit read-modify-write' : widthLabel(e.width)}`, sourcesLine(e.sources)].join('\n\n');
  }
}

function vmcsCard(f0: VmcsField): string {
  const f = f0;
  const full = fullFieldOf(f);
  const head = `**${f.name}** — VMCS ${f.type} field \`${hex(f.encoding)}\`, ${widthLabel(f.width)}${f.access === 'high' ? ` (high 32 bits of ${full.name})` : ''}`;
  const lines = [head, full.meaning];
  const hw: string[] = [];
  if (f.type === 'read-only') hw.push('Read-only VM-exit information: VMWRITE fails (VMfailValid 13) unless IA32_VMX_MISC[29] allows VMWRITE to any field.');
  if (full.onEntry) hw.push(`VM entry: ${full.onEntry}`);
  if (full.onExit) hw.push(`VM exit: ${full.onExit}`);
  if (full.undefinedWhen) hw.push(`Undefined: ${full.undefinedWhen}`);
  if (full.validForExitReasons && full.validForExitReasons !== 'all') {
    const cond = full.exitReasonConditions ?? {};
    hw.push(`Written for exit reasons: ${full.validForExitReasons.map((c) => (cond[c] ? `${exitName(c)} (${cond[c]})` : exitName(c))).join(', ')}.`);
  }
  if (hw.length) lines.push(`*Hardware:*\n${hw.map((h) => `- ${h}`).join('\n')}`);
  const kvm: string[] = [];
  if (full.lifetime) kvm.push(`lifetime **${full.lifetime}**${full.kvmWriters?.length ? ` (written in ${full.kvmWriters.map((w) => `\`${w}()\``).join(', ')})` : ''}`);
  if (full.vmcs12) kvm.push(`vmcs12 member \`${full.vmcs12.member}\`${full.vmcs12.offset !== undefined ? ` at offset ${full.vmcs12.offset}` : ''}`);
  else kvm.push('no vmcs12 member (not exposed to L1)');
  if (!f.linux) kvm.push('not named in Linux');
  if (full.shadowVmcs) kvm.push(full.shadowVmcs === 'read-write' ? 'shadow VMCS: L1 VMREAD/VMWRITE without exit' : 'shadow VMCS: L1 VMREAD without exit (VMWRITE exits)');
  if (full.evmcsCleanGroup) kvm.push(`eVMCS clean group \`${full.evmcsCleanGroup}\``);
  lines.push(`*KVM:* ${kvm.join('; ')}`);
  if (full.notes) lines.push(full.notes);
  lines.push(sourcesLine(f.sources));
  return lines.join('\n\n');
}

function vmcbCard(f: VmcbField): string {
  const where = f.layout === 'vmsa' ? 'SEV-ES VMSA (struct sev_es_save_area)' : f.layout === 'ghcb' ? 'GHCB (struct ghcb)' : `VMCB ${f.area === 'control' ? 'control area' : 'state-save area'}`;
  const lines = [`**${f.name}** — ${where} offset \`${hex(f.offset, 3)}\`, ${f.size} byte${f.size === 1 ? '' : 's'}`, f.meaning];
  const hw: string[] = [];
  if (f.onVmrun) hw.push(`VMRUN: ${f.onVmrun}`);
  const note = f.vmexitNote && !/^(yes|no|partially)\b\s*$/i.test(f.vmexitNote.trim()) ? ` — ${f.vmexitNote.replace(/^(yes|partially),?\s*/i, '')}` : '';
  hw.push(`#VMEXIT: ${f.writtenOnVmexit === 'yes' ? 'written by the processor' : f.writtenOnVmexit === 'partial' ? 'partly written by the processor' : 'not written by the processor'}${note}`);
  if (f.vmsaveState) hw.push('saved/loaded by VMSAVE/VMLOAD, not by VMRUN/#VMEXIT');
  lines.push(`*Hardware:*\n${hw.map((h) => `- ${h}`).join('\n')}`);
  if (f.layout) {
    if (f.notes) lines.push(f.notes);
    lines.push(sourcesLine(f.sources));
    return lines.join('\n\n');
  }
  lines.push(`*KVM:* clean bit ${f.cleanBit ? `\`${f.cleanBit}\` — mark it dirty (vmcb_mark_dirty) after changing this field` : 'none (the processor always reloads it)'}${f.aliases.length ? `; also named ${f.aliases.map((a) => `\`${a}\``).join(', ')}` : ''}`);
  if (f.notes) lines.push(f.notes);
  lines.push(sourcesLine(f.sources));
  return lines.join('\n\n');
}

const SYMBOL_KIND: Record<SymbolInfo['category'], string> = {
  'vmx-control': 'VMX control bit', 'vmx-control-default1': 'VMX default1 control mask', 'svm-intercept': 'SVM intercept bit',
  'svm-intercept-word': 'SVM intercept word index', 'vmcb-clean-bit': 'VMCB clean bit', 'svm-misc-ctl': 'VMCB control bit',
  'svm-tlb-ctl': 'VMCB TLB_CONTROL value', 'svm-erap-ctl': 'VMCB ERAP control bit', 'svm-int-ctl': 'VMCB interrupt-control mask',
  'svm-event': 'EVENTINJ/EXITINTINFO field', 'evmcs-clean-field': 'enlightened-VMCS clean-field group', ghcb: 'VMGEXIT sub-operation',
  'kvm-helper': 'KVM helper',
};

function symbolCard(y: SymbolInfo): string {
  const where = y.category === 'svm-intercept' ? `enum value ${y.value}` : y.bit !== undefined ? `bit ${y.bit} (\`${y.value}\`)` : y.value ? `value \`${y.value}\`` : '';
  const lines = [`**${y.name}** — ${SYMBOL_KIND[y.category]}: \`${y.container}\`${where ? `, ${where}` : ''}`, y.meaning];
  const hw: string[] = [];
  if (y.exitCode) hw.push(`#VMEXIT code: \`${y.exitCode}\``);
  if (y.capability) hw.push(`allowed by ${y.capability}`);
  if (hw.length) lines.push(`*Hardware:* ${hw.join('; ')}`);
  if (y.nested) lines.push(`*KVM (nested):* ${y.nested}`);
  lines.push(sourcesLine(y.sources));
  return lines.join('\n\n');
}

function intCtlCard(b: IntCtlBit): string {
  const bits = b.bits === 1 ? `bit ${b.bit}` : `bits ${b.bit + b.bits - 1}:${b.bit}`;
  const icon = b.writeback === 'always' ? '' : b.writeback === 'never' ? '⚠️ ' : '';
  return [
    `**${b.name}** — VMCB \`${b.register}\` ${bits} (mask \`${hex(b.mask, 8)}\`)`,
    b.meaning,
    `*#VMEXIT:* ${icon}${b.writebackNote}.${b.writeback === 'never' ? ' Copying it from the VMCB the CPU just ran copies back what KVM put there, not guest state.' : ''}`,
    sourcesLine(b.sources),
  ].join('\n\n');
}

/** Sources ordered for a card: manual sections first, then current Linux, then other code; at most four shown. */
function sourcesLine(sources: string[]): string {
  const rank = (x: string): number => (/§|Appendix/.test(x) ? (/encodings of VMCS fields/.test(x) ? 1 : 0) : /Linux 7\.1|KVM commit/.test(x) ? 2 : 3);
  const sorted = [...new Set(sources)].map((x, i) => ({ x, i })).sort((a, b) => rank(a.x) - rank(b.x) || a.i - b.i).map((e) => e.x);
  return `*Source:* ${sorted.slice(0, 4).join('; ')}${sorted.length > 4 ? ` (+${sorted.length - 4} more: \`kvm-lens explain --json\`)` : ''}`;
}

/** Plain-text card for the CLI's `explain`. */
export function markdownToText(md: string): string {
  return md.replace(/\*\*([^*\n]+)\*\*/g, '$1').replace(/\*([^*\s][^*\n]*?)\*/g, '$1').replace(/`([^`]+)`/g, '$1').replace(/✅ /g, '').replace(/⚠️ /g, '! ');
}

export function widthOf(f: VmcsField): number {
  return widthBits(f.width);
}
