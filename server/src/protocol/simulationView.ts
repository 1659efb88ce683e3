// Facts every view of a simulation result shows the same way (the webview, the terminal, the markdown): how many VM
// exits the trace has, and which steps are faults. Pure functions over the wire types.
import type { SimFinding, SimStep } from './simulation';

/** A VM exit / #VMEXIT in the trace: a guest operation the model says exits, or the hardware exit event itself. */
export function isExitStep(s: SimStep): boolean {
  return s.vmExit === true || (s.actor === 'HW' && /^(VM exit|#VMEXIT)\b/.test(String(s.op ?? '')));
}

export function exitCount(steps: readonly SimStep[]): number {
  return steps.filter(isExitStep).length;
}

/** Why a step is a fault: a value it produces is undefined/stale, or a warning/error finding is on its line. */
export function faultOf(s: SimStep, findings: readonly SimFinding[]): string | undefined {
  const bad = (Array.isArray(s.changes) ? s.changes : []).filter((c) => c?.status === 'undefined' || c?.status === 'stale');
  const f = findings.find((x) => x.line === s.line && (x.severity === 'error' || x.severity === 'warning'));
  if (f) return `${f.severity} ${f.rule}`;
  if (bad.length) return `${bad[0].location} ${bad[0].status}${bad.length > 1 ? ` (+${bad.length - 1})` : ''}`;
  return undefined;
}
