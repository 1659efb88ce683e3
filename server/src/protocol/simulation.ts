// Wire contract of the `kvmLens/simulate` request and of `kvm-lens simulate --json`.
// Plain data; shared by the server, the CLI and the VS Code webview.

export type Actor = 'G' | 'L1' | 'L2' | 'HK' | 'HU' | 'HW' | 'KVM';
export type FindingSeverity = 'error' | 'warning' | 'info' | 'hint';

export interface SimStateChange {
  /** Object and field, e.g. `vmcs12.guest_pdptr0`, `hw.IA32_XFD`, `host.fpstate.xfd`, `msr_bitmap.IA32_XFD.write`. */
  location: string;
  /** Value after the step: a hex/decimal string, `undefined (why)` or `stale (since step N)`. */
  value: string;
  status: 'value' | 'undefined' | 'stale' | 'copied' | 'intercepted';
}

export interface SimStep {
  index: number;
  /** 1-based line in the simulated document. */
  line: number;
  actor: Actor;
  /** What happened, e.g. `WRMSR IA32_XFD <- 0x40000` or `VMREAD GUEST_PDPTR0`. */
  op: string;
  /** For guest operations: whether the model decided a VM exit happens. */
  vmExit?: boolean;
  /** Why (the rule), with a source citation. */
  explanation?: string;
  source?: string;
  /** False for narration lines the model does not execute. */
  simulated: boolean;
  changes: SimStateChange[];
  /** Privilege level/guest level after the step, for the timeline: L0 (host kernel), HU, L1, L2. */
  level: 'L0' | 'HU' | 'L1' | 'L2';
  /** C simulation: the current control structure (loaded VMCS `vmcs01`/`vmcs02`/`shadow`, or the VMCB svm->vmcb names). */
  control?: string;
  /** C simulation: the path condition the step runs under (what the configuration does not decide), if any. */
  path?: string;
  /**
   * C simulation, a step inside a called function: the function (innermost) and the line of the call in the simulated
   * function that led here (`line` is the callee's own line).
   */
  via?: { fn: string; line: number };
}

export interface SimFinding {
  line: number;
  severity: FindingSeverity;
  rule: string;
  message: string;
}

export interface SimConfiguration {
  /** Predicate values of this configuration, e.g. { enable_ept: true, nested_ept: false, paging: 'pae' }. */
  predicates: Record<string, boolean | string>;
  findings: SimFinding[];
  /** What flowed where: `vmcs12.guest_pdptr0 <- vmcs02.GUEST_PDPTR0 (undefined: ...)`. */
  flows: string[];
}

export interface SimFieldValue {
  location: string;
  status: 'written' | 'cleared' | 'undefined' | 'unmodified' | 'unknown';
  line?: number;
  /** The value (or why it is undefined) as written. */
  by?: string;
  path?: string;
}

export interface SimulationResult {
  kind: 'flow' | 'c';
  title: string;
  steps: SimStep[];
  findings: SimFinding[];
  configurations?: SimConfiguration[];
  /**
   * C simulation: the VMCS/VMCB fields the shown run wrote, as the engine's abstract values (analysis/engine/values.ts):
   * written / cleared / undefined / unknown, with the line that wrote them and the path condition it ran under.
   */
  fields?: SimFieldValue[];
  /** One-line summaries, e.g. "in 6 of 16 configurations vmcs12.guest_pdptr0..3 receive undefined values". */
  summary: string[];
  /** The whole result rendered as markdown, for editors without webviews. */
  markdown: string;
  /** The configuration whose steps are shown, when the request named one (SimulateParams.configuration). */
  shownConfiguration?: Record<string, boolean | string>;
}

export interface SimulateParams {
  textDocument: { uri: string };
  /** Selection to simulate; whole document when absent. */
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** Force interpretation as a written flow (seed 004 notation) or as C. Auto-detected when absent. */
  mode?: 'flow' | 'c';
  /** Simulate the function with this name (code lens). */
  functionName?: string;
  /** Show the steps of this configuration (predicate values, as in SimConfiguration.predicates): a clicked sweep row. */
  configuration?: Record<string, boolean | string>;
}

export const SIMULATE_REQUEST = 'kvmLens/simulate';
