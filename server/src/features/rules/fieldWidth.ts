// field-width: values whose width or reserved upper bits the hardware defines, beyond the VMCS accessor widths that
// vmcs-width checks:
//   - the SVM EXITCODE is 64 bits: a synthesized VMEXIT_INVALID (SVM_EXIT_ERR, -1) must set exit_code_hi to
//     0xffffffff in trees that split the field (u32 exit_code + u32 exit_code_hi);
//   - exception error codes have bits 31:16 reserved (0): VM entry fails when the VM-entry exception error code has
//     them set, and a VM exit never reports them — a 32-bit value from KVM's own state must be truncated to u16;
//   - a 64-bit VMCB field stored into a narrower local (`u32 x = vmcb->control.exit_info_1;`) loses its upper half.
// Facts: model/fieldWidths.ts and the VMCB table (sizes).
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { findVmcbField } from '../../model/vmcb';
import { SDM_ERROR_CODE, APM_EXITCODE, ERROR_CODE_FIELDS } from '../../model/fieldWidths';
import type { Finding, Rule } from '../findings';
import { codeOnly } from './nestedWriteback';
import { docHas, perFunctionFindings } from '../../analysis/docMemo';

/** Places an exception error code is stored into a field whose bits 31:16 must be 0. */
const ERROR_CODE_SINKS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: ERROR_CODE_FIELDS[0], pattern: /vmcs_write32\s*\(\s*VM_ENTRY_EXCEPTION_ERROR_CODE\s*,\s*(?<value>[^;]*?)\)\s*;/g },
  { name: `vmcs12->${ERROR_CODE_FIELDS[1]}`, pattern: /vmcs12\s*->\s*vm_exit_intr_error_code\s*=(?!=)\s*(?<value>[^;]*?)\s*;/g },
];

/**
 * Is this C value known to fit in 16 bits (or to come from a source the hardware or L1's consistency checks already
 * bound)? A (u16) cast, a mask with 0xffff, a literal, a VMREAD of the hardware's own exit error code, L1's vmcs12
 * value (checked on nested VM entry), an eVMCS copy, or a local declared u16 in `body`.
 */
