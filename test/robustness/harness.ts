// Runs one input through every editor-agnostic surface: analysis, all rules, hovers, inlay hints, code lenses,
// simulation of the whole text and of each function, and incremental edits through the DocumentStore.
// Exceptions that escape are failures; exceptions that rules throw (caught by computeDiagnostics) are collected
// as internal errors so the suite can report them.
import { parseC } from '../../server/src/analysis/parser';
import { fullAnalysis } from '../../server/src/analysis/incremental';
import { DocumentStore } from '../../server/src/analysis/store';
import { computeDiagnostics, onInternalError } from '../../server/src/features/diagnostics';
import { hoverAt } from '../../server/src/features/hover';
import { inlayHints } from '../../server/src/features/inlay';
import { codeLenses } from '../../server/src/features/codelens';
import { simulateRequest } from '../../server/src/features/simulateRequest';
import { rng } from '../../bench/synth.mjs';

export interface Outcome {
  ms: number;
  /** Rule exceptions caught by computeDiagnostics. */
  internal: string[];
  /** Exceptions that escaped a surface (the suite fails on these). */
  escaped: string[];
  /** "internal error" reported inside a simulation result (the simulator catches its own exceptions). */
  simInternal: string[];
  findings: number;
  refs: number;
}

export interface ExerciseOptions {
  simulate?: boolean;
  edits?: number;
  hovers?: number;
}

let internalSink: string[] = [];
onInternalError((rule, e) => { internalSink.push(`rule ${rule.id}: ${describe(e)}`); });

export function describe(e: unknown): string {
  if (e instanceof Error) {
    const frame = e.stack?.split('\n').slice(1).find((l) => /server\/src|out\/test/.test(l))?.trim() ?? '';
    return `${e.name}: ${e.message.slice(0, 200)}${frame ? ` ${frame}` : ''}`;
  }
  return String(e);
}

export function exercise(name: string, text: string, opts: ExerciseOptions = {}): Outcome {
  const t0 = performance.now();
  internalSink = [];
  const escaped: string[] = [];
  const simInternal: string[] = [];
  const simCheck = (what: string, r: unknown): void => {
    const m = /internal error[^"\\]{0,160}/i.exec(JSON.stringify(r));
    if (m) simInternal.push(`${what}: ${m[0]}`);
  };
  let findings = 0;
  let refs = 0;
  const guard = (what: string, f: () => void): void => {
    try { f(); } catch (e) { escaped.push(`${what}: ${describe(e)}`); }
  };
  const uri = `file:///robustness/${encodeURIComponent(name)}.c`;
  let tree: ReturnType<typeof parseC> | undefined;
  guard('parse', () => { tree = parseC(text); });
  if (tree) {
    const t = tree;
    guard('analysis', () => {
      const doc = fullAnalysis(text, uri, t);
      refs = doc.refs.length;
      void doc.parseErrors;
      guard('diagnostics', () => { findings = computeDiagnostics(doc, {}).length; });
      const r = rng(text.length + 1);
      guard('hover', () => {
        for (const ref of doc.refs.slice(0, 200)) hoverAt(doc, ref.start);
        for (let i = 0; i < (opts.hovers ?? 20); i++) hoverAt(doc, Math.floor(r() * (text.length + 2)) - 1);
      });
      guard('inlay', () => { inlayHints(doc, 0, text.length); inlayHints(doc, text.length, 0); });
      guard('codelens', () => { codeLenses(doc); });
      if (opts.simulate !== false) {
        guard('simulate', () => { simCheck('simulate', simulateRequest(doc, { textDocument: { uri } })); });
        guard('simulate-fn', () => { for (const fn of doc.functions.slice(0, 5)) simCheck(`simulate ${fn.name}`, simulateRequest(doc, { textDocument: { uri }, functionName: fn.name })); });
        guard('simulate-range', () => {
          const p = doc.lines.positionAt(Math.floor(text.length / 3));
          simCheck('simulate range', simulateRequest(doc, { textDocument: { uri }, range: { start: p, end: doc.lines.positionAt(text.length) } }));
        });
      }
    });
    t.delete();
  }
  const edits = opts.edits ?? 5;
  if (edits > 0) {
    guard('store', () => {
      const store = new DocumentStore();
      store.open(uri, 'c', 1, text);
      const r = rng(text.length + 7);
      let cur = text;
      for (let i = 0; i < edits; i++) {
        const lines = cur.split('\n');
        const line = Math.floor(r() * (lines.length + 2)) - 1;
        const character = Math.floor(r() * 80) - 2;
        const ins = ['x', '}', '{', '\n', '', '/*', '"'][Math.floor(r() * 7)];
        store.change(uri, i + 2, [{ range: { start: { line, character }, end: { line, character: character + Math.floor(r() * 3) } }, text: ins }]);
        cur = store.text(uri) ?? cur;
        const doc = store.analysis(uri);
        if (doc) computeDiagnostics(doc, {});
      }
      store.close(uri);
    });
  }
  return { ms: performance.now() - t0, internal: internalSink, escaped, simInternal, findings, refs };
}
