// The symbolic sweep (features/simulate/symbolic.ts) reads every configuration's run off one run per machine
// configuration. That is only an optimisation: every simulation must come out exactly as when each configuration
// runs on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { simulateC, sweepBenchmark } from '../../server/src/features/simulate/index';
import type { ResumeStats } from '../../server/src/features/simulate/resume';
import { cFiles, FIXTURES, ROOT } from '../paths';

test('symbolic sweep changes nothing: every function of every fixture and example, whole output', async () => {
  await initParser();
  const files = [...cFiles(FIXTURES), ...cFiles(join(ROOT, 'examples'))];
  let functions = 0;
  let symbolic = 0;
  let aborted = 0;
  for (const file of files) {
    const doc = analyzeText(readFileSync(file, 'utf8'), `file://${file}`);
    for (const name of new Set(doc.functions.map((f) => f.name))) {
      const stats: Partial<ResumeStats> = {};
      const on = simulateC(doc, { functionName: name, stats });
      const off = simulateC(doc, { functionName: name, symbolic: false });
      assert.deepEqual(on, off, `${file} ${name}`);
      functions++;
      symbolic += stats.symbolic ?? 0;
      aborted += stats.aborted ?? 0;
    }
  }
  assert.ok(functions > 100, `only ${functions} functions`);
  assert.ok(symbolic >= 60, `only ${symbolic} symbolic runs (${aborted} abandoned): the comparison tested little`);
});
