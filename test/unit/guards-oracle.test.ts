// The rules' path conditions (conditionAt: the engine's forward exploration, analysis/reach.ts) against an independent
// forward path explorer written for the test (pathOracle.ts: branchArms at each branch, exits leave, gotos rejoin at
// their label, paths joined per statement, formulas taken from the syntactic guards), and the syntactic guards alone
// (syntacticConditionAt) against both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { conditionAt, functionReach, guardsAt, syntacticConditionAt } from '../../server/src/analysis/conditions';
import { functionAt } from '../../server/src/analysis/document';
import { statementAt } from '../../server/src/analysis/reach';
import { and } from '../../server/src/analysis/engine/formula';
import { equivalent, explore } from './pathOracle';
import { cFiles, FIXTURES } from '../paths';


test('rules path conditions equal the forward explorer on every fixture statement; the syntactic guards alone miss code after a label reached only by gotos', async () => {
  await initParser();
  let compared = 0;
  const differ: string[] = [];
  const syntactic: string[] = [];
  for (const file of cFiles(FIXTURES)) {
    const doc = analyzeText(readFileSync(file, 'utf8'), `file://${file}`);
    for (const fn of doc.functions) {
      for (const { node, pc } of explore(doc, fn) ?? []) {
        compared++;
        const where = `${file.split('/').slice(-2).join('/')}:${node.startPosition.row + 1}`;
        if (equivalent(pc, conditionAt(doc, node.startIndex)) !== true) differ.push(where);
        if (equivalent(pc, syntacticConditionAt(doc, node.startIndex)) === false) syntactic.push(where);
      }
    }
  }
  assert.ok(compared > 500, `compared ${compared}`);
  // The explorer forgets what a condition said about an lvalue once a statement assigns it (`if
  // (vmx->nested.dirty_vmcs12) { ...; vmx->nested.dirty_vmcs12 = false; <here> }`); the oracle does not model
  // assignments.
  assert.deepEqual(differ, ['vmx/nested.c:24', 'vmcs-needless-write/seed001-after.c:15']);
  // `return x; label: ...`: the syntactic regions do not see that the fall-through is dead after the label.
  assert.deepEqual(syntactic, ['audit/vmx-5x.c:66', 'audit/vmx-nested.c:161']);
});

test('conditionAt skips the guard walk only where it finds nothing: every field reference and statement of the fixtures', async () => {
  await initParser();
  let compared = 0;
  const differ: string[] = [];
  for (const file of cFiles(FIXTURES)) {
    const doc = analyzeText(readFileSync(file, 'utf8'), `file://${file}`);
    const offsets = [...doc.refs.map((r) => r.start), ...doc.functions.flatMap((fn) => (explore(doc, fn) ?? []).map((x) => x.node.startIndex))];
    for (const offset of offsets) {
      const fn = functionAt(doc, offset);
      const reach = fn && functionReach(doc, fn);
      const s = reach && statementAt(reach, offset);
      if (!s || s.pc.kind === 'false') continue;
      // The recorded condition conjoined with every guard strictly inside the statement, always walked.
      const walked = and(s.pc, ...guardsAt(doc, offset)
        .filter((g) => g.start >= s.start && g.end <= s.end && (g.start > s.start || g.end < s.end)).map((g) => g.formula));
      compared++;
      if (equivalent(walked, conditionAt(doc, offset)) !== true) differ.push(`${file.split('/').slice(-2).join('/')}:${offset}`);
    }
  }
  assert.ok(compared > 1000, `compared ${compared}`);
  assert.deepEqual(differ, []);
});
