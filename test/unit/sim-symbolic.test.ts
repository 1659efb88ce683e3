// The symbolic sweep (features/simulate/symbolic.ts) reads many configurations' runs off one run that leaves sweep
// variables open. That is only an optimisation: every simulation must come out exactly as when each configuration
// runs on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { simulateC } from '../../server/src/features/simulate/index';
import type { ResumeStats } from '../../server/src/features/simulate/resume';
import { fixtureFunctions } from './fixtures-helper';

test('symbolic sweep changes nothing: every function of every fixture and example, whole output', async () => {
  await initParser();
  let functions = 0;
  let symbolic = 0;
  let aborted = 0;
  for (const { file, doc, name } of fixtureFunctions()) {
    const stats: Partial<ResumeStats> = {};
    const on = simulateC(doc, { functionName: name, stats });
    const off = simulateC(doc, { functionName: name, symbolic: false });
    assert.deepEqual(on, off, `${file} ${name}`);
    functions++;
    symbolic += stats.symbolic ?? 0;
    aborted += stats.aborted ?? 0;
  }
  assert.ok(functions > 100, `only ${functions} functions`);
  assert.ok(symbolic >= 60, `only ${symbolic} symbolic runs (${aborted} abandoned): the comparison tested little`);
});