function boundedTo16Bits(value: string, body: string): boolean {
  const v = value.replace(/\s+/g, '');
  if (/^\(u16\)|^\(uint16_t\)|^\(unsigned short\)/.test(value.trim())) return true;
  if (/&0x0*ffff\b|&\(?u16\)?|&GENMASK\(15,0\)/i.test(v)) return true;
  if (/^(0x)?[0-9a-f]+[ul]*$/i.test(v)) return true;
  if (/^vmcs_read(16|32)\(/.test(v) || /^vmcs12->|^evmcs->/.test(v)) return true;
  const id = /^[A-Za-z_]\w*$/.exec(v);
  if (id && new RegExp(`\\bu16\\s+(?:\\w+\\s*,\\s*)*${id[0]}\\b`).test(body)) return true;
  return false;
}

const RULE = 'field-width';
const APM_VMCB_LAYOUT = 'AMD APM Vol.2 Appendix B (VMCB layout: field sizes); Linux arch/x86/include/asm/svm.h';

function exitCodeHi(fn: FunctionInfo, body: string, out: Finding[]): void {
  const errs = new Set<string>();
  for (const m of body.matchAll(/([\w>.\-]+?)\s*(?:->|\.)\s*control\s*\.\s*exit_code\s*=\s*SVM_EXIT_ERR\s*;/g)) errs.add(m[1].replace(/\s+/g, ''));
  if (!errs.size) return;
  for (const m of body.matchAll(/([\w>.\-]+?)\s*(?:->|\.)\s*control\s*\.\s*exit_code_hi\s*=\s*0[uUlL]*\s*;/g)) {
    if (!errs.has(m[1].replace(/\s+/g, ''))) continue;
    const start = fn.bodyStart + (m.index ?? 0);
    out.push({
      rule: RULE, severity: 'warning', start, end: start + m[0].length - 1, source: APM_EXITCODE,
      message: 'SVM_EXIT_ERR is -1 as a 64-bit EXITCODE: exit_code_hi must be 0xffffffff (-1u), not 0',
    });
  }
}

function errorCodes(fn: FunctionInfo, body: string, out: Finding[]): void {
  for (const sink of ERROR_CODE_SINKS) {
    for (const m of body.matchAll(sink.pattern)) {
      const value = (m.groups?.value ?? '').trim();
      if (!value || boundedTo16Bits(value, body)) continue;
      const start = fn.bodyStart + (m.index ?? 0);
      out.push({
        rule: RULE, severity: 'warning', start, end: start + m[0].length - 1, source: SDM_ERROR_CODE,
        message: `${sink.name}: bits 31:16 of an exception error code are reserved; truncate the value to u16`,
      });
    }
  }
}

const NARROW_DECL = /\b(u8|u16|u32|int|unsigned int|unsigned|s32|__u32)\s+(\w+)\s*=\s*([^;,]*?(?:->|\.)\s*(control|save)\s*\.\s*([a-z_0-9]+))\s*;/g;

const NARROW_OK = new Set(['exit_code', 'exit_info_1', 'exit_info_2', 'exit_int_info']);

function narrowLocals(fn: FunctionInfo, body: string, out: Finding[]): void {
  for (const m of body.matchAll(NARROW_DECL)) {
    const f = findVmcbField(m[5], m[4] === 'save' ? 'save' : 'control');
    // exit_code: u32 + exit_code_hi in older trees; EXITINFO1/2 hold exit-specific values, often 32-bit (IOIO, error
    // codes, AVIC ICR low/high halves), so a narrow read of them is deliberate.
    if (!f || f.size !== 8 || NARROW_OK.has(f.name)) continue;
    if (/[()&>]/.test(m[3].replace(/(->|\.)\s*(control|save)\s*\.[a-z_0-9]+$/, '').replace(/->/g, ''))) continue;
    const start = fn.bodyStart + (m.index ?? 0);
    out.push({
      rule: RULE, severity: 'warning', start, end: start + m[0].length - 1, source: APM_VMCB_LAYOUT,
      message: `${m[4]}.${m[5]} is a 64-bit VMCB field; the ${m[1]} ${m[2]} keeps only its low bits`,
    });
  }
}

export const fieldWidth: Rule = {
  id: RULE,
  defaultSeverity: 'warning',
  description: 'VMCB/VMCS values whose hardware width or reserved upper bits are lost or violated',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    const t = doc.text;
    const svm = docHas(doc, 'control.') || docHas(doc, 'save.');
    const err = docHas(doc, 'VM_ENTRY_EXCEPTION_ERROR_CODE') || docHas(doc, 'vm_exit_intr_error_code');
    if (!svm && !err) return out;
    // Depends on the function's text and the two document flags above (the key).
    out.push(...perFunctionFindings(doc, `${RULE}:${svm}:${err}`, (fn) => {
      const raw = t.slice(fn.bodyStart, fn.bodyEnd);
      const doHi = raw.includes('exit_code_hi');
      const doErr = err && /VM_ENTRY_EXCEPTION_ERROR_CODE|vm_exit_intr_error_code/.test(raw);
      const doNarrow = svm && (raw.includes('control') || raw.includes('save')) &&
        /\b(u8|u16|u32|int|unsigned|s32|__u32)\s+\w+\s*=[^;]*(control|save)\s*\./.test(raw);
      const found: Finding[] = [];
      if (!doHi && !doErr && !doNarrow) return found;
      const body = codeOnly(raw);
      if (doHi) exitCodeHi(fn, body, found);
      if (doErr) errorCodes(fn, body, found);
      if (doNarrow) narrowLocals(fn, body, found);
      return found;
    }));
    return out;
  },
};
