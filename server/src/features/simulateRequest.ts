// Glue between the LSP request / CLI and the simulation feature: decides what to simulate from the request.
import { functionAt, type DocumentAnalysis } from '../analysis/document';
import type { SimulateParams, SimulationResult } from '../protocol/simulation';
import { looksLikeFlow, simulateC, simulateFlowText } from './simulate/index';

export interface SimulateTarget {
  mode?: 'flow' | 'c';
  functionName?: string;
  /** 0-based, inclusive lines of the selection; whole document when absent. */
  startLine?: number;
  endLine?: number;
  /** Offset of the cursor for an empty selection (simulate the function around it). */
  cursor?: number;
  isFlowDocument?: boolean;
  /** File name of the document, for titles (`xfd-passthrough.kvmflow`, `flows.md lines 3-9`). */
  name?: string;
  /** C: show the steps of this configuration of the sweep. */
  show?: Readonly<Record<string, boolean | string>>;
  /** C simulation: restrict the configuration sweep (variable → allowed values). */
  config?: ReadonlyMap<string, readonly (boolean | string)[]>;
}

/** Last path segment of a URI or path, decoded. */
export function baseName(uriOrPath: string): string | undefined {
  const last = uriOrPath.replace(/[?#].*$/, '').split(/[/\\]/).pop() ?? '';
  try {
    return decodeURIComponent(last) || undefined;
  } catch {
    return last || undefined;
  }
}

export function simulateTarget(doc: DocumentAnalysis, t: SimulateTarget): SimulationResult {
  if (t.functionName && t.mode !== 'flow') return simulateC(doc, { functionName: t.functionName, show: t.show, config: t.config });
  const lines = doc.text.split('\n');
  const from = Math.max(0, Math.min(t.startLine ?? 0, lines.length - 1));
  const to = Math.max(from, Math.min(t.endLine ?? lines.length - 1, lines.length - 1));
  const selected = lines.slice(from, to + 1).join('\n');
  const wholeDoc = t.startLine === undefined;
  const flow = t.mode === 'flow' || (t.mode !== 'c' && (t.isFlowDocument || looksLikeFlow(selected)));
  const label = t.name ?? 'Written flow';
  if (flow) return simulateFlowText(selected, { lineOffset: from, title: wholeDoc || (from === 0 && to === lines.length - 1) ? label : `${label} (lines ${from + 1}-${to + 1})` });
  if (t.cursor !== undefined && (wholeDoc || from === to)) {
    const fn = functionAt(doc, t.cursor);
    if (fn) return simulateC(doc, { functionName: fn.name, show: t.show, config: t.config });
  }
  return simulateC(doc, { startLine: from + 1, endLine: to + 1, show: t.show, config: t.config });
}

export function simulateRequest(doc: DocumentAnalysis, p: SimulateParams): SimulationResult {
  const isFlowDocument = /\.kvmflow$/i.test(p.textDocument.uri);
  const name = baseName(p.textDocument.uri);
  const show = validConfiguration(p.configuration);
  if (p.functionName) return simulateTarget(doc, { functionName: p.functionName, mode: p.mode, name, show });
  const r = p.range;
  if (!r) return simulateTarget(doc, { mode: p.mode, isFlowDocument, name, show });
  const empty = r.start.line === r.end.line && r.start.character === r.end.character;
  // A selection that ends at column 0 of the next line does not include that line.
  const endLine = r.end.character === 0 && r.end.line > r.start.line ? r.end.line - 1 : r.end.line;
  if (empty) {
    if (isFlowDocument) return simulateTarget(doc, { mode: p.mode ?? 'flow', isFlowDocument, name });
    return simulateTarget(doc, { mode: p.mode, cursor: doc.lines.offsetAt(r.start), startLine: r.start.line, endLine: r.start.line, name, show });
  }
  return simulateTarget(doc, { mode: p.mode, startLine: r.start.line, endLine, isFlowDocument, name, show });
}

/** A `configuration` param as predicate values (anything else is ignored). */
function validConfiguration(c: unknown): Record<string, boolean | string> | undefined {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return undefined;
  const out: Record<string, boolean | string> = {};
  for (const [k, v] of Object.entries(c as Record<string, unknown>)) if (typeof v === 'boolean' || typeof v === 'string') out[k] = v;
  return Object.keys(out).length ? out : undefined;
}
