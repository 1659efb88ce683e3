// Presentation: short diagnostic messages with the why and the citation apart, concise hover cards, terminal wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conciseCard, presentFinding, shorten, splitCitation, wrap } from '../../server/src/features/present';
import { entityCard } from '../../server/src/features/hover';
import { allEntities } from '../../server/src/model/index';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../paths';

test('splitCitation takes the trailing [..] with nested brackets', () => {
  assert.deepEqual(splitCitation('x is wrong. [SDM §1 (a [b]); Linux c]'), { body: 'x is wrong.', citation: 'SDM §1 (a [b]); Linux c' });
  assert.deepEqual(splitCitation('no citation'), { body: 'no citation' });
  assert.deepEqual(splitCitation('only [a]').citation, 'a');
});

test('shorten keeps a whole first clause, never cuts inside parentheses', () => {
  const s = 'GUEST_PDPTR0 is read on a path where the VM exit may have left it undefined: the CPU stores the PDPTEs (only when "enable EPT" is 1 and the guest was using PAE paging, and more text follows here) and so on.';
  assert.equal(shorten(s, 160), 'GUEST_PDPTR0 is read on a path where the VM exit may have left it undefined…');
  const p = `${'word '.repeat(20)}(a parenthesis that runs past the limit ${'x '.repeat(60)})`;
  const cut = shorten(p, 120);
  assert.ok(cut.length <= 120);
  assert.equal((cut.match(/\(/g) ?? []).length, (cut.match(/\)/g) ?? []).length, cut);
  assert.equal(shorten('e.g. this is fine. Next.', 12), 'e.g. this…');
});

test('every finding of the examples gets a message ≤ 160 characters, the full text and the source kept', async () => {
  await initParser();
  for (const f of ['examples/vmx_nested_sync.c', 'examples/svm_nested_sync.c']) {
    const doc = analyzeText(readFileSync(join(ROOT, f), 'utf8'), `file:///${f}`);
    const found = computeDiagnostics(doc);
    assert.ok(found.length > 5);
    for (const x of found) {
      const t = presentFinding(x);
      assert.ok(t.short.length <= 160, t.short);
      assert.ok(t.citation.length > 10, x.message);
      assert.ok(!t.why || t.why.startsWith(t.short.replace(/…$/, '')), `${t.short}\n${t.why}`);
    }
    doc.tree.delete();
  }
});

test('concise cards: head line kept, at most 8 lines after it, an explain link, no "--json" pointer', () => {
  for (const e of allEntities()) {
    const full = entityCard(e);
    const c = conciseCard(full, { name: e.name, explainLink: 'command:kvmLens.explainField?x' });
    const lines = c.split('\n').filter((l) => l.trim());
    assert.equal(lines[0], full.split('\n')[0]);
    assert.ok(lines.length <= 10, `${e.name}: ${lines.length} lines\n${c}`);
    assert.match(lines[lines.length - 1], /^\[Explain .+…\]\(command:kvmLens\.explainField\?x\)/);
    assert.doesNotMatch(c, /--json/);
    for (const l of lines.slice(1, -1)) assert.ok(l.length <= 240, `${e.name}: ${l}`);
  }
});

test('wrap keeps spacing and indents continuation lines', () => {
  assert.deepEqual(wrap('  1  line 13  a b c d e f g h i j k l m n o p', 24, '      '), ['  1  line 13  a b c d e', '      f g h i j k l m n', '      o p']);
});

test('Settings list every rule id with its severities (package.json kvmLens.rules)', async () => {
  const { RULES } = await import('../../server/src/features/diagnostics');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { properties?: Record<string, { enum?: string[] }> }> } } };
  const props = pkg.contributes.configuration.properties['kvmLens.rules'].properties ?? {};
  for (const r of RULES) {
    assert.deepEqual(props[r.id]?.enum, ['error', 'warning', 'info', 'hint', 'off'], `${r.id} missing from package.json: run npm run build && node scripts/sync-rule-settings.mjs`);
  }
});
