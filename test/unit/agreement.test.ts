// `check` and `simulate` agree (issue 10). On every C fixture written for the simulator and the engine: for every
// `check` finding about an undefined value or a bad int_ctl write-back, simulating the function that contains it
// shows the same problem on the same line, and it shows it in EVERY configuration of the minimal condition the
// simulation names for it; and every such simulation finding (warning or above) has a `check` finding on its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText, functionAt, type DocumentAnalysis } from '../../server/src/analysis/document';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import { simulateC } from '../../server/src/features/simulate/index';
import type { SimulationResult } from '../../server/src/protocol/simulation';
import { FIXTURES } from '../paths';

/** check rule → the simulation rules that report the same problem. */
const FAMILIES: Readonly<Record<string, readonly string[]>> = {
  'vmcs-undefined-read': ['undefined-value-copied', 'undefined-value-used'],
  'int-ctl-writeback': ['int-ctl-not-written-back', 'int-ctl-l0-leak', 'int-ctl-writeback-lost'],
};
const SIM_TO_CHECK = new Map(Object.entries(FAMILIES).flatMap(([c, ss]) => ss.map((s) => [s, c] as const)));

function files(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const dir of ['sim', 'engine']) {
    for (const f of readdirSync(join(FIXTURES, dir)).filter((x) => x.endsWith('.c')).sort()) {
      out.push({ name: `${dir}/${f}`, text: readFileSync(join(FIXTURES, dir, f), 'utf8') });
    }
  }
  return out;
}

const lineOf = (doc: DocumentAnalysis, offset: number): number => doc.lines.positionAt(offset).line + 1;

/** `--config` restriction for one cube of a "when a ∧ !b ∧ paging≠pae" condition (the first cube). */
function configOf(when: string): Map<string, Array<boolean | string>> {
  const out = new Map<string, Array<boolean | string>>();
  const cube = when.split(' ∨ ')[0];
  for (const lit of cube.split(' ∧ ')) {
    let m: RegExpExecArray | null;
    if ((m = /^!(\w+)$/.exec(lit))) out.set(m[1], [false]);
    else if ((m = /^(\w+)=(.+)$/.exec(lit))) out.set(m[1], [m[2]]);
    else if ((m = /^(\w+)≠(.+)$/.exec(lit))) out.set(m[1], ['none', '32-bit', 'pae', '4-level'].filter((v) => v !== m![2]));
    else if ((m = /^(\w+)∈\{(.+)\}$/.exec(lit))) out.set(m[1], m[2].split(',').map((v) => (v === 'true' ? true : v === 'false' ? false : v)));
    else if (/^\w+$/.test(lit)) out.set(lit, [true]);
  }
  return out;
}

test('check and simulate agree on undefined values and int_ctl write-back, on every fixture', async () => {
  await initParser();
  let checked = 0;
  for (const { name, text } of files()) {
    const doc = analyzeText(text, `file:///${name}`);
    const sims = new Map<string, SimulationResult>();
    const simOf = (fn: string): SimulationResult => {
      let r = sims.get(fn);
      if (!r) { r = simulateC(doc, { functionName: fn }); sims.set(fn, r); }
      return r;
    };
    const findings = computeDiagnostics(doc).filter((f) => FAMILIES[f.rule]);
    // check → simulate
    for (const f of findings) {
      const fn = functionAt(doc, f.start);
      assert.ok(fn, `${name}: ${f.rule} outside a function`);
      const line = lineOf(doc, f.start);
      const r = simOf(fn.name);
      const same = r.findings.filter((s) => s.line === line && FAMILIES[f.rule].includes(s.rule));
      assert.ok(same.length, `${name}:${line} check ${f.rule} — simulate ${fn.name} shows nothing there:\n${r.findings.map((s) => `${s.line} ${s.rule}`).join('\n')}`);
      // Under the configuration the simulation names for it, every configuration shows it.
      for (const s of same) {
        const when = /— in \d+ of \d+ configurations \(when (.+)\)$/.exec(s.message)?.[1];
        if (!when) continue;
        const cfg = configOf(when);
        const again = simulateC(doc, { functionName: fn.name, config: cfg });
        for (const c of again.configurations ?? []) {
          assert.ok(c.findings.some((x) => x.line === line && x.rule === s.rule),
            `${name}:${line} ${s.rule} names "${when}" but ${JSON.stringify(c.predicates)} does not show it`);
        }
      }
      checked++;
    }
    // simulate → check
    for (const fn of doc.functions) {
      const r = simOf(fn.name);
      for (const s of r.findings) {
        const rule = SIM_TO_CHECK.get(s.rule);
        if (!rule || (s.severity !== 'warning' && s.severity !== 'error')) continue;
        const hit = findings.some((f) => f.rule === rule && lineOf(doc, f.start) <= s.line && s.line <= lineOf(doc, f.end));
        assert.ok(hit, `${name}:${s.line} simulate ${fn.name} ${s.rule} — check has no ${rule} there: ${s.message.slice(0, 200)}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 10, `only ${checked} findings compared`);
});
