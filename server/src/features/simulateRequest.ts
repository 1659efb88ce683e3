// Glue between the LSP request / CLI and the simulation feature.
import type { DocumentAnalysis } from '../analysis/document';
import type { SimulateParams, SimulationResult } from '../protocol/simulation';

export function simulateRequest(_doc: DocumentAnalysis, _p: SimulateParams): SimulationResult {
  return { kind: 'c', title: 'not available yet', steps: [], findings: [], summary: ['simulation is not implemented yet'], markdown: 'Simulation is not implemented yet.' };
}
