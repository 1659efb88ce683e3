// Patch reading and in-memory application (features/review): dialects, fuzz, offsets, rejects, the line diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePatch } from '../../server/src/features/review/patch';
import { applyHunks, HunkError, reverseHunks } from '../../server/src/features/review/apply';
import { diffLines } from '../../server/src/features/review/linediff';

const FILE = [
  'static void f(struct kvm_vcpu *vcpu)',
  '{',
  '\tint a = 1;',
  '\tint b = 2;',
  '\tint c = 3;',
  '\tint d = 4;',
  '\tint e = 5;',
  '}',
  '',
].join('\n');

const DIFF = ['--- a/x.c', '+++ b/x.c', '@@ -3,5 +3,5 @@ static void f(struct kvm_vcpu *vcpu)', ' \tint a = 1;', ' \tint b = 2;', '-\tint c = 3;', '+\tint c = 30;', ' \tint d = 4;', ' \tint e = 5;', ''].join('\n');

test('git diff: one file, one complete hunk', () => {
  const p = parsePatch(DIFF);
  assert.equal(p.patches.length, 1);
  const f = p.patches[0].files[0];
  assert.deepEqual([f.oldPath, f.newPath, f.headerless], ['x.c', 'x.c', false]);
  assert.equal(f.hunks[0].complete, true);
  assert.deepEqual(f.hunks[0].lines.map((l) => l.kind).join(''), '  -+  ');
  const r = applyHunks(FILE, f.hunks);
  assert.match(r.text, /int c = 30;/);
  assert.deepEqual([r.removed, r.added, r.placements[0].offset], [[5], [5], 0]);
});

test('offset and fuzz: the hunk is found where the file moved it, outer context may differ', () => {
  const moved = `/* a */\n/* b */\n${FILE.replace('int a = 1;', 'int a = 7;')}`;
  const h = parsePatch(DIFF).patches[0].files[0].hunks;
  const r = applyHunks(moved, h);
  assert.equal(r.placements[0].offset, 2);
  assert.equal(r.placements[0].fuzz, 1);
  assert.throws(() => applyHunks(moved, h, { fuzz: 0 }), (e: unknown) => e instanceof HunkError && /hunk 1 of 1 \(@@ -3,5 \+3,5 @@/.test(e.message));
});

test('a removed line that differs is never fuzzed away; the error says what the file has', () => {
  const h = parsePatch(DIFF).patches[0].files[0].hunks;
  assert.throws(() => applyHunks(FILE.replace('int c = 3;', 'int c = 4;'), h),
    (e: unknown) => e instanceof HunkError && /expects 'int c = 3;' but the file has 'int c = 4;'/.test(e.message));
});

test('mbox: From lines separate patches; Subject lines are kept', () => {
  const mbox = [
    'From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH 1/2] one', '', DIFF,
    'From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH 2/2] two', '',
    DIFF.replace('-\tint c = 3;\n+\tint c = 30;', '-\tint c = 30;\n+\tint c = 300;'),
  ].join('\n');
  const p = parsePatch(mbox);
  assert.deepEqual(p.patches.map((x) => x.subject), ['[PATCH 1/2] one', '[PATCH 2/2] two']);
});

test('a file patched again in one stream starts a new patch (series without mbox separators)', () => {
  const p = parsePatch(`${DIFF}${DIFF}`);
  assert.equal(p.patches.length, 2);
});

test('quoted reply: depth, reviewer text becomes a segment break, a cut-short hunk is noted', () => {
  const mail = ['On Mon, A wrote:', ...DIFF.split('\n').slice(0, 6).map((l) => `> ${l.replace(/\t/g, '        ')}`), '', 'Why?', '', `> ${'+\tint c = 30;'.replace(/\t/g, '        ')}`].join('\n');
  const p = parsePatch(mail);
  assert.equal(p.quoteDepth, 1);
  const h = p.patches[0].files[0].hunks[0];
  assert.equal(h.complete, false);
  assert.deepEqual(h.breaks, [3]);
  assert.match(p.notes[0], /cut short/);
  const r = applyHunks(FILE, [h]);
  assert.match(r.text, /\tint c = 30;/, 'the damaged added line gets its neighbour\'s indentation');
  assert.equal(r.placements[0].whitespace, true);
});

test('whitespace damage: context lines without their leading space are still context while the counts say so', () => {
  const damaged = DIFF.split('\n').map((l) => (l.startsWith(' ') ? l.trim() : l.replace(/^([+-])\t/, '$1 '))).join('\n');
  const p = parsePatch(damaged);
  const h = p.patches[0].files[0].hunks[0];
  assert.equal(h.complete, true);
  assert.equal(h.damaged, true);
  assert.match(applyHunks(FILE, [h]).text, /\tint c = 30;\n/);
});

test('reverse hunks rebuild the old text from the new one', () => {
  const h = parsePatch(DIFF).patches[0].files[0].hunks;
  const after = applyHunks(FILE, h).text;
  assert.equal(applyHunks(after, reverseHunks(h)).text, FILE);
});

test('line diff: removed/added lines of a whole-file change', () => {
  const a = 'a\nb\nc\nd\ne';
  assert.deepEqual(diffLines(a, 'a\nB\nc\nd\nx\ne'), { removed: [2], added: [2, 5] });
  assert.deepEqual(diffLines(a, a), { removed: [], added: [] });
});

test('fuzz never places a hunk on braces and `return true;` alone', () => {
  const file = ['int f(void)', '{', '\tif (x) {', '\t\treturn true;', '\t}', '}', '', 'int g(void)', '{', '\treturn false;', '}', ''].join('\n');
  const diff = ['--- a/x.c', '+++ b/x.c', '@@ -3,5 +3,6 @@', ' \tfoo->realloc_request = request;', ' \treturn true;', ' }', '+\tbar();', ' }', ' ', ''].join('\n');
  const h = parsePatch(diff).patches[0].files[0].hunks;
  assert.throws(() => applyHunks(file, h), (e: unknown) => e instanceof HunkError && /none of its old lines is in the file \(e\.g\. 'foo->realloc_request = request;'\)/.test(e.message));
});
