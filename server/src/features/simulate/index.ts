// Simulation of a selected flow: a written flow (seed 004 notation) or a C region of KVM code, run on the
// executable machine in model/machine. Editor-agnostic: plain data in, plain data out.
import type { SimulationResult } from '../../protocol/simulation';
import { simulateFlowLines } from './flow';
import { renderSimulationMarkdown } from './render';

export { looksLikeFlow, stripMarkers } from './flowParse';
export { renderSimulationMarkdown } from './render';

/** Simulate a written flow. `lineOffset` = 0-based line of the text's first line in its document. Never throws. */
export function simulateFlowText(text: string, opts: { lineOffset?: number; title?: string } = {}): SimulationResult {
  let result: SimulationResult;
  try {
    result = simulateFlowLines(text, opts);
  } catch (e) {
    result = {
      kind: 'flow', title: opts.title ?? 'Written flow', steps: [], summary: ['simulation failed'], markdown: '',
      findings: [{ line: (opts.lineOffset ?? 0) + 1, severity: 'error', rule: 'simulator-error', message: `internal error: ${(e as Error).message}` }],
    };
  }
  result.markdown = renderSimulationMarkdown(result);
  return result;
}
