// Library entry (dist/lib.js): the editor-agnostic API, used by benchmarks and scripts.
export * as model from './model/index';
export * as analysis from './analysis/index';
export { hoverAt, entityCard, cardForRef } from './features/hover';
export * as conditions from './analysis/conditions';
export * as roles from './analysis/roles';
export { computeDiagnostics, RULES } from './features/diagnostics';
export { sweepBenchmark, benchmarkSource, simulateC, simulateFlowText } from './features/simulate/index';
export { conciseCard, presentFinding, shorten, wrap, splitCitation } from './features/present';
export * as nestedChecks from './analysis/nestedChecks';
export { runNestedAudit } from './features/nestedAudit';
