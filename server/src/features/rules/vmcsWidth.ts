// vmcs-width: the accessor's width must match the field's width (SDM Vol.3C §25.11.2: a VMREAD/VMWRITE of a
// 16-bit/32-bit/64-bit/natural-width field; KVM's vmcs_check16/32/64/l). A 32-bit accessor on a `_HIGH` encoding is right.
import type { DocumentAnalysis } from '../../analysis/document';
import { accessorFits, matchingAccessor } from '../hover';
import type { Finding, Rule } from '../findings';

const SOURCE = 'Intel SDM Vol.3C §25.11.2 (VMCS field encodings: width); Linux arch/x86/kvm/vmx/vmx_ops.h vmcs_check16/32/64/l';

export const vmcsWidth: Rule = {
  id: 'vmcs-width',
  defaultSeverity: 'error',
  description: 'VMCS accessor width does not match the field width',
  run(doc: DocumentAnalysis): Finding[] {
    const out: Finding[] = [];
    for (const r of doc.refs) {
      if (r.entity.kind !== 'vmcs' || !r.accessor || r.inComment) continue;
      const f = r.entity;
      const acc = r.accessor;
      if (acc.op === 'set-bits' || acc.op === 'clear-bits') {
        // KVM's vmcs_set_bits/clear_bits do a natural-width read-modify-write and reject only 64-bit encodings.
        if (f.width !== 64) continue;
        const cs = r.callStart ?? r.start;
        out.push({
          rule: 'vmcs-width', severity: 'error', start: cs, end: r.callStart !== undefined ? cs + acc.name.length : r.end, source: SOURCE,
          message: `${acc.name}() cannot be used on ${f.name}: it is a 64-bit field (encoding 0x${f.encoding.toString(16).padStart(4, '0')}, bits 14:13 = 01) and the helper's read-modify-write takes a u32 mask (vmx_ops.h rejects 64-bit fields). [${SOURCE}]`,
        });
        continue;
      }
      if (accessorFits(f, acc)) continue;
      const good = matchingAccessor(f, acc.op);
      const w = (x: typeof f.width): string => (x === 'natural' ? 'natural-width' : `${x}-bit`);
      const nameStart = r.callStart ?? r.start;
      const edit = { start: nameStart, end: nameStart + acc.name.length, newText: good };
      // The accessor is what is wrong: the squiggle sits on its name (on the field when the call was not found).
      const at = r.callStart !== undefined ? { start: nameStart, end: nameStart + acc.name.length } : { start: r.start, end: r.end };
      out.push({
        rule: 'vmcs-width', severity: 'error', ...at, source: SOURCE,
        message: `${acc.name}() accesses ${w(acc.width)} but ${f.name} is a ${w(f.access === 'high' ? 32 : f.width)} field (encoding 0x${f.encoding.toString(16).padStart(4, '0')}, width bits 14:13); use ${good}(). [${SOURCE}]`,
        fix: r.callStart !== undefined ? { title: `Use ${good}()`, edits: [edit] } : undefined,
      });
    }
    return out;
  },
};
