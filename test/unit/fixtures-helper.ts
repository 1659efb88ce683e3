// Diagnostic fixtures: C files under test/fixtures/rules/<rule-id>/ with markers in comments.
//   `/* expect: rule-id */` or `// expect: rule-id` at the END of a line: that line must carry a finding of rule-id.
//   `// expect-none: rule-id` anywhere (by convention at the top): the file must have no finding of rule-id.
// The helper checks the exact set of lines per rule: every marked line has a finding, and no unmarked line has one.
// Several ids may be listed, separated by commas: `// expect: int-ctl-writeback, vmcb-clean-bits`.
//   Caret form: a line holding only a comment that starts with `^` — `/*   ^ rule-id */` or `//   ^ rule-id` —
//   expects a finding of rule-id on the nearest code line above whose range covers the caret's column.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeText } from '../../server/src/analysis/document';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import type { Finding, RuleContext } from '../../server/src/features/findings';
import { cFiles, FIXTURES, ROOT } from '../paths';

export interface FixtureExpectations {
  /** rule id → 1-based line numbers that must carry a finding. */
  expected: Map<string, Set<number>>;
  /** Rules that must produce nothing in this file. */
  none: Set<string>;
  /** Caret markers: rule id → (1-based line, 0-based column) a finding must cover. */
  carets: Map<string, Array<{ line: number; column: number }>>;
}

const EXPECT = /(?:\/\*|\/\/)\s*expect:\s*([a-z0-9,\s-]+?)\s*(?:\*\/)?\s*$/;
const EXPECT_NONE = /(?:\/\*|\/\/)\s*expect-none:\s*([a-z0-9,\s-]+?)\s*(?:\*\/)?\s*$/;
const CARET_LINE = /^\s*(?:\/\/|\/\*)\s*\^/;
const CARET = /\^\s*([a-z0-9-]+)/g;

export function parseExpectations(text: string): FixtureExpectations {
  const expected = new Map<string, Set<number>>();
  const none = new Set<string>();
  const carets = new Map<string, Array<{ line: number; column: number }>>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (CARET_LINE.test(line)) {
      let target = i - 1;
      while (target >= 0 && (CARET_LINE.test(lines[target]) || lines[target].trim() === '')) target--;
      CARET.lastIndex = 0;
      let c: RegExpExecArray | null;
      while ((c = CARET.exec(line)) !== null) {
        const set = expected.get(c[1]) ?? new Set<number>();
        set.add(target + 1);
        expected.set(c[1], set);
        const list = carets.get(c[1]) ?? [];
        list.push({ line: target + 1, column: c.index });
        carets.set(c[1], list);
      }
      return;
    }
    const n = EXPECT_NONE.exec(line);
    if (n) {
      for (const id of n[1].split(/[\s,]+/).filter(Boolean)) none.add(id);
      return;
    }
    const m = EXPECT.exec(line);
    if (!m) return;
    for (const id of m[1].split(/[\s,]+/).filter(Boolean)) {
      const set = expected.get(id) ?? new Set<number>();
      set.add(i + 1);
      expected.set(id, set);
    }
  });
  return { expected, none, carets };
}

/** Lines (1-based) of findings of `rule`. */
export function findingLines(text: string, findings: Finding[], rule: string): Set<number> {
  const doc = analyzeText(text);
  return new Set(findings.filter((f) => f.rule === rule).map((f) => doc.lines.positionAt(f.start).line + 1));
}

export interface FixtureResult { file: string; text: string; findings: Finding[] }

/** Run every rule (or `rule` only) over one fixture file; initParser() must have resolved. */
export function runFixture(file: string, rule?: string, ctx?: RuleContext): FixtureResult {
  const text = readFileSync(file, 'utf8');
  const doc = analyzeText(text, `file://${file}`);
  const findings = computeDiagnostics(doc, {}, rule ? new Set([rule]) : undefined, ctx);
  return { file, text, findings };
}

/** Assert the exact set of lines per rule given by the markers. Returns the findings for further checks. */
export function checkFixture(file: string, rule: string, ctx?: RuleContext): Finding[] {
  const { text, findings } = runFixture(file, rule, ctx);
  const exp = parseExpectations(text);
  const want = exp.expected.get(rule) ?? new Set<number>();
  if (!exp.none.has(rule) && want.size === 0) {
    assert.fail(`${file}: no expect/expect-none marker for ${rule}`);
  }
  const got = findingLines(text, findings, rule);
  const fmt = (s: Set<number>): string => [...s].sort((a, b) => a - b).join(', ') || '(none)';
  const messages = findings.filter((f) => f.rule === rule).map((f) => `  ${f.message.slice(0, 200)}`).join('\n');
  assert.equal(fmt(got), fmt(want), `${file}: lines with ${rule} findings\n${messages}`);
  const doc = analyzeText(text);
  for (const c of exp.carets.get(rule) ?? []) {
    const covered = findings.some((f) => {
      if (f.rule !== rule) return false;
      const s = doc.lines.positionAt(f.start);
      const e = doc.lines.positionAt(Math.max(f.end, f.start + 1));
      return s.line + 1 === c.line && s.character <= c.column && (e.line > s.line || c.column < e.character);
    });
    assert.ok(covered, `${file}:${c.line}: no ${rule} finding covers column ${c.column + 1}\n${messages}`);
  }
  return findings.filter((f) => f.rule === rule);
}

/** The fixture files of one rule: test/fixtures/rules/<rule>/*.c (sorted). */
export function fixtureFiles(rule: string): string[] {
  const dir = join(FIXTURES, 'rules', rule);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort().map((f) => join(dir, f));
}

/**
 * Every function (by name) of every C fixture and example, with its analysed document: what the simulation invariants
 * (sim-resume.test.ts, sim-symbolic.test.ts) run over. Requires initParser().
 */
export function fixtureFunctions(): Array<{ file: string; doc: ReturnType<typeof analyzeText>; name: string }> {
  const out: Array<{ file: string; doc: ReturnType<typeof analyzeText>; name: string }> = [];
  for (const file of [...cFiles(FIXTURES), ...cFiles(join(ROOT, 'examples'))]) {
    const doc = analyzeText(readFileSync(file, 'utf8'), `file://${file}`);
    for (const name of new Set(doc.functions.map((f) => f.name))) out.push({ file, doc, name });
  }
  return out;
}
