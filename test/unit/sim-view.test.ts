// What the simulation views rely on: the default configuration runs the interesting branch, a requested
// configuration (a clicked sweep row) is the one whose steps come back, flow titles name the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { simulateRequest } from '../../server/src/features/simulateRequest';
import { FIXTURES } from '../paths';

const FILE = join(FIXTURES, 'sim', 'sync_pdptr_v52.c');

test('a requested configuration is the one shown; the default shows findings or the most work', async () => {
  await initParser();
  const uri = 'file:///x/nested.c';
  const doc = analyzeText(readFileSync(FILE, 'utf8'), uri);
  const base = simulateRequest(doc, { textDocument: { uri }, functionName: 'sync_vmcs02_to_vmcs12' });
  assert.ok(base.configurations && base.configurations.length >= 2);
  assert.ok(base.shownConfiguration, 'the shown configuration is named');
  const shownIdx = base.configurations.findIndex((c) => JSON.stringify(c.predicates) === JSON.stringify(base.shownConfiguration));
  assert.ok(shownIdx >= 0);
  const withFindings = base.configurations.filter((c) => c.findings.some((f) => f.severity === 'warning' || f.severity === 'error'));
  if (withFindings.length) assert.ok(base.configurations[shownIdx].findings.length > 0, 'default: a configuration with findings');
  for (const c of base.configurations) {
    const r = simulateRequest(doc, { textDocument: { uri }, functionName: 'sync_vmcs02_to_vmcs12', configuration: c.predicates });
    assert.deepEqual(r.shownConfiguration, c.predicates);
    // the steps are that configuration's: its undefined copies appear exactly when it has such findings
    const undefinedCopies = r.steps.some((s) => s.changes.some((x) => x.status === 'undefined' && /^vmcs12\./.test(x.location)));
    assert.equal(undefinedCopies, c.findings.some((f) => f.rule === 'undefined-value-copied'), JSON.stringify(c.predicates));
  }
  doc.tree.delete();
});

test('flow titles name the file (not always "Written flow")', async () => {
  await initParser();
  const uri = 'file:///x/xfd-passthrough.kvmflow';
  const doc = analyzeText(readFileSync(join(FIXTURES, 'sim', 'seed004.kvmflow'), 'utf8'), uri);
  assert.equal(simulateRequest(doc, { textDocument: { uri } }).title, 'xfd-passthrough.kvmflow');
  const part = simulateRequest(doc, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } } });
  assert.equal(part.title, 'xfd-passthrough.kvmflow (lines 1-3)');
  doc.tree.delete();
});
