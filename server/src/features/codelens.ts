// "Simulate" code lenses above functions whose life-cycle role is known.
import type { DocumentAnalysis } from '../analysis/document';
import { roleOfFunction } from '../analysis/roles';

export interface CodeLensData { start: number; functionName: string; title: string }

export function codeLenses(doc: DocumentAnalysis): CodeLensData[] {
  const out: CodeLensData[] = [];
  for (const fn of doc.functions) {
    const role = roleOfFunction(doc, fn.name);
    if (role) out.push({ start: fn.start, functionName: fn.name, title: `▶ Simulate (${role.label})` });
  }
  return out;
}
