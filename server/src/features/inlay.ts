// Inlay hints (off by default): compact width/type after VMCS field names in accessor calls, e.g. `:64 guest`.
import type { DocumentAnalysis } from '../analysis/document';
import { accessorFits } from './hover';

export interface InlayHintData { offset: number; label: string; tooltip: string }

const TYPE_SHORT = { control: 'ctl', 'read-only': 'ro', 'guest-state': 'guest', 'host-state': 'host' } as const;

export function inlayHints(doc: DocumentAnalysis, from: number, to: number): InlayHintData[] {
  const out: InlayHintData[] = [];
  for (const r of doc.refs) {
    if (r.end < from || r.start > to) continue;
    if (r.entity.kind !== 'vmcs' || !r.accessor || r.inComment) continue;
    const f = r.entity;
    const w = f.width === 'natural' ? 'nat' : String(f.width);
    const fit = r.accessor.op === 'read' || r.accessor.op === 'write' ? (accessorFits(f, r.accessor) ? '' : ' ≠') : '';
    out.push({ offset: r.end, label: `:${w}${f.access === 'high' ? 'hi' : ''} ${TYPE_SHORT[f.type]}${fit}`, tooltip: `${f.name}: ${f.width === 'natural' ? 'natural-width' : `${f.width}-bit`} ${f.type} field 0x${f.encoding.toString(16).padStart(4, '0')}` });
  }
  return out;
}
