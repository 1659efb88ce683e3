// Simulation of a selected flow: a written flow (seed 004 notation) or a C region of KVM code, run on the
// executable machine in model/machine. Editor-agnostic: plain data in, plain data out.
import type { DocumentAnalysis } from '../../analysis/document';
import { analyzeText } from '../../analysis/document';
import type { SimulationResult } from '../../protocol/simulation';
import { simulateCDocument, type SimulateCOptions } from './sweep';
import { simulateFlowLines } from './flow';
import { renderSimulationMarkdown } from './render';
import type { ResumeStats } from './resume';

export { looksLikeFlow, stripMarkers } from './flowParse';
export { renderSimulationMarkdown } from './render';
export type { SimulateCOptions } from './sweep';

function failed(kind: SimulationResult['kind'], title: string, line: number, e: unknown): SimulationResult {
  return {
    kind, title, steps: [], summary: ['simulation failed'], markdown: '',
    findings: [{ line, severity: 'error', rule: 'simulator-error', message: `internal error: ${(e as Error)?.message ?? String(e)}` }],
  };
}

/** Simulate a written flow. `lineOffset` = 0-based line of the text's first line in its document. Never throws. */
export function simulateFlowText(text: string, opts: { lineOffset?: number; title?: string } = {}): SimulationResult {
  let result: SimulationResult;
  try {
    result = simulateFlowLines(text, opts);
  } catch (e) {
    result = failed('flow', opts.title ?? 'Written flow', (opts.lineOffset ?? 0) + 1, e);
  }
  result.markdown = renderSimulationMarkdown(result);
  return result;
}

/**
 * Simulate a C function or region of an analysed document (analysis/document.ts; the parser must be initialised).
 * `startLine`/`endLine` are 1-based and inclusive; `functionName` wins over the lines. Never throws.
 */
export function simulateC(doc: DocumentAnalysis, opts: SimulateCOptions = {}): SimulationResult {
  let result: SimulationResult;
  try {
    result = simulateCDocument(doc, opts);
  } catch (e) {
    result = failed('c', opts.functionName ?? 'C region', opts.startLine ?? 1, e);
  }
  result.markdown = renderSimulationMarkdown(result);
  return result;
}

/**
 * Benchmark: a generated 100-line KVM-style region whose conditions read `n` independent configuration variables
 * (2^n configurations, n ≤ 10). Requires initParser(). Returns the number of configurations and the time.
 */
export function sweepBenchmark(n = 10): { configurations: number; ms: number; lines: number; resumed: number; skipped: number; symbolic: number; split: number; aborted: number } {
  const text = benchmarkSource(Math.max(1, Math.min(10, n)));
  const doc = analyzeText(text, 'file:///bench.c');
  const stats: Partial<ResumeStats> = {};
  const t0 = performance.now();
  const r = simulateCDocument(doc, { functionName: 'sync_vmcs02_to_vmcs12', stats });
  const ms = performance.now() - t0;
  return {
    configurations: r.configurations?.length ?? 0, ms, lines: text.split('\n').length, resumed: stats.resumed ?? 0, skipped: stats.skipped ?? 0,
    symbolic: stats.symbolic ?? 0, split: stats.split ?? 0, aborted: stats.aborted ?? 0,
  };
}

const BENCH_PREDICATES = [
  'enable_ept', 'vmx->nested.nested_run_pending', 'sev_es_guest(vcpu->kvm)', 'nested_cpu_has_posted_intr(vmcs12)', 'nested_vnmi_enabled(svm)',
  'nested_cpu_has_vmwrite_any_field(vcpu)', 'is_guest_mode(vcpu)', 'nested_cpu_has_vid(vmcs12)', 'nested_cpu_has_preemption_timer(vmcs12)', 'vgif',
];

/** KVM-style text: each predicate guards a few vmcs12 <- vmcs02 copies; padded to ~100 lines. */
export function benchmarkSource(n: number): string {
  const out = ['static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)', '{', '\tstruct vcpu_vmx *vmx = to_vmx(vcpu);', ''];
  const fields = ['guest_rflags = vmcs_readl(GUEST_RFLAGS)', 'guest_cs_ar_bytes = vmcs_read32(GUEST_CS_AR_BYTES)',
    'guest_ss_ar_bytes = vmcs_read32(GUEST_SS_AR_BYTES)', 'guest_interruptibility_info = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO)',
    'guest_cr3 = vmcs_readl(GUEST_CR3)', 'guest_es_selector = vmcs_read16(GUEST_ES_SELECTOR)', 'guest_ds_limit = vmcs_read32(GUEST_DS_LIMIT)',
    'guest_linear_address = vmcs_readl(GUEST_LINEAR_ADDRESS)'];
  let k = 0;
  for (let i = 0; i < n; i++) {
    out.push(`\tif (${BENCH_PREDICATES[i]}) {`);
    for (let j = 0; j < 6; j++) out.push(`\t\tvmcs12->${fields[k++ % fields.length]};`);
    out.push('\t} else {', `\t\tvmcs12->${fields[k++ % fields.length]};`, '\t}');
  }
  while (out.length < 98) out.push(`\tvmcs12->${fields[k++ % fields.length]};`);
  out.push('}', '');
  return out.join('\n');
}
