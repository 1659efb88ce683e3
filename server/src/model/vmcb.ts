// VMCB layout: control area (struct vmcb_control_area) and state-save area (struct vmcb_save_area), int_ctl and
// int_state bits. Offsets/sizes from Linux arch/x86/include/asm/svm.h, cross-checked with Bochs bochs/cpu/svm.h,
// QEMU target/i386/svm.h, Xen xen/arch/x86/hvm/svm/vmcb.h and kvm-unit-tests x86/svm.h (see the fact sheet rows).
import { VMCB_ROWS, type VmcbRow } from './data/vmcbTable';
import type { IntCtlBit, VmcbArea, VmcbField } from './types';

function baseName(raw: string): string {
  return raw.replace(/\s*\(.*$/, '').trim();
}

function buildField(r: VmcbRow): VmcbField | undefined {
  const name = baseName(r.name);
  if (!name || name === '-') return undefined;
  const written = /^yes/.test(r.written) ? 'yes' : /^partial/.test(r.written) ? 'partial' : 'no';
  const aliases = [r.qemu, r.xen, r.bochs, r.kut]
    .map((a) => a.replace(/\s*\(.*$/, '').replace(/\+\d+$/, '').trim())
    .filter((a) => a && a !== '-' && a !== name && !/^reserved/.test(a));
  const f: VmcbField = {
    kind: 'vmcb', name, area: r.area as VmcbArea, aliases: [...new Set(aliases)], offset: parseInt(r.offset, 16),
    size: parseInt(r.size, 10) || 0, meaning: r.meaning, writtenOnVmexit: written, sources: r.sources,
  };
  if (r.written && written !== 'no') f.vmexitNote = r.written;
  if (r.notes) f.notes = r.notes;
  return f;
}

export const VMCB_FIELDS: readonly VmcbField[] = VMCB_ROWS.filter((r) => r.record === 'field')
  .map(buildField)
  .filter((f): f is VmcbField => f !== undefined);

export function findVmcbField(member: string, area?: VmcbArea): VmcbField | undefined {
  return VMCB_FIELDS.find((f) => (f.name === member || f.aliases.includes(member)) && (!area || f.area === area));
}

function bitRange(bits: string): { bit: number; bits: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(bits.trim());
  if (!m) return { bit: 0, bits: 1 };
  const hi = Number(m[1]);
  const lo = m[2] === undefined ? hi : Number(m[2]);
  return { bit: lo, bits: hi - lo + 1 };
}

function buildBit(r: VmcbRow): IntCtlBit | undefined {
  if (r.name === 'reserved') return undefined;
  const { bit, bits } = bitRange(r.bits);
  const mask = bits >= 32 ? 0xffffffff : ((2 ** bits - 1) * 2 ** bit) >>> 0;
  const w = r.written.toLowerCase();
  const writeback: IntCtlBit['writeback'] = /^yes/.test(w) && !/only|when|if/.test(w) ? 'always' : /^no/.test(w) ? 'never' : 'conditional';
  const name = r.name.endsWith('_MASK') ? r.name : `${r.name}_MASK`;
  return {
    kind: 'intctl', name, shiftName: name.replace(/_MASK$/, '_SHIFT'), aliases: [r.name, r.kut, r.qemu].filter((a) => a && a !== '-' && a !== name),
    register: r.record === 'intstate' ? 'int_state' : 'int_ctl', bit, bits, mask, meaning: r.meaning, writeback,
    writebackNote: r.written, sources: r.sources,
  };
}

export const INT_CTL_BITS: readonly IntCtlBit[] = VMCB_ROWS.filter((r) => r.record === 'intctl' || r.record === 'intstate')
  .map(buildBit)
  .filter((b): b is IntCtlBit => b !== undefined);
