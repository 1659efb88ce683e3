import { readFileSync } from 'node:fs';
import { initParser, analyzeText } from './server/src/analysis/index';
import { simulateC, sweepBenchmark } from './server/src/features/simulate/index';
(async () => {
  await initParser();
  for (const f of process.argv.slice(2)) {
    if (f === 'bench') { console.log(sweepBenchmark(10)); continue; }
    const text = readFileSync(f, 'utf8');
    const doc = analyzeText(text, 'file://' + f);
    const fn = /^(?:static )?void (\w+)/m.exec(text.split('\n').filter(l=>/^(static )?void \w+\(/.test(l))[0])![1];
    const r = simulateC(doc, { functionName: fn });
    console.log('=====', f);
    console.log(r.summary.join('\n'));
    for (const x of r.findings) console.log(`  L${x.line} ${x.severity} ${x.rule}: ${x.message.slice(0, 300)}`);
    if (process.env.MD) console.log(r.markdown);
  }
})();
