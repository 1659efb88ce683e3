// Caret-marked hover fixtures (test/fixtures/hover/*.c): `//   ^ form: text` under a line means the hover at that
// column of the nearest code line above exists, comes from `form` and contains `text`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText, refAt } from '../../server/src/analysis/document';
import { hoverAt } from '../../server/src/features/hover';
import { FIXTURES } from '../paths';

const DIR = join(FIXTURES, 'hover');

interface Marker { line: number; column: number; form: string; text: string; markerLine: number }

function markers(text: string): Marker[] {
  const lines = text.split('\n');
  const out: Marker[] = [];
  lines.forEach((l, i) => {
    const m = /^(\s*\/\/)(\s*)\^\s*([a-z0-9-]+):\s*(.*)$/.exec(l);
    if (!m) return;
    const column = l.indexOf('^');
    let target = i - 1;
    while (target >= 0 && /^\s*\/\/\s*\^/.test(lines[target])) target--;
    out.push({ line: target, column: expandTabs(l, column, lines[target]), form: m[3], text: m[4].trim(), markerLine: i + 1 });
  });
  return out;
}

/** Marker columns count a tab as in the target line: both lines start with the same indentation. */
function expandTabs(_marker: string, column: number, _target: string): number {
  return column;
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.c'))) {
  test(`hover fixture ${file}`, async () => {
    await initParser();
    const text = readFileSync(join(DIR, file), 'utf8');
    const doc = analyzeText(text, `file:///${file}`);
    const ms = markers(text);
    assert.ok(ms.length > 10, 'fixture has markers');
    const failures: string[] = [];
    for (const m of ms) try {
      const offset = doc.lines.offsetAt({ line: m.line, character: m.column });
      const ref = refAt(doc, offset);
      assert.ok(ref, `${file}:${m.markerLine}: no reference at ${m.line + 1}:${m.column + 1} ('${text.split('\n')[m.line].slice(m.column, m.column + 20)}')`);
      assert.equal(ref.form, m.form, `${file}:${m.markerLine}: form`);
      const h = hoverAt(doc, offset);
      assert.ok(h, `${file}:${m.markerLine}: no hover`);
      assert.ok(h.markdown.includes(m.text), `${file}:${m.markerLine}: hover lacks '${m.text}':\n${h.markdown}`);
      assert.match(h.markdown, /Source:/, 'every card cites a source');
    } catch (e) {
      failures.push(e instanceof Error ? e.message.split('\n')[0] : String(e));
    }
    assert.deepEqual(failures, []);
  });
}

test('hover on an accessor call says whether the width fits', async () => {
  await initParser();
  const doc = analyzeText('void f(void) { u32 x = vmcs_read32(GUEST_PDPTR0); u64 y = vmcs_read64(GUEST_PDPTR0); }');
  const bad = hoverAt(doc, doc.text.indexOf('GUEST_PDPTR0') + 2)!;
  assert.match(bad.markdown, /does not fit/);
  assert.match(bad.markdown, /vmcs_read64/);
  const good = hoverAt(doc, doc.text.lastIndexOf('GUEST_PDPTR0') + 2)!;
  assert.match(good.markdown, /fits this 64-bit field/);
});

test('no hover on unrelated identifiers, numbers and members', async () => {
  await initParser();
  const doc = analyzeText('void f(struct foo *p) { p->int_ctl = 0x1GUEST_RIP; int GUEST = 3; p->guest_pdptr0 = 1; }');
  assert.equal(hoverAt(doc, doc.text.indexOf('int_ctl') + 1), undefined, 'int_ctl of an unknown object');
  assert.equal(hoverAt(doc, doc.text.indexOf('GUEST =') + 1), undefined);
  assert.equal(hoverAt(doc, doc.text.indexOf('guest_pdptr0') + 1), undefined, 'not a vmcs12 object');
});
