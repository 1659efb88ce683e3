// Rule families that follow the hardware (bench/history): nested-writeback and the others added with it, on marker
// fixtures written for kvm-lens in KVM's style.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { initParser } from '../../server/src/analysis/parser';
import { ruleById } from '../../server/src/features/diagnostics';
import { checkFixture, fixtureFiles } from './fixtures-helper';

const RULE_IDS = ['nested-writeback', 'exit-info-synthesis', 'field-width', 'msr-intercept', 'unswitched-state', 'always-provided'];

before(async () => { await initParser(); });

for (const id of RULE_IDS) {
  test(`${id} is registered`, () => {
    assert.ok(ruleById(id), id);
  });
  const files = fixtureFiles(id);
  test(`${id}: has positive and negative fixtures`, () => {
    const texts = files.map((f) => readFileSync(f, 'utf8'));
    assert.ok(texts.some((t) => t.includes(`expect: ${id}`)), 'a positive fixture');
    assert.ok(texts.some((t) => t.includes(`expect-none: ${id}`)), 'a negative fixture');
  });
  for (const f of files) {
    test(`${id}: ${f.split('/').pop()}`, () => {
      for (const x of checkFixture(f, id)) {
        assert.ok(x.message.length <= 160, `short message: ${x.message}`);
        assert.match(x.source, /SDM|APM|Linux/, 'cites its source');
      }
    });
  }
}
