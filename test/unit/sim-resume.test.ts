// The sweep resumes runs from checkpoints of earlier ones (features/simulate/resume.ts). That is only an optimisation:
// every simulation must come out exactly as when each configuration runs from the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { simulateC, sweepBenchmark } from '../../server/src/features/simulate/index';
import type { ResumeStats } from '../../server/src/features/simulate/resume';
import { FIXTURES } from '../paths';
import { fixtureFunctions } from './fixtures-helper';


test('resuming from checkpoints changes nothing: every function of every fixture and example, whole output', async () => {
  await initParser();
  let functions = 0;
  let resumed = 0;
  for (const { file, doc, name } of fixtureFunctions()) {
    const stats: Partial<ResumeStats> = {};
    // (Concrete runs only: the symbolic sweep, sim-symbolic.test.ts, leaves little to resume.)
    const on = simulateC(doc, { functionName: name, stats, symbolic: false });
    const off = simulateC(doc, { functionName: name, resume: false, symbolic: false });
    assert.deepEqual(on, off, `${file} ${name}`);
    functions++;
    resumed += stats.resumed ?? 0;
  }
  assert.ok(functions > 100, `only ${functions} functions`);
  assert.ok(resumed > 0, 'no run resumed: the comparison tested nothing');
});

test('resuming: a region, a restricted configuration and a clicked row come out the same', async () => {
  await initParser();
  const file = join(FIXTURES, 'sim', 'sync_pdptr_v52.c');
  const doc = analyzeText(readFileSync(file, 'utf8'), 'file:///sync_pdptr_v52.c');
  const variants = [
    { startLine: 12, endLine: 16 },
    { functionName: 'sync_vmcs02_to_vmcs12', config: new Map([['paging', ['pae', '4-level']]]) },
    { functionName: 'sync_vmcs02_to_vmcs12', show: { enable_ept: true, paging: '32-bit' } },
  ];
  for (const v of variants) assert.deepEqual(simulateC(doc, { ...v, symbolic: false }), simulateC(doc, { ...v, resume: false, symbolic: false }), JSON.stringify(v));
  // The hardware events before the function are attributed to its first line.
  const r = simulateC(doc, { functionName: 'sync_vmcs02_to_vmcs12' });
  assert.equal(r.steps[0]?.line, 3, JSON.stringify(r.steps[0]));
});

test('the 2^10 benchmark sweep: symbolic runs split only on the machine variables the model consults, none abandoned', async () => {
  await initParser();
  const b = sweepBenchmark(10);
  assert.equal(b.configurations, 1024);
  // Three machine variables (enable_ept, nested_vnmi, vmwrite_any_field) are opened with the 7 others, and the model
  // never needs their values: the VM entry and exit around the function consult enable_ept only under PAE paging (the
  // PDPTEs), and the function neither VMWRITEs nor touches vNMI state. One symbolic run stands for all 1 024.
  assert.equal(b.split, 0);
  assert.equal(b.symbolic, 1);
  assert.equal(b.aborted, 0);
  assert.equal(b.resumed, 0);
});
