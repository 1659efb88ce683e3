import { readFileSync } from 'node:fs';
import { simulateFlowText, looksLikeFlow } from './server/src/features/simulate/index';
const t = readFileSync('/work/shared/seeds/004_371af2a092aa0e47.txt', 'utf8');
const start = t.indexOf('(G) WRMSR'); const end = t.indexOf('...', start) + 3;
const flow = t.slice(start, end);
console.log(looksLikeFlow(flow), looksLikeFlow(t));
const r = simulateFlowText(flow, { lineOffset: t.slice(0, start).split('\n').length - 1 });
console.log(r.markdown);
