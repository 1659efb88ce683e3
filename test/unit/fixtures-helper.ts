// Diagnostic fixtures: C files under test/fixtures/rules/<rule-id>/ with markers in comments.
//   `/* expect: rule-id */` or `// expect: rule-id` at the END of a line: that line must carry a finding of rule-id.
//   `// expect-none: rule-id` anywhere (by convention at the top): the file must have no finding of rule-id.
// The helper checks the exact set of lines per rule: every marked line has a finding, and no unmarked line has one.
// Several ids may be listed, separated by commas: `// expect: int-ctl-writeback, vmcb-clean-bits`.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeText } from '../../server/src/analysis/document';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import type { Finding, RuleContext } from '../../server/src/features/findings';
import { FIXTURES } from '../paths';

export interface FixtureExpectations {
  /** rule id → 1-based line numbers that must carry a finding. */
  expected: Map<string, Set<number>>;
  /** Rules that must produce nothing in this file. */
  none: Set<string>;
}

const EXPECT = /(?:\/\*|\/\/)\s*expect:\s*([a-z0-9,\s-]+?)\s*(?:\*\/)?\s*$/;
const EXPECT_NONE = /(?:\/\*|\/\/)\s*expect-none:\s*([a-z0-9,\s-]+?)\s*(?:\*\/)?\s*$/;

export function parseExpectations(text: string): FixtureExpectations {
  const expected = new Map<string, Set<number>>();
  const none = new Set<string>();
  text.split('\n').forEach((line, i) => {
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
  return { expected, none };
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
  return findings.filter((f) => f.rule === rule);
}

/** The fixture files of one rule: test/fixtures/rules/<rule>/*.c (sorted). */
export function fixtureFiles(rule: string): string[] {
  const dir = join(FIXTURES, 'rules', rule);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort().map((f) => join(dir, f));
}
